import ast
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, freeze_time, new_test_user, tagged

from .common import RUN_DATE, DunningCommon


class CreditHoldCommon(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A large customer with a recent invoice not yet due: Acme stays a small account.
        cls.big = cls._customer("Big Buyer", "ap@big.test")
        cls._invoice(cls.big, -30, 100000)
        cls.salesperson = new_test_user(
            cls.env,
            login="seller",
            name="Sam Seller",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _hold(self, partner=None, states=("proposed", "active")):
        return self.env["dunning.credit.hold"].search(
            [("partner_id", "=", (partner or self.customer).id), ("state", "in", states)]
        )

    def _partner_events(self, event_type, partner=None):
        return self.env["dunning.event"].search(
            [("partner_id", "=", (partner or self.customer).id), ("event_type", "=", event_type)]
        )

    def _set_by_hand(self, user, partner=None, reason="Bounced cheques"):
        wizard = Form(
            self.env["dunning.credit.hold.decide"]
            .with_user(user)
            .with_context(default_partner_id=(partner or self.customer).id, default_decision="set")
        )
        wizard.reason = reason
        with freeze_time(RUN_DATE):
            wizard.save().action_confirm()


@tagged("post_install", "-at_install")
class TestCreditHold(CreditHoldCommon):
    """Holds proposed or applied by the ladder, decided and lifted by managers."""

    def test_formal_notice_proposes_a_hold(self):
        move = self._invoice(self.customer, 20, 800)
        stats = self._run()
        self.assertEqual(move.dunning_level_id, self.formal)
        self.assertEqual(stats["holds_proposed"], 1)
        hold = self._hold()
        self.assertEqual(hold.state, "proposed")
        self.assertEqual(hold.level_id, self.formal)
        self.assertEqual(hold.move_ids, move)
        self.assertFalse(self.customer.credit_hold, "a proposal does not hold the customer")
        self.assertTrue(self.customer.credit_hold_proposed)
        self.assertIn(self.manager, hold.activity_ids.user_id, "managers get a task to decide")
        to_decide = self.env.ref("dunning_b2b.dunning_credit_hold_action_to_decide")
        self.assertIn(
            hold, self.env["dunning.credit.hold"].search(ast.literal_eval(to_decide.domain))
        )
        self.assertEqual(len(self._partner_events("hold_proposed")), 1)

    def test_escalation_applies_a_hold(self):
        move = self._invoice(self.customer, 50, 1000)
        stats = self._run()
        self.assertEqual(stats["holds_set"], 1)
        hold = self._hold()
        self.assertEqual(hold.state, "active")
        self.assertEqual((hold.origin, hold.level_id), ("stage", self.escalation))
        self.assertFalse(hold.key_account)
        partner = self.customer
        self.assertTrue(partner.credit_hold)
        self.assertEqual(partner.credit_hold_date, RUN_DATE)
        self.assertIn(move.name, partner.credit_hold_reason)
        self.assertIn(self.escalation.name, partner.credit_hold_reason)
        self.assertEqual(
            partner.credit_hold_banner,
            f"Credit hold since 03/02/2026: {partner.credit_hold_reason}. "
            "Contact Colette Collector.",
        )
        (event,) = self._partner_events("hold_set")
        self.assertEqual(event.level_id, self.escalation)
        self.assertIn(partner.credit_hold_reason, partner.message_ids[0].body)
        self.assertTrue(move.credit_hold)
        self.assertEqual(move.credit_hold_banner, partner.credit_hold_banner)
        # Contacts of the customer carry its hold.
        contact = self.env["res.partner"].create({"name": "Buyer", "parent_id": partner.id})
        self.assertTrue(contact.credit_hold)
        self.assertIn(partner, self.env["res.partner"].search([("credit_hold", "=", True)]))
        self.assertNotIn(self.big, self.env["res.partner"].search([("credit_hold", "=", True)]))

    def test_second_run_changes_nothing(self):
        self._invoice(self.customer, 50, 1000)
        self._run()
        stats = self._run()
        self.assertFalse(stats["holds_set"] or stats["holds_proposed"])
        self.assertEqual(len(self._partner_events("hold_set")), 1)

    def test_later_stage_applies_an_open_proposal(self):
        move = self._invoice(self.customer, 40, 1000)
        self._run()
        proposal = self._hold()
        self.assertEqual(proposal.state, "proposed")
        self._run(run_date=RUN_DATE + timedelta(days=6))
        self.assertEqual(move.dunning_level_id, self.escalation)
        self.assertEqual(self._hold(), proposal)
        self.assertEqual(proposal.state, "active")
        self.assertEqual(proposal.level_id, self.escalation)
        self.assertFalse(proposal.activity_ids, "the decision task is closed")

    def test_key_account_gets_a_proposal_instead_of_a_hold(self):
        self._invoice(self.customer, 50, 60000)  # 60,000 of 160,000: 37.5 %
        self._run()
        hold = self._hold()
        self.assertEqual(hold.state, "proposed")
        self.assertTrue(hold.key_account)
        self.assertAlmostEqual(hold.revenue_share, 37.5, places=1)
        self.assertIn("Key account (37.5% of revenue)", self._partner_events("hold_proposed").note)
        self.assertIn("Key account", hold.activity_ids[:1].note)
        self.assertFalse(self.customer.credit_hold)
        with self.assertRaises(AccessError):
            hold.with_user(self.collector).action_apply()
        hold.with_user(self.manager).action_apply()
        self.assertEqual(hold.state, "active")
        self.assertEqual(hold.decided_by_id, self.manager)
        self.assertTrue(self.customer.credit_hold)

    def test_key_account_proposal_follows_the_ladder(self):
        self._invoice(self.customer, 40, 60000)
        self._run()
        proposal = self._hold()
        self.assertEqual((proposal.state, proposal.level_id), ("proposed", self.formal))
        self._run(run_date=RUN_DATE + timedelta(days=6))
        self.assertEqual((proposal.state, proposal.level_id), ("proposed", self.escalation))
        self.assertIn(self.escalation.name, proposal.reason)
        self.assertIn("Key account", proposal.message_ids[0].body)
        self.assertFalse(self.customer.credit_hold)
        self.assertEqual(len(self._partner_events("hold_proposed")), 1)

    def test_key_account_flagged_by_hand(self):
        self.customer.dunning_key_account = True
        self._invoice(self.customer, 50, 1000)
        self._run()
        self.assertEqual(self._hold().state, "proposed")
        self.assertTrue(self._hold().key_account)

    def test_threshold_is_a_company_setting(self):
        self.company.dunning_key_account_threshold = 50.0
        self._invoice(self.customer, 50, 60000)
        self._run()
        self.assertEqual(self._hold().state, "active", "37.5 % is below a 50 % threshold")

    def test_proposal_applied_in_the_decision_wizard(self):
        self._invoice(self.customer, 20, 800)
        self._run()
        hold = self._hold()
        wizard = Form(
            self.env["dunning.credit.hold.decide"]
            .with_user(self.manager)
            .with_context(default_partner_id=self.customer.id, default_decision="apply")
        ).save()
        self.assertEqual(wizard.hold_id, hold)
        wizard.action_confirm()
        self.assertEqual(hold.state, "active")
        self.assertEqual(hold.decided_by_id, self.manager)
        self.assertTrue(self.customer.credit_hold)
        self.assertEqual(self.customer.credit_hold_level_id, self.formal)

    def test_rejected_proposal(self):
        self._invoice(self.customer, 20, 800)
        self._run()
        hold = self._hold()
        hold.with_user(self.manager).action_reject()
        self.assertEqual(hold.state, "rejected")
        self.assertFalse(self.customer.credit_hold)
        self.assertEqual(self._partner_events("hold_rejected").user_id, self.manager)

    def test_automatic_lift_when_paid(self):
        """The registered payment lifts the hold at once, not at the next run (issue 11)."""
        move = self._invoice(self.customer, 50, 1000)
        self._run()
        hold = self._hold()
        with freeze_time(RUN_DATE + timedelta(days=1)):
            self._pay(move, 1000)
        self.assertEqual(hold.state, "lifted")
        stats = self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertFalse(stats["holds_lifted"])
        self.assertEqual(hold.date_end, RUN_DATE + timedelta(days=1))
        self.assertFalse(self.customer.credit_hold)
        (event,) = self._partner_events("hold_lifted")
        self.assertIn("Lifted automatically", event.note)
        self.assertIn("paid", event.note)

    def test_automatic_lift_when_credited(self):
        move = self._invoice(self.customer, 50, 1000)
        self._run()
        move._reverse_moves([{"invoice_date": RUN_DATE}], cancel=True)
        self.assertEqual(move.payment_state, "reversed")
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertFalse(self.customer.credit_hold)
        self.assertIn("credit note", self._partner_events("hold_lifted").note)

    def test_automatic_lift_when_a_dispute_is_resolved_for_the_customer(self):
        move = self._invoice(self.customer, 50, 1000)
        self._run()
        self.assertTrue(self._hold())
        dispute = self.env["dunning.dispute"].create(
            {"move_id": move.id, "reason": "pricing", "owner_id": self.collector.id}
        )
        # The correction: a credit note for the price difference (without one, a manager
        # decides the lift: test_dispute_outcome.py).
        refund = move._reverse_moves([{"invoice_date": RUN_DATE}])
        refund.invoice_line_ids.price_unit = 100
        refund.action_post()
        dispute._close("resolve", "corrected", "Price list error on our side")
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertFalse(self.customer.credit_hold)
        self.assertIn("in the customer's favour", self._partner_events("hold_lifted").note)

    def test_no_lift_while_another_invoice_is_beyond_the_stage(self):
        first = self._invoice(self.customer, 50, 1000)
        self._invoice(self.customer, 95, 500)
        self._run()
        self._pay(first, 1000)
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertTrue(self.customer.credit_hold)

    def test_proposal_withdrawn_when_paid(self):
        move = self._invoice(self.customer, 20, 800)
        self._run()
        hold = self._hold()
        self._pay(move, 800)
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertEqual(hold.state, "withdrawn")
        self.assertFalse(hold.activity_ids)
        self.assertTrue(self._partner_events("hold_withdrawn"))

    def test_manual_hold_is_never_lifted_automatically(self):
        self._set_by_hand(self.manager)
        hold = self._hold()
        self.assertEqual(
            (hold.state, hold.origin, hold.user_id), ("active", "manager", self.manager)
        )
        self.assertTrue(self.customer.credit_hold)
        self.assertEqual(self.customer.credit_hold_reason, "Bounced cheques")
        self.assertEqual(self._partner_events("hold_set").user_id, self.manager)
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertEqual(hold.state, "active")
        # A manager lifts it, with a reason.
        wizard = Form(
            self.env["dunning.credit.hold.decide"]
            .with_user(self.manager)
            .with_context(default_partner_id=self.customer.id, default_decision="lift")
        )
        wizard.reason = "Paid in cash"
        wizard.save().action_confirm()
        self.assertEqual(hold.state, "lifted")
        self.assertEqual(hold.lift_user_id, self.manager)
        self.assertIn("Paid in cash", self._partner_events("hold_lifted").note)
        self.assertIn("Paid in cash", self.customer.message_ids[0].body)

    def test_credit_limit_hold(self):
        self.company.account_use_credit_limit = True
        self.company.dunning_credit_limit_hold = "apply"
        self.customer.credit_limit = 500.0
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        hold = self._hold()
        self.assertEqual((hold.state, hold.origin), ("active", "credit_limit"))
        self.assertIn("exceed the credit limit", hold.reason)
        self.assertTrue(self.customer.credit_hold)
        self.assertFalse(self._hold(self.big), "Big Buyer has no credit limit")
        row = self.env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        self.assertTrue(row.credit_hold)
        # The payment lifts the hold at once, and the worklist row says so (issue 11).
        with freeze_time(RUN_DATE + timedelta(days=1)):
            self._pay(move, 600)
        self.assertEqual(hold.state, "lifted")
        self.assertIn("back under the credit limit", self._partner_events("hold_lifted").note)
        self.assertFalse(row.credit_hold)

    def test_credit_limit_holds_nobody_unless_asked(self):
        self.company.account_use_credit_limit = True
        self.customer.credit_limit = 500.0
        self._invoice(self.customer, 5, 1000)
        self._run()
        self.assertFalse(self._hold())

    def test_manual_hold_needs_a_reason(self):
        with self.assertRaisesRegex(UserError, "Reason"):
            self.env["dunning.credit.hold"].with_user(self.manager)._set_by_manager(
                self.customer, " "
            )


@tagged("post_install", "-at_install")
class TestCreditHoldAccess(CreditHoldCommon):
    """Everybody internal sees the hold; only dunning managers change it."""

    def test_sales_user_sees_the_banner_but_cannot_lift(self):
        self._invoice(self.customer, 50, 1000)
        self._run()
        partner = self.customer.with_user(self.salesperson)
        self.assertTrue(partner.credit_hold)
        self.assertIn("Credit hold since", partner.credit_hold_banner)
        self.assertIn("Contact Colette Collector", partner.credit_hold_banner)
        arch = partner.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="credit_hold_banner"', arch)
        self.assertIn('class="alert alert-danger"', arch)
        self.assertNotIn("action_credit_hold_lift", arch, "no lift button for sales users")
        with self.assertRaises(AccessError):
            partner.action_credit_hold_lift()
        with self.assertRaises(AccessError):
            self.env["dunning.credit.hold.decide"].with_user(self.salesperson).create(
                {"partner_id": self.customer.id, "decision": "lift", "reason": "Friend"}
            )
        with self.assertRaises(AccessError):
            self._hold().with_user(self.salesperson)._lift_by_manager("Friend")
        self.assertTrue(self.customer.credit_hold)

    def test_invoicing_user_sees_the_banner_on_invoices(self):
        move = self._invoice(self.customer, 50, 1000)
        self._run()
        as_user = move.with_user(self.invoicing_user)
        self.assertTrue(as_user.credit_hold)
        self.assertIn("Credit hold since", as_user.credit_hold_banner)
        arch = as_user.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="credit_hold_banner"', arch)

    def test_collectors_cannot_set_or_lift(self):
        with self.assertRaises(AccessError):
            self._set_by_hand(self.collector)
        with self.assertRaises(AccessError):
            self.customer.with_user(self.collector).action_credit_hold_set()
        self.assertFalse(self.customer.credit_hold)
        self._set_by_hand(self.manager)
        with self.assertRaises(AccessError):
            self._hold().with_user(self.collector)._lift_by_manager("Nice people")
        self.assertTrue(self.customer.credit_hold)

    def test_hold_is_per_company(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        self._invoice(self.customer, 50, 1000)
        self._run()
        self.assertTrue(self.customer.credit_hold)
        self.assertFalse(self.customer.with_company(company_b).credit_hold)
        self.assertFalse(
            self.env["res.partner"]
            .with_company(company_b)
            .search([("credit_hold", "=", True), ("id", "=", self.customer.id)])
        )
