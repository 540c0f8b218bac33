from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestResolution(DunningCommon):
    """Final resolution cases: proposed by the ladder, decided by a manager, pausing the
    lines they cover (issue 14)."""

    def _cases(self, partner=None):
        return self.env["dunning.resolution"].search(
            [("partner_id", "=", (partner or self.customer).id)]
        )

    def _receivable(self, move):
        return move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def test_ladder_proposes_a_case_at_the_final_stage(self):
        move = self._invoice(self.customer, 95, 4000.0)
        other = self._invoice(self.customer, 100, 500.0)
        self._invoice(self.customer, 20, 300.0)  # formal notice: not in the case
        self._run()
        case = self._cases()
        self.assertEqual(len(case), 1)
        self.assertEqual(
            (case.state, case.origin, case.line_ids),
            ("draft", "ladder", self._receivable(move) | self._receivable(other)),
        )
        self.assertTrue(case.owner_id.has_group("dunning_b2b.group_dunning_manager"))
        self.assertTrue(case.activity_ids.filtered(lambda a: a.user_id == case.owner_id))
        # The proposal changes no line: one event on the case, a note on the case and the
        # customer, nothing on the invoices yet.
        proposed = self.env["dunning.event"].search([("resolution_id", "=", case.id)])
        self.assertEqual(
            (len(proposed), proposed.event_type, proposed.move_id, proposed.amount_residual),
            (1, "resolution", move.browse(), 4500.0),
        )
        for invoice in move | other:
            self.assertFalse(self._events(invoice, "resolution"))
            self.assertNotIn("Final resolution proposed", str(invoice.message_ids.mapped("body")))
        self.assertIn("Final resolution proposed", str(self.customer.message_ids.mapped("body")))
        # The next day proposes nothing more.
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertEqual(len(self._cases()), 1)
        # Opened, the case's task to decide is done.
        case.with_user(self.manager).write({"resolution_type": "write_off"})
        case.with_user(self.manager).action_open()
        self.assertFalse(case.activity_ids)
        # Opened, the case's lines are paused: now each says so, on its invoice too.
        for invoice in move | other:
            self.assertEqual(len(self._events(invoice, "resolution")), 1)
            self.assertIn("Final resolution opened", str(invoice.message_ids.mapped("body")))

    def test_the_final_stage_gives_one_task_the_cases(self):
        """Found by the 100,000-line benchmark (issue 15): each customer at the final stage
        had two to-dos for one decision, the stage's "Final resolution" on the customer and
        the case's "Decide the final resolution" (9,749 of each in a first run of 100,000
        lines). The case's task is now the stage's, even on a stage that still asks for a task
        of its own, and it is the customer's next action on the worklist."""
        self.final.create_activity = True
        self.company.dunning_manager_id = self.manager
        move = self._invoice(self.customer, 95, 4000.0)
        self._invoice(self.customer, 20, 300.0)  # formal notice: a task of that stage
        self._run()
        case = self._cases()
        # The company's collections manager decides, not the first manager found.
        self.assertEqual(
            (case.owner_id, case.activity_ids.summary, case.activity_ids.user_id),
            (self.manager, "Decide the final resolution", self.manager),
        )
        tasks = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        self.assertEqual(tasks.dunning_level_id, self.formal)
        events = self.env["dunning.event"].search(
            [("partner_id", "=", self.customer.id), ("event_type", "=", "activity")]
        )
        self.assertEqual(events.level_id, self.formal)
        self.assertEqual(self._events(move, "stage").level_id, self.final)
        # The collector's worklist shows the case's decision as the customer's next action.
        row = self.env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(row.next_action, "Decide the final resolution")
        # Declined the same day: its lines are not proposed again; the other stage's task
        # is the next action.
        with freeze_time(RUN_DATE):
            case.with_user(self.manager).action_cancel()
        self._run()
        row.invalidate_recordset()
        self.assertIn(self.formal.name, row.next_action)

    def test_a_draft_lets_go_of_a_paid_line_when_it_gathers_a_new_one(self):
        """Found by the 100,000-line benchmark (issue 15): a line of a draft case paid in
        full, then another line of the customer reaching the final stage: the daily step
        failed ("are no open debts") instead of moving the draft on."""
        first = self._invoice(self.customer, 95, 4000.0)
        second = self._invoice(self.customer, 85, 1000.0)
        self._run()
        case = self._cases()
        self.assertEqual(case.line_ids, self._receivable(first))
        self._pay(first, 4000.0)
        stats = self._run(run_date=RUN_DATE + timedelta(days=10))
        self.assertFalse(stats["failed_steps"])
        self.assertEqual(self._cases(), case)
        self.assertEqual(case.line_ids, self._receivable(second))

    def test_open_case_pauses_reminders_and_cancel_resumes(self):
        move = self._invoice(self.customer, 50, 1000.0)
        self._run()
        self.assertEqual(move.dunning_level_id, self.escalation)
        case = (
            self.env["dunning.resolution"]
            .with_user(self.manager)
            .create(
                {
                    "partner_id": self.customer.id,
                    "resolution_type": "legal",
                    "agency_id": self._customer("Law Firm LLP").id,
                    "line_ids": [Command.set(self._receivable(move).ids)],
                }
            )
        )
        case.action_open()
        self.assertEqual((case.state, case.amount_open_start), ("open", 1000.0))
        # 45 days later the line would reach the final stage: paused, it does not.
        self._run(run_date=RUN_DATE + timedelta(days=45))
        self.assertEqual(move.dunning_level_id, self.escalation)
        self.assertIn("final resolution", move.dunning_paused_reason)
        case.action_cancel()
        # The opened case had paused the line: its invoice is told that it resumes.
        self.assertEqual(len(self._events(move, "resolution_cancelled")), 1)
        self.assertIn("resume the ladder", str(move.message_ids.mapped("body")))
        self._run(run_date=RUN_DATE + timedelta(days=46))
        self.assertEqual(move.dunning_level_id, self.final)
        # Its line reached the final stage after the manager cancelled the case: no case is
        # proposed again, so the stage gives the collector its own task.
        self.assertEqual(self._cases(), case)
        task = self.customer.activity_ids.filtered(lambda a: a.summary == self.final.name)
        self.assertEqual((len(task), task.user_id), (1, self.collector))

    def test_close_counts_what_was_recovered(self):
        move = self._invoice(self.customer, 95, 4000.0)
        self._run()
        case = self._cases()
        case.with_user(self.manager).write(
            {"resolution_type": "agency", "agency_id": self._customer("Recover & Co").id}
        )
        case.with_user(self.manager).action_open()
        self._pay(move, 1500.0)
        case.with_user(self.manager).action_done()
        self.assertEqual((case.state, case.amount_recovered), ("done", 1500.0))
        self.assertEqual(len(self._events(move, "resolution_done")), 1)

    def test_rights_and_bad_input(self):
        move = self._invoice(self.customer, 95, 4000.0)
        self._run()
        case = self._cases()
        with self.assertRaises(AccessError):
            case.with_user(self.collector).action_open()
        with self.assertRaisesRegex(UserError, "Resolution: choose"):
            case.with_user(self.manager).action_open()
        with self.assertRaises(AccessError):
            case.with_user(self.manager).write({"state": "open"})
        other = self._customer("Other", "o@x.test")
        other_move = self._invoice(other, 95, 10.0)
        with self.assertRaisesRegex(ValidationError, "Receivable Lines"):
            case.with_user(self.manager).line_ids = [Command.link(self._receivable(other_move).id)]
        with self.assertRaisesRegex(ValidationError, "already in the case"):
            self.env["dunning.resolution"].with_user(self.manager).create(
                {
                    "partner_id": self.customer.id,
                    "resolution_type": "write_off",
                    "line_ids": [Command.set(self._receivable(move).ids)],
                }
            )
        # Cases proposed together (one create, as the ladder does) cannot share a line either.
        fresh = self._receivable(self._invoice(self.customer, 95, 50.0))
        with self.assertRaisesRegex(ValidationError, "already in the case"):
            self.env["dunning.resolution"].with_user(self.manager).create(
                [
                    {"partner_id": self.customer.id, "line_ids": [Command.set(fresh.ids)]},
                    {"partner_id": self.customer.id, "line_ids": [Command.set(fresh.ids)]},
                ]
            )
