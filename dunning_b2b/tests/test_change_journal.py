from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL, mute_logger

from .. import uninstall_hook
from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestChangeJournal(DunningCommon):
    """The daily checks work on the customers the change journal names since their last
    run, not on every customer (issue 15: "only on customers whose data changed since their
    last computation ... a change journal the engine writes, not write_date guesses")."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls._customer("Bolt Supplies", "ap@bolt.test")
        cls.move = cls._invoice(cls.customer, 20, 500.0)
        cls.other_move = cls._invoice(cls.other, 20, 800.0)

    def _row(self, partner):
        return self.env["dunning.worklist"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", self.company.id)]
        )

    def _journaled(self):
        mark = self.env["dunning.daily.mark"]._get_mark(self.company)
        return self.env["dunning.change"]._read_changes(self.company, mark)

    def _run_company(self, run_date=None):
        return self._run(run_date=run_date, companies=self.company)

    def test_a_payment_journals_its_customer_alone(self):
        self._run_company()
        self.assertEqual(self._journaled(), (set(), False), "the checks read everything")
        self._pay(self.move, 200.0)
        partner_ids, everyone = self._journaled()
        self.assertEqual(partner_ids, {self.customer.id})
        self.assertFalse(everyone)

    def test_only_the_changed_customer_is_checked_again(self):
        """Same day, one customer paid part: the second run recomputes that customer's row
        and leaves the other's as it was (not rewritten: same write date and values)."""
        self._run_company()
        other_row = self._row(self.other)
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE dunning_worklist SET overdue_amount = 1 WHERE id = %s", other_row.id)
        )
        other_row.invalidate_recordset()
        self._pay(self.move, 200.0)
        stats = self._run_company()
        self.assertEqual(stats["customers_checked"], 1)
        self.assertEqual(self._row(self.customer).overdue_amount, 300.0)
        self.assertEqual(
            self._row(self.other).overdue_amount, 1.0, "the unchanged customer was not read"
        )

    def _profile(self, partner):
        return self.env["dunning.customer.kpi"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", self.company.id)]
        )

    def _outcomes(self):
        rows = self.env["dunning.analysis"].search([("company_id", "=", self.company.id)])
        return sorted(
            (str(r.month), r.level_id.id, r.segment or "", r.collector_id.id, r.entered_count,
             r.resolved_count, r.open_count, r.entered_amount, r.recovered_amount)
            for r in rows
        )  # fmt: skip

    def _pay_on_run_date(self, move, amount):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({"amount": amount, "payment_date": self.run_date})._create_payments()

    def _set_profile(self, partner, sql):
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE dunning_customer_kpi SET %s WHERE id = %s", sql, self._profile(partner).id)
        )
        self.env.invalidate_all()

    def test_a_second_run_computes_the_kpis_of_the_changed_customer_alone(self):
        """Same day, one customer paid its invoice after it entered its stage: the KPIs are
        computed again for that customer alone (the other's profile is not rewritten), the
        stage outcomes count the recovery, as a refresh of every customer does."""
        self._run_company()
        self.assertEqual(sum(row[5] for row in self._outcomes()), 0, "nothing resolved yet")
        self._set_profile(self.other, SQL("open_amount = 1"))
        self._pay_on_run_date(self.move, 500.0)
        stats = self._run_company()
        self.assertEqual(stats["profiles_refreshed"], 1)
        self.assertEqual(self._profile(self.customer).open_amount, 0.0)
        self.assertEqual(self._profile(self.other).open_amount, 1.0, "not read again")
        outcomes = self._outcomes()
        self.assertEqual(sum(row[4] for row in outcomes), 2, "both invoices entered a stage")
        self.assertEqual(sum(row[5] for row in outcomes), 1, "one resolved")
        self.assertEqual(sum(row[8] for row in outcomes), 500.0, "500 recovered")
        self.env["dunning.kpi"]._refresh_company(self.company, self.run_date)
        self.assertEqual(self._outcomes(), outcomes)
        self.assertEqual(self._profile(self.other).open_amount, 800.0)
        # A new day shifts the unchanged customer's profile by the day (a day more past
        # due) without reading it again, until the date changes it otherwise.
        self._set_profile(self.other, SQL("open_amount = 1"))
        days_past_due = self._profile(self.other).weighted_dpd
        stats = self._run_company(self.run_date + timedelta(days=1))
        self.assertEqual(stats["profiles_shifted"], 2, "neither customer changed")
        self.assertEqual(self._profile(self.other).open_amount, 1.0, "not read again")
        self.assertEqual(self._profile(self.other).weighted_dpd, days_past_due + 1)

    def test_profiles_of_another_day_are_computed_again_with_the_changed_ones(self):
        """A profile not computed on this day (a refresh of another date, an older
        version) makes the same-day run compute every customer's: the company's sums are
        never a mix of two days."""
        self._run_company()
        self._set_profile(
            self.other,
            SQL("open_amount = 1, analysis_parts = jsonb_set(analysis_parts, '{date}', %s)",
                '"2026-03-01"'),
        )  # fmt: skip
        self._pay_on_run_date(self.move, 200.0)
        stats = self._run_company()
        self.assertEqual(stats["profiles_refreshed"], 2)
        self.assertEqual(self._profile(self.other).open_amount, 800.0)

    def test_a_customer_deleted_the_same_day_leaves_the_kpis_standing(self):
        """A customer created and deleted after the run is journaled: the next run's
        profiles skip it, and the KPIs are written (no failed step)."""
        self._run_company()
        self._customer("Short-lived Ltd").unlink()
        self._pay_on_run_date(self.move, 200.0)
        stats = self._run_company()
        self.assertFalse(stats["failed_steps"])
        self.assertEqual(self._profile(self.customer).open_amount, 300.0)

    def test_the_kpis_stay_as_they_were_when_profiles_failed(self):
        """A profiles batch that fails leaves its customers' profiles of the day before:
        the close does not add up a mix of two days, the KPIs stay as they were and the
        failure is reported."""
        self._run_company()
        analysis = self.env["dunning.analysis"].search([("company_id", "=", self.company.id)])
        self.assertTrue(analysis)
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE dunning_analysis SET entered_count = 99 WHERE id = %s", analysis[0].id)
        )
        Kpi = type(self.env["dunning.kpi"])
        self._pay_on_run_date(self.move, 100.0)  # a profile to compute on the next day

        def failing(kpi, *args, **kwargs):
            raise ValueError("simulated failure of a profile")

        with (
            patch.object(Kpi, "_refresh_profiles", failing),
            mute_logger("odoo.addons.dunning_b2b.models.dunning_engine"),
        ):
            stats = self._run_company(self.run_date + timedelta(days=1))
        self.assertGreaterEqual(stats["failed_steps"], 2, "the profiles and the close")
        analysis.invalidate_recordset()
        self.assertEqual(analysis[0].entered_count, 99, "the stage outcomes not rewritten")

    def test_a_contact_moving_to_another_customer_journals_both(self):
        """A contact moved to another parent company takes its lines along: the customer it
        left is journaled too (its figures lose the lines), however it moved (here in SQL,
        as an import would; the ORM also writes the old parent)."""
        contact = self.env["res.partner"].create(
            {"name": "Accounts Payable", "parent_id": self.customer.id, "type": "invoice"}
        )
        self._run_company()
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE res_partner SET parent_id = %s, commercial_partner_id = %s WHERE id = %s",
                self.other.id, self.other.id, contact.id)
        )  # fmt: skip
        partner_ids, everyone = self._journaled()
        self.assertEqual(partner_ids, {self.customer.id, self.other.id})
        self.assertFalse(everyone)

    def test_a_second_run_the_same_day_evaluates_only_the_changed_customer(self):
        """The ladder's own writes are no news for the ladder: the second run of the day
        evaluates the customer who paid, not the other (its stage, events and messages as
        the first run left them)."""
        first = self._run_company()
        self.assertEqual(first["evaluated"], 2)
        self._pay(self.move, 200.0)
        second = self._run_company()
        self.assertEqual(second["evaluated"], 1)
        self.assertEqual(second["ladder_skipped"], 1)
        third = self._run_company()
        self.assertFalse(third["evaluated"])
        # A new day evaluates again those the date moves (``test_ladder_new_day``).
        fourth = self._run_company(self.run_date + timedelta(days=26))
        self.assertEqual(fourth["evaluated"], 2)

    def test_a_setting_makes_the_ladder_evaluate_everyone(self):
        self._run_company()
        self.company._dunning_get_default_policy().minimum_amount = 1.0
        self.assertEqual(self._run_company()["evaluated"], 2)

    def test_a_change_in_sql_is_journaled(self):
        self._run_company()
        line = self.move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE dunning_line SET pause_reason = 'test' WHERE move_line_id = %s", line.id)
        )
        self.assertEqual(self._journaled(), ({self.customer.id}, False))

    def test_a_task_on_a_message_journals_its_customer(self):
        """The worklist's next action reads the review tasks of messages too: a task
        scheduled or moved on a message is news for the message's customer."""
        self._run_company()
        message = self._messages()[:1]
        self.assertTrue(message)
        message.activity_schedule(
            "mail.mail_activity_data_todo",
            date_deadline=self.run_date + timedelta(days=3),
            user_id=self.env.user.id,
        )
        self.assertEqual(self._journaled(), ({self.customer.id}, False))

    def test_a_reminders_fate_is_no_news(self):
        """Delivery, openings and answers of a reminder are shown as they are read, never by
        the checks: the day after a delivered queue must not recompute every emailed
        customer. Any other change of the reminder still journals its customer."""
        self._run_company()
        message = self._messages()[:1]
        message.action_send()
        self._run_company()
        self.assertEqual(message.state, "queued")
        self.assertEqual(self._journaled(), (set(), False))
        message._dunning_mark_delivered()
        message._dunning_mark_opened()
        message._dunning_mark_opened()
        message._dunning_mark_answered(
            self.customer, self.company, "replied", fields.Datetime.now()
        )
        self.env.flush_all()
        self.assertTrue(message.date_delivered and message.date_answered)
        self.assertEqual(message.open_count, 2)
        self.assertEqual(self._journaled(), (set(), False))
        # One statement over two customers' reminders: only the one whose reminder changed
        # more than its fate is journaled.
        other_message = self._messages(self.other)[:1]
        self.assertTrue(other_message)
        self.env.cr.execute(
            SQL(
                """UPDATE dunning_message
                      SET open_count = COALESCE(open_count, 0) + 1,
                          state = CASE WHEN id = %s THEN 'cancel' ELSE state END
                    WHERE id IN %s""",
                message.id,
                (message.id, other_message.id),
            )
        )
        self.assertEqual(self._journaled(), ({self.customer.id}, False))

    def test_a_setting_journals_every_customer(self):
        self._run_company()
        self.company.dunning_contact_interval = 3
        stats = self._run_company()
        self.assertEqual(stats["customers_checked"], 2)

    def test_the_checks_own_writes_are_not_news(self):
        """The worklist writes segments on customers (res_partner) and events: a second run
        the same day finds nothing to do."""
        first = self._run_company()
        self.assertTrue(first["segments_changed"], "segments were written")
        second = self._run_company()
        self.assertEqual(second["daily_steps_skipped"], 1)
        self.assertFalse(second["customers_checked"])

    def test_the_next_day_rechecks_what_moves_with_the_date(self):
        """Next day: the overdue customers' rows move (one more day late), shifted by the
        day unless more than the day changes them; a customer whose invoice falls due in
        ten days is not recomputed until it falls due."""
        later = self._customer("Cedar Works", "ap@cedar.test")
        self._invoice(later, -10, 300.0)
        self._run_company()
        row = self._row(later)
        self.assertEqual(row.recompute_date, self.run_date + timedelta(days=11), "falls due")
        self.assertEqual(self._row(self.customer).max_days_overdue, 20)
        next_day = self.run_date + timedelta(days=1)
        rows = self._row(self.customer) | self._row(self.other) | row
        stats = self._run_company(next_day)
        self.assertEqual(stats["customers_checked"], 0, "nothing changes but the day")
        self.assertEqual(stats["worklist_shifted"], 3)
        self.assertEqual(set(rows.mapped("refresh_date")), {next_day})
        self.assertEqual(self._row(self.customer).max_days_overdue, 21)
        self.assertEqual(row.max_days_overdue, 0)
        self._run_company(self.run_date + timedelta(days=11))
        self.assertEqual(row.overdue_amount, 300.0)
        self.assertEqual(row.max_days_overdue, 1)

    def test_a_failed_check_reads_the_journal_again(self):
        """A chunk that fails leaves the mark where it was: the next run checks the same
        customers again."""
        self._run_company()
        self._pay(self.move, 100.0)
        Worklist = type(self.env["dunning.worklist"])
        original = Worklist._refresh

        def failing(*args, **kwargs):
            raise RuntimeError("simulated failure")

        Worklist._refresh = failing
        try:
            with self.assertLogs("odoo.addons.dunning_b2b.models.dunning_engine", "ERROR"):
                self._run_company()
        finally:
            Worklist._refresh = original
        self.assertEqual(self._journaled()[0], {self.customer.id})
        stats = self._run_company()
        self.assertEqual(stats["customers_checked"], 1)
        self.assertEqual(self._row(self.customer).overdue_amount, 400.0)

    def test_who_may_collect_is_news_for_every_customer(self):
        """A user archived, or given or taken a company, changes who collects when a
        customer has no collector of its own (the company's fallback, the segments'
        teams): every customer of the company is checked again the same day."""
        member = new_test_user(
            self.env,
            login="roaming",
            groups="dunning_b2b.group_dunning_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        other = self.setup_other_company(name="Company B")["company"]
        for change in (
            lambda: member.write({"company_ids": [Command.link(other.id)]}),
            lambda: member.write({"company_ids": [Command.unlink(other.id)]}),
            lambda: member.write({"active": False}),
        ):
            self._run_company()
            change()
            self.env.flush_all()
            self.assertTrue(self._journaled()[1], "every customer")
            self.assertEqual(self._run_company()["customers_checked"], 2)
        # A user's own preferences are no news.
        self._run_company()
        self.collector.write({"signature": "<p>Colette</p>", "tz": "Europe/Brussels"})
        self.env.flush_all()
        self.assertFalse(self._journaled()[1], "not every customer")

    def test_the_journal_is_cleaned_though_a_company_never_ran(self):
        """A company whose checks never ran reads no journal (its first run checks every
        customer): the entries the others have read are forgotten at their close (they were
        kept for ever while one company had no mark)."""
        self.setup_other_company(name="Company B")  # never run
        self._run_company()
        self._pay(self.move, 100.0)
        self.env.flush_all()
        Change = self.env["dunning.change"]
        self.assertTrue(Change.search_count([]))
        self._run_company()
        mark = self.env["dunning.daily.mark"]._get_mark(self.company)
        read = min(mark.change_id, mark.ladder_change_id)
        self.assertTrue(read)
        self.assertFalse(Change.search_count([("id", "<=", read)]))

    def test_uninstalling_removes_the_triggers(self):
        """The addon's uninstallation drops the journal's triggers and functions: left
        behind, they wrote to the dropped journal table and every posting failed."""

        def count():
            pattern = "dunning\\_journal\\_%"
            return self.env.execute_query(
                SQL(
                    """SELECT (SELECT COUNT(*) FROM pg_trigger WHERE tgname LIKE %s),
                              (SELECT COUNT(*) FROM pg_proc WHERE proname LIKE %s)""",
                    pattern,
                    pattern,
                )
            )[0]

        triggers, functions = count()
        self.assertGreater(triggers, 40)
        self.assertGreater(functions, 20)
        with self.env.cr.savepoint(flush=False) as savepoint:
            uninstall_hook(self.env)
            self.assertEqual(count(), (0, 0))
            # The ledger takes a posting without the journal's table.
            self.env.cr.execute("ALTER TABLE dunning_change RENAME TO dunning_change_gone")
            self._invoice(self.other, 5, 10.0)
            savepoint.rollback()
        self.env.invalidate_all()
        self.assertEqual(count(), (triggers, functions))
