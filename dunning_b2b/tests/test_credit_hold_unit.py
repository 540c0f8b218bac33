from odoo.tests import BaseCase, tagged

from ..engine import (
    CLEARED_BELOW,
    CLEARED_COVERED,
    CLEARED_CREDITED,
    CLEARED_MINIMUM,
    CLEARED_PAID,
    CLEARED_RELEASED,
    HeldInvoice,
    HoldStage,
    cumulative_hold,
    decide_hold,
    decide_lift,
    is_key_account,
    over_credit_limit,
    revenue_share,
    strongest_rule,
)

# The standard ladder's hold rules.
PRE_DUE = HoldStage(1, -7, "none")
FOLLOW_UP = HoldStage(2, 1, "none")
FORMAL = HoldStage(3, 16, "propose")
ESCALATION = HoldStage(4, 46, "apply")
FINAL = HoldStage(5, 91, "none")


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

    def test_strongest_rule(self):
        self.assertEqual(strongest_rule(["none", "apply", "propose"]), "apply")
        self.assertEqual(strongest_rule(["propose", "none"]), "propose")
        self.assertEqual(strongest_rule(["none"]), "none")
        self.assertEqual(strongest_rule([]), "none")

    def test_cumulative_hold_of_skipped_stages(self):
        # First seen 100 days late: final resolution holds nobody, the skipped escalation does.
        self.assertEqual(
            cumulative_hold([FINAL, PRE_DUE, FOLLOW_UP, FORMAL, ESCALATION]), ESCALATION
        )
        # First seen 60 days late: escalation itself applies.
        self.assertEqual(cumulative_hold([ESCALATION, PRE_DUE, FOLLOW_UP, FORMAL]), ESCALATION)
        self.assertEqual(cumulative_hold([FORMAL, PRE_DUE, FOLLOW_UP]), FORMAL)
        self.assertIsNone(cumulative_hold([FOLLOW_UP, PRE_DUE]))
        self.assertIsNone(cumulative_hold([]))

    def test_cumulative_hold_prefers_the_stronger_rule_to_the_later_stage(self):
        # A ladder whose last stage only proposes: a line that skipped an applying stage is
        # still held.
        late_proposal = HoldStage(6, 120, "propose")
        self.assertEqual(cumulative_hold([late_proposal, ESCALATION, FORMAL]), ESCALATION)
        # Of equally strong rules, the latest stage.
        other_apply = HoldStage(7, 60, "apply")
        self.assertEqual(cumulative_hold([ESCALATION, other_apply]), other_apply)

    def test_credits_and_tolerance_clear_a_hold(self):
        covered = [held(1, 91, covered=True)]
        self.assertEqual(decide_lift(False, 46, covered), (True, (CLEARED_COVERED,)))
        small = [held(1, 91, below_minimum=True)]
        self.assertEqual(decide_lift(False, 46, small), (True, (CLEARED_MINIMUM,)))
