from datetime import timedelta

from odoo.tests import tagged

from .common import RUN_DATE
from .lines_common import LinesMixin
from .test_credit_hold import CreditHoldCommon


@tagged("post_install", "-at_install")
class TestCreditHoldLines(LinesMixin, CreditHoldCommon):
    """Holds decided on receivable lines: cumulative stage rules, credits netted."""

    def test_first_seen_at_100_days_is_held_like_a_walked_invoice(self):
        # The standard ladder holds at escalation (46 days); final resolution (91) does not.
        move = self._invoice(self.customer, 100, 1000)
        stats = self._run()
        self.assertEqual(move.dunning_level_id, self.final, "enters final resolution directly")
        self.assertEqual(stats["holds_set"], 1)
        hold = self._hold()
        self.assertEqual(
            (hold.state, hold.origin, hold.level_id), ("active", "stage", self.escalation)
        )
        self.assertTrue(self.customer.credit_hold)
        self.assertIn(move.name, hold.reason)
        self.assertIn(self.final.name, hold.reason)
        self.assertIn(self.escalation.name, hold.reason)
        # Still held the next day: the line at final resolution is beyond escalation.
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertEqual(hold.state, "active")

    def test_instalment_first_seen_at_60_days_is_held(self):
        # Invoiced 90 days ago: the first half fell due 60 days ago, the second is due today
        # (the invoice's header due date).
        move = self._instalment_invoice(self.customer, RUN_DATE - timedelta(days=90), 1000)
        self.assertEqual(move.invoice_date_due, RUN_DATE)
        self._run()
        hold = self._hold()
        self.assertEqual((hold.state, hold.level_id), ("active", self.escalation))
        self.assertEqual(hold.move_ids, move)
        receivable = move.line_ids.filtered(lambda aml: aml.account_type == "asset_receivable")
        self.assertEqual(hold.line_ids, receivable, "both instalments are open")
        self.assertIn(f"{move.name}, instalment 1 of 2 reached {self.escalation.name}", hold.reason)

    def test_credit_note_covering_the_overdue_invoice_holds_nobody(self):
        self._invoice(self.customer, 50, 1000)
        self._credit_note(self.customer, 1000)
        stats = self._run()
        self.assertFalse(stats["holds_set"] or stats["holds_proposed"])
        self.assertFalse(self._hold())
        self.assertFalse(self.customer.credit_hold)

    def test_credit_note_covering_part_still_holds(self):
        self._invoice(self.customer, 50, 1000)
        self._credit_note(self.customer, 400)
        self._run()
        self.assertEqual(self._hold().state, "active")

    def test_credit_in_another_currency_nets_nothing(self):
        other = self.setup_other_currency("EUR")
        self._invoice(self.customer, 50, 1000)
        self._credit_note(self.customer, 5000, currency=other)
        self._run()
        self.assertEqual(self._hold().state, "active")

    def test_net_overdue_below_the_minimum_holds_nobody(self):
        self.policy.minimum_amount = 50.0
        move = self._invoice(self.customer, 50, 1000)
        self._pay(move, 970)  # 30.00 left, below the 50.00 tolerance
        self._run()
        self.assertFalse(self._hold())

    def test_hold_lifted_when_an_open_credit_comes_to_cover_the_overdue(self):
        self._invoice(self.customer, 50, 1000)
        self._run()
        hold = self._hold()
        self.assertEqual(hold.state, "active")
        self._credit_note(self.customer, 1000, days_ago=0)
        stats = self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertEqual(stats["holds_lifted"], 1)
        self.assertEqual(hold.state, "lifted")
        self.assertIn("open credits", self._partner_events("hold_lifted").note)

    def test_credit_limit_exposure_is_net_of_credits(self):
        self.company.account_use_credit_limit = True
        self.company.dunning_credit_limit_hold = "apply"
        self.customer.credit_limit = 500.0
        self._invoice(self.customer, 5, 1000)
        refund = self._credit_note(self.customer, 700)
        self._run()
        self.assertFalse(self._hold(), "1,000.00 less 700.00 of credit is under 500.00")
        # Once the credit is used elsewhere, the customer is over its limit.
        refund.button_draft()
        self._run(run_date=RUN_DATE + timedelta(days=1))
        hold = self._hold()
        self.assertEqual((hold.state, hold.origin), ("active", "credit_limit"))
        self.assertIn("1,000.00", hold.reason)
