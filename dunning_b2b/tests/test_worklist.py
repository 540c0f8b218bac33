from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.service.model import call_kw
from odoo.tests import Form, freeze_time, tagged

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestWorklist(DunningCommon):
    """The collector's worklist: order, routing and bulk actions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "dunning_weight_low": 1,
                "dunning_weight_medium": 2,
                "dunning_weight_high": 4,
                "dunning_manager_id": cls.manager.id,
            }
        )
        cls.Worklist = cls.env["dunning.worklist"]

    def _rows(self, user=None):
        Worklist = self.Worklist.with_user(user) if user else self.Worklist
        return Worklist.search([("company_id", "=", self.company.id)])

    def _row(self, partner):
        return self.Worklist.search(
            [("partner_id", "=", partner.id), ("company_id", "=", self.company.id)]
        )

    def test_ordered_by_priority(self):
        recent = self._customer("Big Recent", "big@test.example")
        medium = self._customer("Medium Co", "medium@test.example")
        risky = self._customer("Small Old Risky", "risky@test.example")
        self._invoice(recent, 5, 3000)  # paid-on-time share 0: medium risk, 2 x 15,000
        self._invoice(medium, 20, 1000)  # 20 days late: medium risk, 2 x 20,000
        self._invoice(risky, 100, 200)  # 100 days late: high risk, 4 x 20,000
        with freeze_time(RUN_DATE):
            self._run()
        rows = self._rows(self.collector)
        self.assertEqual(rows.partner_id, risky | medium | recent)
        self.assertEqual([row.partner_id for row in rows], [risky, medium, recent])
        self.assertEqual(rows.mapped("priority"), [80000, 40000, 30000])
        # The automatic follow-up email went today: that customer was just contacted.
        self.assertEqual(rows.mapped("needs_action"), [True, True, False])
        self.assertEqual(rows[0].level_id, self.final)
        self.assertEqual(rows[0].collector_id, self.collector)
        action = self.env.ref("dunning_b2b.dunning_worklist_action")
        self.assertIn("search_default_my_customers", action.context)

    def test_next_action_and_last_contact(self):
        move = self._invoice(self.customer, 20, 700)
        with freeze_time(RUN_DATE):
            self._run()
        row = self._row(self.customer)
        self.assertEqual(row.level_id, self.formal)
        # The formal notice waits for review; the review task is the next action.
        self.assertIn(self.formal.name, row.next_action)
        self.assertEqual(row.next_action_date, RUN_DATE)
        self.assertTrue(row.letter_due)
        self.assertFalse(row.last_contact_date)
        with freeze_time(RUN_DATE):
            self._messages().with_user(self.collector).action_send()
            self.Worklist._refresh(self.company, RUN_DATE)
        self.assertEqual(row.last_contact_date, RUN_DATE)
        self.assertIn(row.last_contact_type, ("Email queued", "Letter"))
        self.assertTrue(move.dunning_event_ids.filtered(lambda e: e.event_type == "letter"))
        self.assertFalse(row.letter_due, "the letter went with the email")

    def test_task_routing(self):
        escalated = self._customer("Escalated", "esc@test.example")
        self._invoice(escalated, 50, 900)
        self._invoice(self.customer, 20, 700)
        self._run()
        senior_call = escalated.activity_ids.filtered(lambda a: a.summary == self.escalation.name)
        self.assertEqual(senior_call.user_id, self.manager, "stage 4 goes to the manager")
        call = self.customer.activity_ids.filtered(lambda a: a.summary == self.formal.name)
        self.assertEqual(call.user_id, self.collector, "stage 3 stays with the collector")
        self.escalation.activity_user_id = self.invoicing_user
        other = self._customer("Other Escalated", "esc2@test.example")
        self._invoice(other, 50, 900)
        self._run()
        self.assertEqual(other.activity_ids.user_id, self.invoicing_user, "Task For wins")

    def test_stage_4_writes_to_all_billing_contacts(self):
        buyer = self.env["res.partner"].create(
            {"name": "Chief Buyer", "email": "buyer@acme.test", "parent_id": self.customer.id}
        )
        self._invoice(self.customer, 50, 900)
        self._run()
        self.assertEqual(self._messages().recipient_ids, self.customer | buyer)

    def test_collector_defaults_by_segment_team(self):
        second = self.manager.copy({"login": "second_collector", "name": "Second Collector"})
        self.company.dunning_medium_on_time = 0
        self.env["dunning.segment.rule"].create(
            {"segment": "low_small", "collector_ids": [Command.set((self.manager | second).ids)]}
        )
        first = self._customer("First", "first@test.example")
        other = self._customer("Second", "second@test.example")
        own = self._customer("Own", "own@test.example")
        own.with_company(self.company).dunning_collector_id = self.collector
        for partner in (first, other, own):
            self._invoice(partner, 3, 100)
        with freeze_time(RUN_DATE):
            self._run()  # computes the segments
            self._run()  # the team now chases them
        collectors = {
            p: p.with_company(self.company).dunning_collector_id for p in (first, other, own)
        }
        self.assertEqual(collectors[own], self.collector, "a chosen collector stays")
        self.assertEqual(collectors[first] | collectors[other], self.manager | second)

    def test_run_now_updates_the_worklist(self):
        self._invoice(self.customer, 20, 700)
        with freeze_time(RUN_DATE):
            self.customer.with_user(self.collector).action_dunning_run()
        row = self._row(self.customer)
        self.assertEqual(row.level_id, self.formal)
        self.assertEqual(row.overdue_amount, 700)
        self.assertTrue(row.needs_action)

    def test_recompute_button_as_the_web_client_calls_it(self):
        """The list's Recompute button is called with the selected ids, none or some (it
        failed on every click: action_refresh() takes 1 positional argument)."""
        self._invoice(self.customer, 20, 700)
        Worklist = self.Worklist.with_user(self.collector)
        with freeze_time(RUN_DATE):
            call_kw(Worklist, "action_refresh", [[]], {})
        row = self._row(self.customer)
        self.assertEqual(row.overdue_amount, 700)
        with freeze_time(RUN_DATE):
            result = call_kw(Worklist, "action_refresh", [row.ids], {})
        self.assertEqual(result["type"], "ir.actions.client")
        with self.assertRaises(AccessError):
            call_kw(self.Worklist.with_user(self.invoicing_user), "action_refresh", [[]], {})

    def test_daily_refresh_writes_what_changed(self):
        """The daily job rewrites a row only where the figures moved, and dates every row."""
        first = self._invoice(self.customer, 20, 700)
        self._invoice(self.customer, 3, 300)
        other = self._customer("Quiet Co", "quiet@test.example")
        self._invoice(other, 10, 500)
        with freeze_time(RUN_DATE):
            self._run()
        row, quiet = self._row(self.customer), self._row(other)
        self.assertEqual((row.overdue_amount, row.open_count), (1000, 2))
        self._pay(first, 700)
        self.env.cr.execute(
            "UPDATE dunning_worklist SET write_date = '2000-01-01' WHERE id = %s", [quiet.id]
        )
        quiet.invalidate_recordset()
        with freeze_time(RUN_DATE):
            self._run()
        self.assertEqual((row.overdue_amount, row.open_count), (300, 1))
        self.assertEqual(str(quiet.write_date)[:4], "2000", "nothing changed: not written")
        next_day = RUN_DATE + timedelta(days=1)
        with freeze_time(next_day):
            self._run(next_day)
        self.assertEqual(quiet.max_days_overdue, 11)
        self.assertEqual((row.refresh_date, quiet.refresh_date), (next_day, next_day))

    def test_bulk_log_call(self):
        other = self._customer("Other", "other@test.example")
        self._invoice(self.customer, 20, 700)
        self._invoice(other, 10, 100)
        with freeze_time(RUN_DATE):
            self._run()
            single = self._row(self.customer).with_user(self.collector).action_log_call()
            self.assertEqual(single["res_model"], "dunning.call.log", "one customer: full log")
            self.assertEqual(single["context"]["default_partner_id"], self.customer.id)
            rows = self._rows().with_user(self.collector)
            action = rows.action_log_call()
            wizard = Form(
                self.env[action["res_model"]]
                .with_user(self.collector)
                .with_context(**action["context"])
            )
            wizard.outcome = "voicemail"
            wizard.note = "Switchboard only"
            wizard.save().action_log()
        row = self._row(self.customer)
        event = self.env["dunning.event"].search(
            [("partner_id", "=", self.customer.id), ("event_type", "=", "call")]
        )
        self.assertEqual(event.user_id, self.collector)
        self.assertEqual(event.note, "Voicemail: Switchboard only")
        self.assertEqual(row.last_contact_type, "Call")
        self.assertEqual(row.last_contact_note, "Voicemail: Switchboard only")
        self.assertEqual(row.last_contact_date, RUN_DATE)
        self.assertIn(self.formal.name, row.next_action, "the review is still to do")
        self.assertIn("Switchboard only", str(self.customer.message_ids[:1].body))
        self.assertTrue(
            self.env["dunning.event"].search(
                [("partner_id", "=", other.id), ("event_type", "=", "call")]
            )
        )

    def test_bulk_assign_exclude_include(self):
        other = self._customer("Other", "other@test.example")
        moves = self._invoice(self.customer, 20, 700) | self._invoice(other, 10, 100)
        with freeze_time(RUN_DATE):
            self._run()
            rows = self._rows().with_user(self.collector)
            action = rows.action_assign_collector()
            wizard = Form(
                self.env[action["res_model"]]
                .with_user(self.collector)
                .with_context(**action["context"])
            )
            wizard.collector_id = self.manager
            wizard.save().action_assign()
            self.assertEqual(
                self.customer.with_company(self.company).dunning_collector_id, self.manager
            )
            self.assertEqual(rows.collector_id, self.manager)
            self.assertEqual(
                len(self.env["dunning.event"].search([("event_type", "=", "collector")])), 2
            )
            rows.action_exclude()
            self.assertTrue(all(moves.mapped("dunning_excluded")))
            self.assertTrue(all(rows.mapped("excluded")))
            self.assertFalse(any(rows.mapped("needs_action")))
            rows.action_include()
            self.assertFalse(any(moves.mapped("dunning_excluded")))
            self.assertFalse(any(rows.mapped("excluded")))

    def test_bulk_send_stage_message(self):
        formal = self._invoice(self.customer, 20, 700)
        other = self._customer("Other", "other@test.example")
        follow = self._invoice(other, 3, 100)
        with freeze_time(RUN_DATE):
            self._run()
            rows = self._rows().with_user(self.collector)
            result = rows.action_send_stage_message()
        self.assertIn("1 message(s) sent", result["params"]["message"])
        self.assertIn("already sent", result["params"]["message"])
        message = self._messages()
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.mail_message_id.attachment_ids.mapped("name"),
                         [f"Formal notice - {self.customer.name}.html"])  # fmt: skip
        self.assertTrue(formal.dunning_event_ids.filtered(lambda e: e.event_type == "email"))
        self.assertEqual(
            len(follow.dunning_event_ids.filtered(lambda e: e.event_type == "email")), 1
        )

    def test_who_may_set_collector_and_segment(self):
        partner = self.customer.with_company(self.company)
        partner.with_user(self.collector).dunning_collector_id = self.manager
        self.assertEqual(partner.dunning_collector_id, self.manager)
        with self.assertRaises(AccessError):
            partner.with_user(self.invoicing_user).dunning_collector_id = self.collector
        with self.assertRaises(AccessError):
            partner.with_user(self.collector).dunning_segment = "high_large"
        with self.assertRaises(AccessError):
            partner.with_user(self.collector).write({"dunning_collector_id": False, "name": "X"})
        self.assertEqual(partner.name, "Acme Trading")

    def test_only_collectors_work_the_list(self):
        self._invoice(self.customer, 20, 700)
        self._run()
        with self.assertRaises(AccessError):
            self._rows(self.invoicing_user)
        row = self._row(self.customer)
        with self.assertRaises(AccessError):
            row.with_user(self.collector).write({"priority": 1})

    def test_collector_sees_nothing_of_another_company(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        self._invoice(self.customer, 20, 700)
        self._invoice(self.customer, 20, 700, company=company_b)
        self._run()
        row_b = self.Worklist.search([("company_id", "=", company_b.id)])
        self.assertEqual(len(row_b), 1)
        self.assertEqual(self._rows(self.collector).company_id, self.company)
        self.assertFalse(self.Worklist.with_user(self.collector).search([("id", "=", row_b.id)]))
        with self.assertRaises(AccessError):
            row_b.with_user(self.collector).read(["priority"])
        with self.assertRaises(AccessError):
            row_b.with_user(self.collector).action_exclude()
