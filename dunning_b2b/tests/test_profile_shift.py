from datetime import date, timedelta
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import SQL

from .common import RUN_DATE, DunningCommon
from .lines_common import LinesMixin

# What a profile shows; its next computation's date is left out (a shifted profile keeps the
# one computed with it).
FIGURES = (
    "segment", "collector_id", "level_id", "open_amount", "overdue_amount", "paid_count",
    "usual_paying_level_id", "usual_paying_stage", "usual_paying_share", "invoice_count",
    "dispute_count", "promise_kept_count", "promise_broken_count", "escalation_delta",
    "escalation_trend",
)  # fmt: skip


@tagged("post_install", "-at_install")
class TestProfileShift(LinesMixin, DunningCommon):
    """On a new day of the same month, a customer's KPI profile that only gets a day more
    past due is stamped with the day in SQL, not computed again (issue 15: "only on
    customers whose data changed"; every profile was computed again each day)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._date_moved_customers()
        cls.customers = cls.customer | cls.split | cls.soon | cls.paid

    def _profiles(self):
        profiles = self.env["dunning.customer.kpi"].search(
            [("company_id", "=", self.company.id), ("partner_id", "in", self.customers.ids)]
        )
        profiles.invalidate_recordset()
        return profiles

    def _figures(self):
        result = {}
        for profile in self._profiles():
            values = profile.read(list(FIGURES))[0]
            del values["id"]  # a profile computed again is a new row
            values["weighted_dpd"] = round(profile.weighted_dpd, 9)
            values["parts"] = profile.sudo().analysis_parts
            result[profile.partner_id.name] = values
        return result

    def _run_company(self, day):
        return self._run(run_date=RUN_DATE + timedelta(days=day), companies=self.company)

    def test_a_shifted_profile_equals_the_profile_computed_again(self):
        """Days 1, 2, 5, 9 and 12 of March (an instalment and an invoice falling due, days
        skipped), each run going on from the one before: after each run, every profile
        equals the profile computed again that day."""
        self._run_company(0)
        shifted = 0
        Kpi = self.env["dunning.kpi"].sudo()
        for day in (1, 2, 5, 9, 12):
            stats = self._run_company(day)
            self.assertFalse(stats["failed_steps"])
            shifted += stats["profiles_shifted"]
            after_run = self._figures()
            again = self._as_computed_again(
                lambda d=day: Kpi._refresh_company(self.company, RUN_DATE + timedelta(days=d)),
                self._figures,
            )
            self.assertEqual(again, after_run, f"day {day}")
        self.assertGreater(shifted, 4, "profiles were shifted, not only computed again")

    def test_a_shifted_profile_is_not_read_again(self):
        self._run_company(0)
        profile = self._profiles().filtered(lambda p: p.partner_id == self.customer)
        self.assertGreater(profile.recompute_date, RUN_DATE + timedelta(days=1))
        self.assertEqual(profile.weighted_dpd, 20)
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE dunning_customer_kpi SET open_amount = 1 WHERE id = %s", profile.id)
        )
        stats = self._run_company(1)
        self.assertGreaterEqual(stats["profiles_shifted"], 1)
        self.assertFalse(stats["failed_steps"], "the close adds up the shifted profiles")
        profile.invalidate_recordset()
        self.assertEqual(profile.weighted_dpd, 21)
        self.assertEqual(profile.open_amount, 1.0, "not computed again")
        self.assertEqual(profile.sudo().analysis_parts["date"], "2026-03-03")

    def test_the_day_a_profile_changes_by_the_date(self):
        """The instalment due on day 50 (a new month comes first), the invoice due in three
        days, the payment of 40 days ago leaving the twelve months, a new month."""
        self._run_company(0)
        dates = {p.partner_id: p.recompute_date for p in self._profiles()}
        self.assertEqual(dates[self.soon], RUN_DATE + timedelta(days=3), "its due date")
        self.assertEqual(dates[self.split], date(2026, 4, 1), "a new month first")
        self.assertEqual(dates[self.customer], date(2026, 4, 1))

    def test_a_new_month_computes_every_profile(self):
        self._run_company(0)
        stats = self._run_company(30)  # 1 April: another window
        self.assertFalse(stats["profiles_shifted"])
        self.assertEqual(stats["profiles_refreshed"], len(self._profiles()))

    def test_a_new_segment_computes_the_profile_again(self):
        """The daily checks' new segment is not journaled: the profile that shows the old
        one is computed again, not shifted."""
        self._run_company(0)
        profile = self._profiles().filtered(lambda p: p.partner_id == self.customer)
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE dunning_customer_kpi SET segment = 'low_small' WHERE id = %s", profile.id)
        )
        self._run_company(1)
        profile = self._profiles().filtered(lambda p: p.partner_id == self.customer)
        self.assertNotEqual(profile.segment, "low_small")
        self.assertEqual(profile.segment, self.customer.with_company(self.company).dunning_segment)

    def test_profiles_of_an_earlier_date_are_computed_again(self):
        """ "Refresh now" in a time zone still on the day before stamps every profile with
        that day, without what the run's day brought: the next day computes them again
        rather than shifting them (so does a worklist row computed for an earlier date)."""
        self._run_company(0)
        day_before = RUN_DATE - timedelta(days=1)
        self.env["dunning.kpi"].sudo()._refresh_company(self.company, day_before)
        rows = self.env["dunning.worklist"].search([("company_id", "=", self.company.id)])
        self.env["dunning.worklist"].sudo()._refresh(self.company, day_before, checks=False)
        self.assertEqual(set(rows.mapped("refresh_date")), {day_before})
        stats = self._run_company(1)
        self.assertFalse(stats["profiles_shifted"])
        self.assertFalse(stats["worklist_shifted"])
        self.assertEqual(stats["profiles_refreshed"], len(self._profiles()))
        self.assertEqual(set(rows.mapped("refresh_date")), {RUN_DATE + timedelta(days=1)})

    def test_no_shift_while_the_kpis_are_refreshed(self):
        """ "Refresh now" holds the company's KPIs: the plan does not wait for it (it holds
        the planning lock); the profiles are computed by batches that do."""
        self._run_company(0)
        Kpi = type(self.env["dunning.kpi"])
        with patch.object(Kpi, "_try_lock_kpis", lambda kpi, company: False):
            stats = self._run_company(1)
        self.assertFalse(stats["profiles_shifted"])
        self.assertFalse(stats["failed_steps"])
        self.assertEqual(stats["profiles_refreshed"], len(self._profiles()))

    def test_a_dispute_leaving_the_twelve_months(self):
        """A dispute counts for a year from its creation day: the profile is computed again
        the day it leaves the count, not shifted past it with one dispute too many."""
        dispute = self.env["dunning.dispute"].create(
            {"move_id": self.overdue.id, "reason": "pricing", "owner_id": self.collector.id}
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE dunning_dispute SET create_date = %s WHERE id = %s",
                f"{RUN_DATE - timedelta(days=365)} 10:00:00",
                dispute.id,
            )
        )
        self.env.invalidate_all()
        self._run_company(0)
        profile = self._profiles().filtered(lambda p: p.partner_id == self.customer)
        self.assertEqual(profile.dispute_count, 1)
        self.assertEqual(profile.recompute_date, RUN_DATE + timedelta(days=1))
        self._run_company(1)
        profile = self._profiles().filtered(lambda p: p.partner_id == self.customer)
        self.assertEqual(profile.dispute_count, 0)
