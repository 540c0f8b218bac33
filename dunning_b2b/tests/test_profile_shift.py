from datetime import date, timedelta

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
        cls.overdue = cls._invoice(cls.customer, 20, 500.0)
        cls.split = cls._customer("Cedar Split", "ap@cedar.test")
        cls._instalment_invoice(cls.split, RUN_DATE - timedelta(days=40), 1000.0)
        cls.soon = cls._customer("Elm Soon", "ap@elm.test")
        cls._invoice(cls.soon, -3, 250.0)
        # Paid a day late, 40 days ago: in the twelve months of the payment history.
        cls.paid = cls._customer("Gum Paid", "ap@gum.test")
        cls._paid_invoice(cls.paid, RUN_DATE - timedelta(days=71), RUN_DATE - timedelta(days=41),
                          300.0, RUN_DATE - timedelta(days=40))  # fmt: skip
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
        skipped): after each run, every profile equals the profile computed again that day,
        and the KPIs add up the same."""
        self._run_company(0)
        shifted = 0
        Kpi = self.env["dunning.kpi"].sudo()
        for day in (1, 2, 5, 9, 12):
            stats = self._run_company(day)
            self.assertFalse(stats["failed_steps"])
            shifted += stats["profiles_shifted"]
            after_run = self._figures()
            Kpi._refresh_company(self.company, RUN_DATE + timedelta(days=day))
            self.assertEqual(self._figures(), after_run, f"day {day}")
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
        """The instalment due on day 50 (falls due on its day), the invoice due in three
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
