from datetime import timedelta

from odoo.exceptions import ValidationError
from odoo.tests import freeze_time, tagged

from .common import RUN_DATE
from .conversations_common import ConversationCommon
from .lines_common import LinesMixin


@tagged("post_install", "-at_install")
class TestPromiseLines(LinesMixin, ConversationCommon):
    """Promises and disputes cover the open receivable lines of their invoices."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Invoiced 40 days ago: 500 due 10 days ago, 500 due in 50 days (the header's date).
        cls.move = cls._instalment_invoice(cls.customer, RUN_DATE - timedelta(days=40), 2000)
        cls.first, cls.second = cls.move.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).sorted("date_maturity")

    def test_promise_cannot_exceed_the_open_instalment(self):
        self._pay(self.move, 1000)
        self.assertTrue(self.first.reconciled, "the payment settled the first instalment")
        with self.assertRaises(ValidationError) as caught:
            self._promise(self.move, 1200, 10)
        message = str(caught.exception)
        self.assertIn("is more than the", message)
        self.assertIn(f"{self.move.name}, instalment 2 of 2, due 04/21/2026", message)
        self.assertIn(self.move.currency_id.format(1000), message)

        promise = self._promise(self.move, 1000, 10)
        self.assertEqual(promise.line_ids, self.second)
        self.assertEqual(promise.amount_open, 1000)
        self.assertEqual(promise.amount_open_start, 1000)

    def test_broken_promise_lists_the_open_instalments(self):
        promise = self._promise(self.move, 1500, 5)
        self.assertEqual(promise.line_ids, self.first | self.second)
        self.assertEqual(promise.amount_open, 2000)
        (event,) = self._events(self.move, "promise")
        self.assertEqual(event.days_overdue, 10, "the oldest open instalment's age")
        self.assertEqual(event.amount_residual, 2000)
        self._pay(self.move, 1000)
        promise.invalidate_recordset(["amount_open", "amount_remaining", "line_ids"])
        self.assertEqual(promise.line_ids, self.second)
        self.assertEqual(promise.amount_remaining, 500)
        with freeze_time(self._day(6)):
            self._run(run_date=self._day(6))
        self.assertEqual((promise.state, promise.amount_paid), ("broken", 1000))
        task = self.customer.activity_ids.filtered(lambda a: "Promise broken" in a.summary)
        self.assertIn("instalment 2 of 2, due 04/21/2026", str(task.note))
        self.assertNotIn("instalment 1 of 2", str(task.note), "the paid one is not listed")

    def test_promise_kept_when_the_instalments_are_paid(self):
        promise = self._promise(self.move, 2000, 5)
        self._pay(self.move, 2000)
        self._run(run_date=self._day(1))
        self.assertEqual((promise.state, promise.amount_paid), ("kept", 2000))

    def test_dispute_amount_and_age_from_the_lines(self):
        dispute = self._dispute(self.move)
        self.assertEqual(dispute.amount_residual, 2000)
        (event,) = self._events(self.move, "dispute")
        self.assertEqual(event.days_overdue, 10, "the oldest open instalment's age")
        self._pay(self.move, 1000)
        dispute.invalidate_recordset(["amount_residual"])
        self.assertEqual(dispute.amount_residual, 1000)
