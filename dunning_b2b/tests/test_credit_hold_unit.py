from odoo.tests import BaseCase, tagged

from ..engine import (
    CLEARED_BELOW,
    CLEARED_CREDITED,
    CLEARED_PAID,
    CLEARED_RELEASED,
    HeldInvoice,
    decide_hold,
    decide_lift,
    is_key_account,
    over_credit_limit,
    revenue_share,
)


def held(move_id, offset, open_=True, **kwargs):
    return HeldInvoice(move_id=move_id, open=open_, stage_offset=offset, **kwargs)


@tagged("post_install", "-at_install")
class TestCreditHoldUnit(BaseCase):
    """The pure credit hold rules, without a database."""

    def test_revenue_share(self):
        self.assertEqual(revenue_share(150.0, 1000.0), 0.15)
        self.assertEqual(revenue_share(150.0, 0.0), 0.0)
        self.assertEqual(revenue_share(-20.0, 1000.0), 0.0, "net credit notes weigh nothing")

    def test_key_account(self):
        self.assertTrue(is_key_account(0.15, 10.0))
        self.assertFalse(is_key_account(0.10, 10.0), "above the threshold, not at it")
        self.assertFalse(is_key_account(0.05, 10.0))
        self.assertTrue(is_key_account(0.01, 10.0, flagged=True))
        self.assertFalse(is_key_account(0.9, 0.0), "a threshold of 0 turns the rule off")

    def test_over_credit_limit(self):
        self.assertTrue(over_credit_limit(1000.0, 500.0))
        self.assertFalse(over_credit_limit(500.0, 500.0))
        self.assertFalse(over_credit_limit(1000.0, 0.0), "no limit set")

    def test_decide_hold(self):
        cases = [
            # rule, key account, current open hold -> action
            ("none", False, None, None),
            ("propose", False, None, "propose"),
            ("propose", True, None, "propose"),
            ("apply", False, None, "apply"),
            ("apply", True, None, "propose"),
            ("apply", False, "proposed", "apply"),
            ("apply", True, "proposed", None),
            ("propose", False, "proposed", None),
            ("apply", False, "active", None),
            ("propose", False, "active", None),
        ]
        for rule, key, current, expected in cases:
            with self.subTest(rule=rule, key=key, current=current):
                self.assertEqual(decide_hold(rule, key, current), expected)

    def test_lift_when_nothing_holds_any_more(self):
        lift, reasons = decide_lift(
            False, 46, [held(1, 46, False, payment_state="paid"), held(2, 16)]
        )
        self.assertTrue(lift)
        self.assertEqual(reasons, (CLEARED_PAID, CLEARED_BELOW))

    def test_no_lift_while_an_invoice_holds(self):
        invoices = [held(1, 46, False, payment_state="paid"), held(2, 91)]
        self.assertEqual(decide_lift(False, 46, invoices), (False, ()))

    def test_never_lift_a_manual_hold(self):
        self.assertEqual(decide_lift(True, 46, []), (False, ()))
        self.assertEqual(decide_lift(False, None, []), (False, ()))

    def test_credited_and_released_invoices(self):
        invoices = [
            held(1, 46, False, payment_state="reversed"),
            held(2, 46, released=True),
        ]
        lift, reasons = decide_lift(False, 46, invoices)
        self.assertTrue(lift)
        self.assertEqual(reasons, (CLEARED_CREDITED, CLEARED_RELEASED))
