from datetime import date

from odoo.tests import BaseCase, tagged

from ..engine import kpi


@tagged("post_install", "-at_install")
class TestKpiFormulas(BaseCase):
    """The KPI formulas on plain numbers, without a database."""

    def test_ledger_kpis(self):
        """Opening 1,000, credit sales 2,000 in a 31-day month, closing 1,200 of which 500 not
        yet due; 50 written off; overdue at the end: 100 at 10 days and 300 at 30 days.

        - CEI = (1000 + 2000 - 1200) / (1000 + 2000 - 500) * 100 = 1800 / 2500 = 72 %
        - DSO simple = 1200 / 2000 * 31 = 18.6 days
        - countback with months (newest first) 1000/31 d, 800/30 d: 1200 - 1000 = 200 left
          after the first month, 200 / 800 * 30 = 7.5 -> 31 + 7.5 = 38.5 days
        - best possible DSO = 500 / 2000 * 31 = 7.75; ADD = 18.6 - 7.75 = 10.85 days
        - weighted days past due = (100 * 10 + 300 * 30) / 400 = 25 days
        - bad debt = 50 / 2000 = 2.5 %; collected = 1000 + 2000 - 1200 = 1800
        """
        values = kpi.ledger_kpis(
            kpi.LedgerFigures(
                opening=1000, credit_sales=2000, closing=1200, closing_current=500,
                written_off=50, days=31,
                weighted_dpd=kpi.weighted_days_past_due([(100, 10), (300, 30)]),
                monthly_sales=((1000, 31), (800, 30), (600, 31)),
            )
        )  # fmt: skip
        expected = {
            "cei": 72.0, "dso": 18.6, "dso_countback": 38.5, "best_dso": 7.75,
            "add": 10.85, "weighted_dpd": 25.0, "bad_debt": 2.5, "collected": 1800,
        }  # fmt: skip
        for key, value in expected.items():
            with self.subTest(kpi=key):
                self.assertAlmostEqual(values[key], value, places=6)

    def test_undefined_ratios_are_none(self):
        self.assertIsNone(kpi.cei(0, 0, 0, 0))
        self.assertIsNone(kpi.dso_simple(100, 0, 30))
        self.assertIsNone(kpi.average_days_delinquent(None, 3))
        self.assertIsNone(kpi.weighted_days_past_due([(100, 0), (0, 12)]))
        self.assertIsNone(kpi.promises_kept_ratio(0, 0))
        self.assertIsNone(kpi.dso_countback(100, []))

    def test_countback_edges(self):
        """No receivables: 0 days. Receivables above the whole history: the history's days
        (60), a floor. A month without sales counts whole: 150 over [0/31, 300/30] is
        31 + 150 / 300 * 30 = 46 days."""
        self.assertEqual(kpi.dso_countback(0, [(100, 31)]), 0.0)
        self.assertEqual(kpi.dso_countback(1000, [(100, 30), (100, 30)]), 60)
        self.assertAlmostEqual(kpi.dso_countback(150, [(0, 31), (300, 30)]), 46.0)

    def test_resolution_by_stage(self):
        """Stage 1 entered by invoices 1, 2, 3 on 1 Jan; stage 2 by 2 and 3 on 11 Jan; stage 3
        by 3 on 26 Jan. Invoice 1 is paid on 8 Jan (at stage 1), invoice 2 on 20 Jan (at
        stage 2); invoice 3 pays 400 on 15 Jan and the rest is written off on 30 Jan.

        - stage 1: 3 entered, 1 paid there -> 33.3 %; recovered 1,000 of 3,000 entered
        - stage 2: 2 entered, 1 paid there -> 50 %; recovered 1,000 + 400 = 1,400
        - stage 3: 1 entered, settled by the write-off -> 0 % paid, 600 written off
        """
        jan = lambda d: date(2026, 1, d)  # noqa: E731
        events = [
            (1, 10, jan(1), -7, 1000), (2, 10, jan(1), -7, 1000), (3, 10, jan(1), -7, 1000),
            (2, 20, jan(11), 1, 1000), (3, 20, jan(11), 1, 1000), (3, 30, jan(26), 16, 600),
        ]  # fmt: skip
        entries = kpi.stage_entries(events)
        settlements = {
            1: [kpi.Settlement(1, jan(8), 1000)],
            2: [kpi.Settlement(2, jan(20), 1000)],
            3: [kpi.Settlement(3, jan(15), 400), kpi.Settlement(3, jan(30), 0, 600)],
        }
        settled_on = {1: jan(8), 2: jan(20), 3: jan(30)}
        result = kpi.resolution_by_stage(entries, settlements, settled_on)
        self.assertEqual(
            {s: (r["entered"], r["resolved"], r["written_off_count"]) for s, r in result.items()},
            {10: (3, 1, 0), 20: (2, 1, 0), 30: (1, 0, 1)},
        )  # fmt: skip
        self.assertAlmostEqual(result[10]["rate"], 100 / 3)
        self.assertEqual(result[20]["rate"], 50.0)
        self.assertEqual(result[10]["recovered"], 1000)
        self.assertEqual(result[20]["recovered"], 1400)
        self.assertAlmostEqual(result[20]["recovery_rate"], 70.0)
        self.assertEqual(result[30]["written_off"], 600)
        # Entries outside the period do not count.
        self.assertEqual(set(kpi.resolution_by_stage(entries, settlements, settled_on,
                                                     start=jan(10))), {20, 30})  # fmt: skip
        outcome = kpi.stage_outcome(entries[0], settlements[1], None)
        self.assertEqual(outcome["status"], "open")

    def test_customer_profile(self):
        """Paid at stages [1, 2, 2, None]: usually at stage 2 (50 %). A tie [1, 2] goes to the
        later stage. 3 disputes over 12 invoices = 25 per 100; 3 promises kept of 4 = 75 %.
        Highest stages reached moving from [1, 1, 2] (avg 1.33) to [3, 3] (3): +1.67, worsening."""
        rank = {1: 1, 2: 2}
        self.assertEqual(kpi.usual_paying_stage([1, 2, 2, None], rank), (2, 50.0))
        self.assertEqual(kpi.usual_paying_stage([1, 2], rank), (2, 50.0))
        self.assertEqual(kpi.usual_paying_stage([], rank), (None, None))
        self.assertEqual(kpi.dispute_frequency(3, 12), 25.0)
        self.assertEqual(kpi.promises_kept_ratio(3, 1), 75.0)
        delta, trend = kpi.escalation_trend([1, 1, 2], [3, 3])
        self.assertAlmostEqual(delta, 5 / 3)
        self.assertEqual(trend, "worsening")
        self.assertEqual(kpi.escalation_trend([3, 3], [1, 2])[1], "improving")
        self.assertEqual(kpi.escalation_trend([2], [2])[1], "stable")
        self.assertEqual(kpi.escalation_trend([], [2]), (None, "new"))
        entries = kpi.stage_entries([(1, 10, date(2026, 1, 1), -7, 0),
                                     (1, 20, date(2026, 1, 11), 1, 0)])  # fmt: skip
        self.assertIsNone(kpi.stage_at(entries, date(2025, 12, 31)))
        self.assertEqual(kpi.stage_at(entries, date(2026, 1, 11)), 20)
