from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, freeze_time, tagged

from .common import RUN_DATE
from .conversations_common import ConversationCommon

DAY_AFTER = RUN_DATE + timedelta(days=1)


@tagged("post_install", "-at_install")
class TestDailyLoop(ConversationCommon):
    """The collector's daily loop (issue 11): each action shows on the customer's worklist row
    and on its lines at once, tasks of stages passed or paid are closed, tasks are per company,
    and collectors post on customers they may not edit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Worklist = cls.env["dunning.worklist"]
        cls.call_type = cls.env.ref("dunning_b2b.mail_activity_type_dunning_call")

    def _row(self, partner=None, company=None):
        return self.Worklist.search(
            [
                ("partner_id", "=", (partner or self.customer).id),
                ("company_id", "=", (company or self.company).id),
            ]
        )

    def _pause(self, move):
        return self.env["dunning.line"].search([("move_id", "=", move.id)]).pause_reason

    def _log_call_from_row(self, row, outcome, **vals):
        """As the collector clicks it: the row's Log a Call, the form, Log."""
        action = row.with_user(self.collector).action_log_call()
        form = Form(
            self.env[action["res_model"]]
            .with_user(self.collector)
            .with_context(**action["context"])
        )
        form.outcome = outcome
        for name, value in vals.items():
            setattr(form, name, value)
        return form.save().action_confirm()

    # ------------------------------------------------------------ at the click
    def test_call_with_promise_shows_on_the_row_at_once(self):
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        row = self._row()
        self.assertEqual(row.last_contact_date, RUN_DATE)  # the stage's email
        self.assertFalse(row.promise_open)
        with freeze_time(DAY_AFTER):
            action = self._log_call_from_row(row, "promised", note="Pays next week")
            self.assertEqual(row.last_contact_date, DAY_AFTER)
            self.assertEqual(row.last_contact_type, "Call")
            self.assertIn("Pays next week", row.last_contact_note)
            # The promise form the call opened, filled in and saved by the collector.
            promise_form = Form(
                self.env["dunning.promise"]
                .with_user(self.collector)
                .with_context(**action["context"])
            )
            promise_form.move_ids.add(move)
            promise_form.amount = 1000
            promise_form.promise_date = RUN_DATE + timedelta(days=8)
            promise = promise_form.save()
        self.assertTrue(row.promise_open)
        self.assertEqual(row.promise_date, RUN_DATE + timedelta(days=8))
        self.assertTrue(self._pause(move))
        # Broken by hand (cancelled): the row and the line's pause follow at once.
        with freeze_time(DAY_AFTER):
            promise.with_user(self.collector).action_cancel()
        self.assertFalse(row.promise_open)
        self.assertFalse(self._pause(move))

    def test_promise_marked_by_hand_shows_on_the_row_at_once(self):
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        row = self._row()
        for action in ("action_mark_kept", "action_mark_broken"):
            promise = self._promise(move, 1000, 8)
            self.assertTrue(row.promise_open)
            self.assertTrue(self._pause(move))
            with freeze_time(DAY_AFTER):
                getattr(promise.with_user(self.collector), action)()
            self.assertFalse(row.promise_open, action)
            self.assertFalse(self._pause(move), action)

    def test_dispute_opened_and_closed_shows_on_the_row_at_once(self):
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        row = self._row()
        with freeze_time(DAY_AFTER):
            dispute = (
                self.env["dunning.dispute"]
                .with_user(self.collector)
                .create({"move_id": move.id, "reason": "pricing", "owner_id": self.collector.id})
            )
        self.assertTrue(row.dispute_open)
        self.assertTrue(self._pause(move))
        with freeze_time(DAY_AFTER):
            self.env["dunning.dispute.close"].with_user(self.collector).create(
                {"dispute_id": dispute.id, "decision": "reject", "note": "Prices as agreed"}
            ).action_confirm()
        self.assertEqual(dispute.state, "rejected")
        self.assertFalse(row.dispute_open)
        self.assertFalse(self._pause(move))

    def test_payment_and_its_undoing_show_on_the_row_at_once(self):
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        self.assertTrue(self._row())
        with freeze_time(DAY_AFTER):
            self._pay(move, 1000)
        self.assertFalse(self._row(), "paid: nothing left to chase")
        receivable = move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        with freeze_time(DAY_AFTER):
            receivable.remove_move_reconcile()
        # Unmatched, the payment is an open credit that covers the invoice: apply it.
        self.assertEqual(self._row().next_action, "Apply the open credit")

    def test_payment_unmatched_on_the_invoice_widget_shows_on_the_row_at_once(self):
        """Unreconcile on the invoice's payment widget deletes the match directly (not through
        remove_move_reconcile): the row came back only at the next daily run."""
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        with freeze_time(DAY_AFTER):
            self._pay(move, 1000)
        self.assertFalse(self._row())
        receivable = move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        partial = receivable.matched_credit_ids
        with freeze_time(DAY_AFTER):
            move.js_remove_outstanding_partial(partial.id)
        self.assertEqual(self._row().next_action, "Apply the open credit")

    def test_hold_decided_shows_on_the_row_at_once(self):
        self._invoice(self.customer, 5, 1000)
        self._run()
        row = self._row()
        self.assertFalse(row.credit_hold)
        for decision, held in (("set", True), ("lift", False)):
            wizard = Form(
                self.env["dunning.credit.hold.decide"]
                .with_user(self.manager)
                .with_context(default_partner_id=self.customer.id, default_decision=decision)
            )
            wizard.reason = "Bounced cheques" if held else "Cheques cleared"
            with freeze_time(DAY_AFTER):
                wizard.save().action_confirm()
            self.assertEqual(row.credit_hold, held)

    # ------------------------------------------------------------------ tasks
    def _partner_bodies(self):
        return self._bodies(self.customer)

    def test_tasks_of_a_stage_passed_are_closed_then_paid(self):
        move = self._invoice(self.customer, 20, 1000)
        self._run()
        Activity = self.env["mail.activity"]
        formal_tasks = Activity.search([("dunning_level_id", "=", self.formal.id)])
        self.assertTrue(formal_tasks)
        self.assertIn(self._row().next_action, formal_tasks.mapped("summary"))
        later = RUN_DATE + timedelta(days=30)
        self._run(run_date=later)
        self.assertEqual(move.dunning_level_id, self.escalation)
        self.assertFalse(formal_tasks.exists().filtered("active"))
        self.assertIn(f"Stage passed: now {self.escalation.name}", self._partner_bodies())
        escalation_task = Activity.search(
            [("dunning_level_id", "=", self.escalation.id), ("res_id", "=", self.customer.id)]
        )
        self.assertTrue(escalation_task)
        # The next action is the current stage's task, not one of a stage passed.
        self.assertEqual(self._row().next_action, escalation_task.summary)
        with freeze_time(later):
            self._pay(move, 1000)
        self.assertFalse(escalation_task.exists().filtered("active"))
        self.assertIn("Paid", self._partner_bodies())
        self.assertFalse(self._row(), "nothing open: the customer leaves the worklist")

    def test_run_now_closes_the_tasks_of_the_stage_passed(self):
        self._invoice(self.customer, 20, 1000)
        self._run()
        formal_tasks = self.env["mail.activity"].search([("dunning_level_id", "=", self.formal.id)])
        self.assertTrue(formal_tasks)
        with freeze_time(RUN_DATE + timedelta(days=30)):
            self.customer.with_user(self.collector).action_dunning_run()
        self.assertFalse(formal_tasks.exists().filtered("active"))

    # -------------------------------------------------------- tasks per company
    def _shared_customer_tasks(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        self.env.user.company_ids |= company_b
        self._invoice(self.customer, 5, 1000)
        self._run()
        Partner = self.customer
        task_a = Partner.with_company(self.company).activity_schedule(
            act_type_xmlid="dunning_b2b.mail_activity_type_dunning_call",
            date_deadline=RUN_DATE,
            summary="Call for A",
            user_id=self.collector.id,
        )
        task_b = Partner.with_company(company_b).activity_schedule(
            act_type_xmlid="dunning_b2b.mail_activity_type_dunning_call",
            date_deadline=RUN_DATE - timedelta(days=3),
            summary="Call for B",
            user_id=self.env.user.id,
        )
        return company_b, task_a, task_b

    def test_worklist_shows_only_its_company_tasks(self):
        company_b, task_a, task_b = self._shared_customer_tasks()
        with freeze_time(RUN_DATE):
            self.Worklist.with_user(self.collector).action_refresh()
        self.assertEqual(self._row().next_action, "Call for A")
        self.assertEqual(task_a.dunning_company_id, self.company)
        self.assertEqual(task_b.dunning_company_id, company_b)

    def test_call_logged_in_a_closes_only_a_call_tasks(self):
        _company_b, task_a, task_b = self._shared_customer_tasks()
        row = self._row()
        with freeze_time(RUN_DATE):
            self.env["dunning.worklist.call"].with_user(self.collector).create(
                {"worklist_ids": [Command.set(row.ids)], "outcome": "reached"}
            ).action_log()
        self.assertFalse(task_a.exists().filtered("active"))
        self.assertTrue(task_b.exists().active, "company B's call is still to make")

    def test_call_log_in_a_closes_only_a_call_tasks(self):
        _company_b, task_a, task_b = self._shared_customer_tasks()
        with freeze_time(RUN_DATE):
            self._log_call_from_row(self._row(), "reached")
        self.assertFalse(task_a.exists().filtered("active"))
        self.assertTrue(task_b.exists().active)

    # ---------------------------------------------------------------- chatter
    def test_collector_posts_on_a_customer_without_editing_it(self):
        self._invoice(self.customer, 5, 1000)
        self._run()
        customer = self.customer.with_user(self.collector)
        with self.assertRaises(AccessError):
            customer.write({"name": "Renamed by the collector"})
        message = customer.message_post(
            body="Spoke to Dana, pays Friday",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        note = customer.message_post(
            body="Internal: check the bank on Friday",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        self.assertEqual(message.author_id, self.collector.partner_id)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
        # The chatter's buttons: posting needs only read access on the customer.
        self.assertEqual(
            customer._mail_get_operation_for_mail_message_operation("create"), {customer: "read"}
        )
        # Nobody else gains it: a plain internal user still needs write access.
        self.assertEqual(
            self.customer.with_user(
                self.salesperson
            )._mail_get_operation_for_mail_message_operation("create"),
            {self.customer: "write"},
        )
