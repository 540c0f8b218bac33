from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, freeze_time, tagged

from .common import RUN_DATE
from .conversations_common import ConversationCommon


@tagged("post_install", "-at_install")
class TestDisputes(ConversationCommon):
    """A dispute pauses its invoice, goes to an owner with a deadline, and escalates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.warehouse = cls.manager  # someone to own "not received" disputes
        Reason = cls.env["dunning.dispute.reason"]
        Reason.search([("company_id", "=", cls.company.id)]).unlink()
        cls.pricing_config = Reason.create(
            {"reason": "pricing", "owner_type": "salesperson", "sla_days": 10}
        )
        cls.received_config = Reason.create(
            {
                "reason": "not_received",
                "owner_type": "user",
                "owner_id": cls.warehouse.id,
                "sla_days": 4,
            }
        )

    def _sold_by(self, move, user):
        move.invoice_user_id = user
        return move

    def test_dispute_pauses_that_invoice_only_and_resumes(self):
        disputed = self._sold_by(self._invoice(self.customer, 5, 1000), self.salesperson)
        other = self._invoice(self.customer, 5, 300)
        self._run()
        dispute = self._dispute(disputed, "pricing", description="Price list of 2025 applies")
        self.assertEqual(dispute.partner_id, self.customer)
        self.assertEqual(dispute.state, "open")
        (opened,) = self._events(disputed, "dispute")
        self.assertEqual(opened.dispute_id, dispute)
        self.assertIn("Dunning of this invoice is paused", self._bodies(disputed))

        self._run(run_date=self._day(11))
        self.assertEqual(disputed.dunning_level_id, self.follow_up)
        self.assertEqual(other.dunning_level_id, self.formal)
        with freeze_time(self._day(11)):
            disputed.invalidate_recordset(["dunning_paused_reason"])
            self.assertEqual(disputed.dunning_paused_reason, "open dispute (Pricing)")

        # Accounting issues the credit note for the price difference; the owner, a
        # salesperson who may only read disputes, resolves the dispute.
        refund = disputed._reverse_moves([{"invoice_date": self._day(12)}])
        refund.invoice_line_ids.price_unit = 100
        refund.action_post()
        with freeze_time(self._day(12)):
            action = dispute.with_user(self.salesperson).action_resolve()
            wizard = Form(
                self.env[action["res_model"]]
                .with_user(self.salesperson)
                .with_context(**action["context"])
            )
            wizard.outcome = "credit_note"
            wizard.note = "Credit note for the price difference"
            wizard.save().action_confirm()
        self.assertEqual(dispute.state, "resolved")
        self.assertEqual(dispute.outcome, "credit_note")
        self.assertEqual(dispute.resolution_days, 12)
        self.assertFalse(dispute.activity_ids, "the owner's task is done")
        self.assertIn("Credit note for the price difference", self._bodies(disputed))
        self.assertIn("Dispute resolved by Sam Seller", self._bodies(dispute))
        self.assertTrue(self._events(disputed, "dispute_resolved"))

        self._run(run_date=self._day(13))
        self.assertEqual(disputed.dunning_level_id, self.formal, "the stage its age calls for")

        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.dunning_dispute_count, 1)
        self.assertEqual(self.customer.dunning_dispute_days_avg, 12)

    def test_rejected_dispute_resumes(self):
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        dispute = self._dispute(move, "other")
        with freeze_time(self._day(2)):
            wizard = (
                self.env["dunning.dispute.close"]
                .with_user(self.collector)
                .create({"dispute_id": dispute.id, "decision": "reject", "note": "Goods fine"})
            )
            wizard.action_confirm()
        self.assertEqual((dispute.state, dispute.outcome), ("rejected", "rejected"))
        self.assertIn("payment is due", self._events(move, "dispute_rejected").note)
        self._run(run_date=self._day(11))
        self.assertEqual(move.dunning_level_id, self.formal)

    def test_owner_and_deadline_default_by_reason(self):
        move = self._sold_by(self._invoice(self.customer, 5, 1000), self.salesperson)
        pricing = self._dispute(move, "pricing")
        self.assertEqual(pricing.owner_id, self.salesperson)
        self.assertEqual(pricing.deadline, self._day(10))
        task = pricing.activity_ids
        self.assertEqual(task.user_id, self.salesperson)
        self.assertEqual(task.date_deadline, self._day(10))
        self.assertIn(move.name, str(task.note))

        not_received = self._dispute(move, "not_received")
        self.assertEqual(not_received.owner_id, self.warehouse)
        self.assertEqual(not_received.deadline, self._day(4))

        unconfigured = self._dispute(move, "duplicate")
        self.assertEqual(unconfigured.owner_id, self.collector, "the collector, 10 days")
        self.assertEqual(unconfigured.deadline, self._day(10))

        # A new owner takes the task over.
        with freeze_time(RUN_DATE):
            pricing.with_user(self.collector).owner_id = self.manager
        self.assertEqual(pricing.activity_ids.user_id, self.manager)

    def test_dispute_without_owner(self):
        self.company.dunning_collector_id = False
        move = self._invoice(self.customer, 5, 1000)  # sold by nobody the rule can use
        move.invoice_user_id = False
        before = self.env["dunning.dispute"].search_count([])
        with self.assertRaises(ValidationError) as caught:
            self._dispute(move, "pricing")
        self.assertIn("Owner: the dispute on", str(caught.exception))
        self.assertIn("Dispute Reasons", str(caught.exception))
        self.assertEqual(self.env["dunning.dispute"].search_count([]), before)
        self.assertFalse(self._events(move, "dispute"))

    def test_deadline_notifies_the_escalation_contact(self):
        move = self._sold_by(self._invoice(self.customer, 5, 1000), self.salesperson)
        boss = self.manager
        self.pricing_config.escalate_to_id = boss
        dispute = self._dispute(move, "pricing")  # deadline day 10
        self._run(run_date=self._day(10))
        self.assertFalse(dispute.escalation_date, "not before the deadline has passed")

        stats = self._run(run_date=self._day(11))
        self.assertEqual(stats["disputes_escalated"], 1)
        self.assertEqual(dispute.escalation_date, self._day(11))
        notices = self.env["mail.message"].search(
            [("model", "=", "dunning.dispute"), ("res_id", "=", dispute.id),
             ("partner_ids", "in", boss.partner_id.ids)]
        )  # fmt: skip
        self.assertEqual(len(notices), 1)
        self.assertIn("past its deadline", notices.subject)
        self.assertIn(move.name, str(notices.body))
        self.assertIn("Sam Seller", str(notices.body))
        self.assertTrue(self._events(move, "dispute_overdue"))
        with freeze_time(self._day(11)):
            overdue = self.env["dunning.dispute"].search([("is_overdue", "=", True)])
        self.assertEqual(overdue, dispute)

        self._run(run_date=self._day(12))
        self.assertEqual(len(self._events(move, "dispute_overdue")), 1, "notified once")

    def test_escalation_without_contact_goes_to_dunning_managers(self):
        move = self._invoice(self.customer, 5, 1000)
        dispute = self._dispute(move, "not_received")  # 4 days
        self._run(run_date=self._day(5))
        notice = self.env["mail.message"].search(
            [("model", "=", "dunning.dispute"), ("res_id", "=", dispute.id),
             ("subject", "ilike", "past its deadline")]
        )  # fmt: skip
        self.assertIn(self.manager.partner_id, notice.partner_ids)
        self.assertNotIn(self.collector.partner_id, notice.partner_ids)

    def test_credit_note_from_the_dispute(self):
        move = self._invoice(self.customer, 5, 1000)
        dispute = self._dispute(move, "quality")
        action = dispute.with_user(self.collector).action_create_credit_note()
        self.assertEqual(action["res_model"], "account.move.reversal")
        with freeze_time(RUN_DATE):
            reversal = (
                self.env["account.move.reversal"]
                .with_user(self.collector)
                .with_context(**action["context"])
                .create({"journal_id": move.journal_id.id})
            )
            reversal.refund_moves()
        self.assertEqual(dispute.credit_note_count, 1)
        self.assertEqual(dispute.credit_note_ids.reversed_entry_id, move)
        self.assertIn(dispute.name, dispute.credit_note_ids.ref)

    def test_who_may_do_what(self):
        move = self._sold_by(self._invoice(self.customer, 5, 1000), self.salesperson)
        dispute = self._dispute(move, "pricing")  # by the collector
        self.assertEqual(dispute.user_id, self.collector)
        dispute.with_user(self.collector).description = "Wrong unit price on line 2"
        # The owner opens it, reads it and discusses it, but does not edit it.
        as_owner = dispute.with_user(self.salesperson)
        form = Form(as_owner)
        self.assertEqual(form.owner_id, self.salesperson)
        self.assertEqual(form.move_id, move)
        self.assertEqual(form.reason, "pricing")
        self.assertEqual(as_owner.activity_ids.user_id, self.salesperson)
        as_owner.message_post(body="Checking with the customer")
        with self.assertRaises(AccessError):
            as_owner.write({"deadline": self._day(30)})
        with self.assertRaises(AccessError):
            self._dispute(move, "other", user=self.salesperson)
        # Another salesperson neither reads it nor closes it.
        other_seller = self.salesperson.copy({"login": "seller2", "name": "Other Seller"})
        with self.assertRaises(AccessError):
            dispute.with_user(other_seller).reason  # noqa: B018
        with self.assertRaises(AccessError):
            dispute.with_user(other_seller)._close("resolve", "corrected", "done")
        self.assertEqual(dispute.state, "open")
