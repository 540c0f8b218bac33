from datetime import timedelta

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, freeze_time, tagged

from .common import RUN_DATE
from .test_credit_hold import CreditHoldCommon


@tagged("post_install", "-at_install")
class TestDisputeOutcome(CreditHoldCommon):
    """A dispute's owner (by default the salesperson) closed it as "credit note issued"
    without any credit note, which lifted the customer's hold. A dispute closed in the
    customer's favour lifts a hold only when a credit note or a correction of the invoice
    exists; otherwise the lift is a manager's decision."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Reason = cls.env["dunning.dispute.reason"]
        Reason.search([("company_id", "=", cls.company.id)]).unlink()
        Reason.create({"reason": "pricing", "owner_type": "salesperson", "sla_days": 10})

    def setUp(self):
        super().setUp()
        self.move = self._invoice(self.customer, 50, 1000)
        self.move.invoice_user_id = self.salesperson
        self._run()
        self.hold = self._hold(states=("active",))
        self.assertEqual(self.hold.origin, "stage")
        with freeze_time(RUN_DATE):
            self.dispute = (
                self.env["dunning.dispute"]
                .with_user(self.collector)
                .create({"move_id": self.move.id, "reason": "pricing"})
            )
        self.assertEqual(self.dispute.owner_id, self.salesperson)

    def _resolve(self, outcome, user=None):
        """The owner resolves the dispute with the dialog, as in the browser."""
        user = user or self.salesperson
        with freeze_time(RUN_DATE):
            action = self.dispute.with_user(user).action_resolve()
            wizard = Form(
                self.env[action["res_model"]].with_user(user).with_context(**action["context"])
            )
            wizard.outcome = outcome
            wizard.note = "Price list error on our side"
            wizard.save().action_confirm()

    def _next_day(self):
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.customer.invalidate_recordset()

    def _credit_note_of(self, amount, post=True):
        """A credit note of ``amount`` reversing part of the disputed invoice."""
        refund = self.move._reverse_moves([{"invoice_date": RUN_DATE, "ref": "Price fix"}])
        refund.invoice_line_ids.price_unit = amount
        if post:
            refund.action_post()
        return refund

    def test_credit_note_issued_without_a_credit_note_is_refused(self):
        with self.assertRaisesRegex(UserError, "no posted credit note") as caught:
            self._resolve("credit_note")
        self.assertIn(self.move.name, str(caught.exception))
        self.assertIn("Create Credit Note", str(caught.exception))
        self.assertEqual(self.dispute.state, "open")
        # A draft credit note is not one yet.
        self._credit_note_of(200, post=False)
        with self.assertRaisesRegex(UserError, "still a draft"):
            self._resolve("credit_note")
        self._next_day()
        self.assertEqual(self.hold.state, "active")
        self.assertTrue(self.customer.credit_hold)

    def test_credit_note_issued_then_resolved_lifts_the_hold(self):
        self._credit_note_of(200)
        self._resolve("credit_note")
        self.assertEqual((self.dispute.state, self.dispute.outcome), ("resolved", "credit_note"))
        self._next_day()
        self.assertEqual(self.hold.state, "lifted")
        self.assertFalse(self.customer.credit_hold)
        self.assertIn("in the customer's favour", self._partner_events("hold_lifted").note)

    def test_a_refund_reconciled_with_the_invoice_is_a_credit_note(self):
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": RUN_DATE,
                "invoice_line_ids": [
                    Command.create({"name": "Price fix", "price_unit": 300, "tax_ids": []})
                ],
            }
        )
        refund.action_post()
        line = refund.line_ids.filtered(lambda ln: ln.account_type == "asset_receivable")
        self.move.js_assign_outstanding_line(line.id)
        self.assertEqual(self.move.amount_residual, 700)
        self._resolve("credit_note")
        self._next_day()
        self.assertEqual(self.hold.state, "lifted")

    def test_resolved_without_any_correction_proposes_the_lift_to_a_manager(self):
        self._resolve("corrected")
        self.assertEqual((self.dispute.state, self.dispute.outcome), ("resolved", "corrected"))
        self._next_day()
        self.assertEqual(self.hold.state, "active", "not lifted without a correction")
        self.assertTrue(self.customer.credit_hold)
        (event,) = self._partner_events("hold_lift_proposed")
        self.assertIn(self.move.name, event.note)
        self.assertEqual(event.user_id, self.salesperson)
        task = self.hold.activity_ids.filtered(lambda a: "lift" in (a.summary or "").lower())
        self.assertIn(self.manager, task.user_id)
        self.assertNotIn(self.salesperson, task.user_id)
        # A correction made afterwards releases the invoice at the next run.
        self._credit_note_of(100)
        self._run(run_date=RUN_DATE + timedelta(days=2))
        self.assertEqual(self.hold.state, "lifted")

    def test_an_invoice_corrected_in_place_is_a_correction(self):
        self.move.button_draft()
        self.move.invoice_line_ids.price_unit = 800
        self.move.action_post()
        self._resolve("corrected")
        self._next_day()
        self.assertEqual(self.hold.state, "lifted")
        self.assertFalse(self._partner_events("hold_lift_proposed"))
