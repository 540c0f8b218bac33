from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, freeze_time, new_test_user, tagged

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestCompanyScope(DunningCommon):
    """A customer shared by two companies: whatever a user of company A starts (run now,
    letters, worklist actions) acts in A only; B's invoices, lines, events, messages,
    mails, rows and settings stay as they were."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.policy_b = cls.env["dunning.policy"].create(
            {
                "name": "Company B ladder",
                "company_id": cls.company_b.id,
                "level_ids": [
                    Command.create(
                        {"name": "Company B: payment overdue", "day_offset": 5, "sequence": 1,
                         "mail_template_id": cls.follow_up.mail_template_id.id}
                    ),
                ],
            }
        )  # fmt: skip
        cls.company_b.dunning_policy_id = cls.policy_b
        cls.collector_b = new_test_user(
            cls.env,
            login="collector_b",
            name="Bob Collector",
            groups="dunning_b2b.group_dunning_user",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        cls.company_b.dunning_collector_id = cls.collector_b
        # Works in both companies; tests open the session in company A only.
        cls.collector_ab = new_test_user(
            cls.env,
            login="collector_ab",
            name="Abe Collector",
            groups="dunning_b2b.group_dunning_user",
            company_id=cls.company.id,
            company_ids=[Command.set((cls.company | cls.company_b).ids)],
        )
        # Both companies number their invoices alike: the references tell them apart.
        cls.move_a = cls._invoice(cls.customer, 10, 100, ref="PO-OF-A")
        cls.move_b = cls._invoice(cls.customer, 10, 200, company=cls.company_b, ref="PO-OF-B")

    def _as_a(self, user):
        """The user's session with company A selected (alone)."""
        return self.env(
            user=user, context=dict(self.env.context, allowed_company_ids=[self.company.id])
        )

    def _b_state(self):
        """Everything of company B the dunning of the shared customer could touch."""
        env = self.env(su=True)
        env.invalidate_all()
        company_b = self.company_b.id
        return {
            "lines": env["dunning.line"]
            .search([("company_id", "=", company_b)])
            .read(["level_id", "level_date"]),
            "events": env["dunning.event"].search([("company_id", "=", company_b)]).ids,
            "messages": env["dunning.message"].search([("company_id", "=", company_b)]).ids,
            "mails": env["mail.mail"].search([("body_html", "ilike", self.move_b.ref)]).ids,
            "rows": env["dunning.worklist"]
            .search([("company_id", "=", company_b)])
            .read(["collector_id", "last_contact_date", "last_contact_note", "letter_due"]),
            "collector": self.customer.with_env(env).with_company(company_b).dunning_collector_id,
            "level": self.move_b.with_env(env).dunning_level_id,
        }

    def _assert_a_advanced_by(self, user):
        self.assertEqual(self.move_a.dunning_level_id, self.follow_up)
        stage_events = self._events(self.move_a, "stage")
        self.assertTrue(stage_events)
        self.assertEqual(stage_events.user_id, user)
        self.assertEqual(stage_events.company_id, self.company)

    # ------------------------------------------------------------------ run now
    def _run_now(self, env, xmlid, records):
        action = env.ref(xmlid)
        with freeze_time(RUN_DATE):
            return action.with_context(
                active_model=records._name, active_id=records[:1].id, active_ids=records.ids
            ).run()

    def test_run_now_on_shared_customer_stays_in_company_a(self):
        """Found: "Run dunning now" on a customer shared by two companies, run by a collector
        of company A only, advanced company B's invoice and queued B's reminder."""
        before = self._b_state()
        env = self.env(user=self.collector, context={})
        self._run_now(env, "dunning_b2b.action_server_dunning_run_partners", self.customer)
        self._assert_a_advanced_by(self.collector)
        self.assertEqual(self._b_state(), before)
        self.assertFalse(before["level"])

    def test_run_now_on_invoice_of_company_a(self):
        before = self._b_state()
        env = self.env(user=self.collector, context={})
        self._run_now(env, "dunning_b2b.action_server_dunning_run_moves", self.move_a)
        self._assert_a_advanced_by(self.collector)
        self.assertEqual(self._b_state(), before)

    def test_engine_action_run_as_collector_of_a(self):
        before = self._b_state()
        with freeze_time(RUN_DATE):
            self.env["dunning.engine"].with_user(self.collector)._action_run(
                partners=self.customer.with_user(self.collector)
            )
        self._assert_a_advanced_by(self.collector)
        self.assertEqual(self._b_state(), before)

    def test_run_now_in_company_a_by_collector_of_both(self):
        """A collector of A and B working in A (only A selected) runs in A only."""
        before = self._b_state()
        env = self._as_a(self.collector_ab)
        self._run_now(env, "dunning_b2b.action_server_dunning_run_partners", self.customer)
        self._assert_a_advanced_by(self.collector_ab)
        self.assertEqual(self._b_state(), before)
        self._run_now(env, "dunning_b2b.action_server_dunning_run_moves", self.move_a)
        self.assertEqual(self._b_state(), before)

    # ------------------------------------------------------------------ letters
    def _print(self, env, report):
        with freeze_time(RUN_DATE):
            html, _kind = env["ir.actions.report"]._render_qweb_pdf(report, self.customer.ids)
        return html.decode()

    def test_letters_list_and_log_company_a_only(self):
        self._run()  # both companies' ladders: the customer has a stage in each
        self.assertEqual(self.move_b.dunning_level_id.name, "Company B: payment overdue")
        before = self._b_state()
        for user in (self.collector, self.collector_ab):
            env = self._as_a(user)
            for report in (
                "dunning_b2b.report_dunning_letter",
                "dunning_b2b.report_formal_notice",
                "dunning_b2b.report_customer_statement",
            ):
                html = self._print(env, report)
                self.assertIn(self.move_a.ref, html)
                self.assertNotIn(self.move_b.ref, html, "B's invoice is not A's to claim")
            letters = self.env["dunning.event"].search(
                [("event_type", "=", "letter"), ("user_id", "=", user.id)]
            )
            self.assertEqual(len(letters), 3)
            self.assertEqual(letters.company_id, self.company)
            self.assertEqual(letters.move_id, self.move_a)
        self.assertEqual(self._b_state(), before)

    def test_letters_from_rows_of_another_company_are_refused(self):
        """Found: from the worklist of companies A and B (A active), printing B's row gave
        the customer A's letter and left B's row asking for it."""
        self._run()
        both = self.env(
            user=self.collector_ab,
            context=dict(
                self.env.context, allowed_company_ids=[self.company.id, self.company_b.id]
            ),
        )
        rows = both["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(rows.company_id, self.company | self.company_b)
        row_b = rows.filtered(lambda r: r.company_id == self.company_b)
        for action in ("action_print_letters", "action_print_statement"):
            with self.assertRaisesRegex(UserError, "Switch to Company B"):
                getattr(row_b, action)()
            with self.assertRaises(UserError):
                getattr(rows, action)()
            self.assertEqual(getattr(rows - row_b, action)()["type"], "ir.actions.report")

    # ------------------------------------------------------------------ worklist
    def _rows_a(self, env):
        return env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])

    def test_worklist_call_in_company_a(self):
        self._run()
        before = self._b_state()
        env = self._as_a(self.collector_ab)
        rows = self._rows_a(env)
        self.assertEqual(rows.company_id, self.company)
        with freeze_time(RUN_DATE):
            action = rows.action_log_call()
            self.assertEqual(action["context"]["default_company_id"], self.company.id)
            wizard = Form(env["dunning.worklist.call"].with_context(default_worklist_ids=rows.ids))
            wizard.outcome = "voicemail"
            wizard.save().action_log()
        calls = self.env["dunning.event"].search([("event_type", "=", "call")])
        self.assertEqual(calls.company_id, self.company)
        self.assertEqual(rows.last_contact_date, RUN_DATE)
        self.assertEqual(self._b_state(), before)

    def test_worklist_assign_in_company_a(self):
        self._run()
        before = self._b_state()
        env = self._as_a(self.collector_ab)
        rows = self._rows_a(env)
        action = rows.action_assign_collector()
        wizard = Form(env[action["res_model"]].with_context(**action["context"]))
        wizard.collector_id = self.collector_ab
        wizard.save().action_assign()
        self.assertEqual(
            self.customer.with_company(self.company).dunning_collector_id, self.collector_ab
        )
        self.assertEqual(rows.collector_id, self.collector_ab)
        self.assertEqual(self._b_state(), before)

    def test_worklist_actions_in_company_a(self):
        """Exclude, include, send the stage's message and recompute, from company A."""
        self._run()
        before = self._b_state()
        env = self._as_a(self.collector_ab)
        rows = self._rows_a(env)
        with freeze_time(RUN_DATE):
            rows.action_exclude()
            self.assertTrue(self.move_a.dunning_excluded)
            self.assertFalse(self.move_b.dunning_excluded)
            rows.action_include()
            rows.action_send_stage_message()
            rows.action_refresh()
        self.assertEqual(self._b_state(), before)

    # ------------------------------------------------------------------ call log
    def test_call_log_stays_in_the_companies_of_the_user(self):
        """Found: the call log took any company and any invoice it was given: a collector
        of A wrote calls into B's audit trail and chatter (over RPC, or from B's invoice
        while working in A)."""
        self._run()
        before = self._b_state()
        for env in (self.env(user=self.collector, context={}), self._as_a(self.collector_ab)):
            wizard = env["dunning.call.log"].create(
                {"partner_id": self.customer.id, "company_id": self.company_b.id}
            )
            self.assertFalse(wizard.open_move_ids, "B's invoices are not listed either")
            with self.assertRaises(AccessError):
                wizard.action_confirm()
        both = self.env(
            user=self.collector_ab,
            context=dict(
                self.env.context, allowed_company_ids=[self.company.id, self.company_b.id]
            ),
        )
        wizard = both["dunning.call.log"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "move_ids": [Command.set(self.move_b.ids)],
            }
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertEqual(self._b_state(), before)
        # From B's invoice, the call is B's (the user selected B too).
        action = self.move_b.with_env(both).action_dunning_log_call()
        self.assertEqual(action["context"]["default_company_id"], self.company_b.id)
        with freeze_time(RUN_DATE):
            Form(both["dunning.call.log"].with_context(**action["context"])).save().action_confirm()
        call = self.env["dunning.event"].search([("event_type", "=", "call")])
        self.assertEqual((call.company_id, call.move_id), (self.company_b, self.move_b))
