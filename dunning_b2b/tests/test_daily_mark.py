from datetime import timedelta
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestDailyMark(DunningCommon):
    """A second run on the same day does not run the daily checks again when nothing they
    read changed; any change to their inputs, by the ORM or in SQL, runs them again."""

    def _row(self):
        return self.env["dunning.worklist"].search(
            [("partner_id", "=", self.customer.id), ("company_id", "=", self.company.id)]
        )

    def _run_company(self, run_date=None):
        return self._run(run_date=run_date, companies=self.company)

    def test_an_unchanged_second_run_skips_the_checks(self):
        self._invoice(self.customer, 20, 500.0)
        first = self._run_company()
        self.assertFalse(first["daily_steps_skipped"])
        self.assertEqual(first["kpi_refreshed"], 1)
        row = self._row()
        self.assertEqual(row.overdue_amount, 500.0)
        second = self._run_company()
        self.assertEqual(second["daily_steps_skipped"], 1)
        self.assertFalse(second["kpi_refreshed"])
        self.assertEqual(self._row(), row, "the worklist row was left as it was")

    def test_a_payment_between_runs_runs_the_checks_again(self):
        move = self._invoice(self.customer, 20, 500.0)
        self._run_company()
        self._pay(move, 200.0)
        stats = self._run_company()
        self.assertFalse(stats["daily_steps_skipped"])
        self.assertEqual(self._row().overdue_amount, 300.0)

    def test_a_customer_setting_changed_between_runs_runs_the_checks_again(self):
        self._invoice(self.customer, 20, 500.0)
        self._run_company()
        other = self.collector.copy({"login": "other.collector@example.com"})
        self.customer.with_company(self.company).dunning_collector_id = other
        stats = self._run_company()
        self.assertFalse(stats["daily_steps_skipped"])
        self.assertEqual(self._row().collector_id, other)

    def test_a_change_written_in_sql_runs_the_checks_again(self):
        move = self._invoice(self.customer, 20, 500.0)
        self._run_company()
        line = move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE dunning_line SET pause_reason = 'test' WHERE move_line_id = %s", line.id)
        )
        stats = self._run_company()
        self.assertFalse(stats["daily_steps_skipped"])

    def test_the_next_day_runs_the_checks(self):
        self._invoice(self.customer, 20, 500.0)
        self._run_company()
        stats = self._run_company(self.run_date + timedelta(days=1))
        self.assertFalse(stats["daily_steps_skipped"])
        self.assertEqual(stats["kpi_refreshed"], 1)

    @mute_logger("odoo.addons.dunning_b2b.models.dunning_engine")
    def test_checks_that_failed_run_again_the_same_day(self):
        self._invoice(self.customer, 20, 500.0)
        Worklist = type(self.env["dunning.worklist"])

        def failing(*args, **kwargs):
            raise RuntimeError("simulated failure of the worklist")

        with patch.object(Worklist, "_refresh", failing):
            stats = self._run_company()
        self.assertEqual(stats["failed_steps"], 1)
        stats = self._run_company()
        self.assertFalse(stats["daily_steps_skipped"])
        self.assertTrue(self._row())
