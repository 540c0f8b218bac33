from datetime import date

from odoo.tests import BaseCase, tagged

from ..engine import (
    CustomerFigures,
    Thresholds,
    aging_bucket,
    aging_totals,
    exposure_class,
    is_deteriorating,
    needs_action,
    on_time_share,
    previous_quarter,
    priority_score,
    promise_kept_ratio,
    quarter_start,
    risk_level,
    segment,
    weighted_days_late,
)

RUN = date(2026, 3, 2)


@tagged("post_install", "-at_install")
class TestSegmentUnit(BaseCase):
    """Segmentation, deterioration and priority rules on plain values."""

    def test_payment_behaviour_figures(self):
        pairs = ((1000, -3), (500, 12), (500, 0))
        self.assertAlmostEqual(weighted_days_late(pairs), 3.0)  # 500 x 12 / 2000
        self.assertEqual(on_time_share(pairs), 0.75)
        self.assertEqual(on_time_share(pairs, grace_days=12), 1.0)
        self.assertIsNone(weighted_days_late(()))
        self.assertIsNone(on_time_share(()))
        self.assertIsNone(promise_kept_ratio(0, 0))
        self.assertEqual(promise_kept_ratio(3, 1), 0.75)

    def test_days_late_boundaries(self):
        thresholds = Thresholds(medium_on_time_share=0.0)
        for days, expected in ((9, "low"), (10, "medium"), (29, "medium"), (30, "high")):
            with self.subTest(days=days):
                figures = CustomerFigures(days_late=((100.0, days),))
                self.assertEqual(risk_level(figures, thresholds)[0], expected)

    def test_other_criteria(self):
        thresholds = Thresholds()
        late_payer = CustomerFigures(days_late=((100.0, 5), (300.0, 0)))
        self.assertEqual(risk_level(late_payer, thresholds), ("medium", ["paid on time"]))
        self.assertEqual(risk_level(CustomerFigures(dispute_count=1), thresholds)[0], "medium")
        self.assertEqual(risk_level(CustomerFigures(dispute_count=3), thresholds)[0], "high")
        broken = CustomerFigures(promises_kept=1, promises_broken=2)
        self.assertEqual(risk_level(broken, thresholds), ("high", ["promises kept"]))
        self.assertEqual(risk_level(CustomerFigures(), thresholds), ("low", []))
        no_disputes = Thresholds(medium_disputes=0, high_disputes=0)
        self.assertEqual(risk_level(CustomerFigures(dispute_count=9), no_disputes)[0], "low")

    def test_exposure_boundary_and_segment(self):
        thresholds = Thresholds(large_exposure=10000)
        self.assertEqual(exposure_class(9999.99, thresholds), "small")
        self.assertEqual(exposure_class(10000, thresholds), "large")
        figures = CustomerFigures(exposure=10000, days_late=((10000, 45),))
        self.assertEqual(segment(figures, thresholds)[0], "high_large")

    def test_quarters(self):
        self.assertEqual(quarter_start(RUN), date(2026, 1, 1))
        self.assertEqual(quarter_start(date(2026, 12, 31)), date(2026, 10, 1))
        self.assertEqual(previous_quarter(RUN), (date(2025, 10, 1), date(2025, 12, 31)))

    def test_deterioration(self):
        self.assertTrue(is_deteriorating(1, 3))
        self.assertTrue(is_deteriorating(0, 4))
        self.assertFalse(is_deteriorating(2, 3), "already slow last quarter")
        self.assertFalse(is_deteriorating(1, 2), "not far enough this quarter")
        self.assertFalse(is_deteriorating(None, 5), "no history to compare with")
        self.assertTrue(is_deteriorating(2, 4, used_to=2, now_at=4))

    def test_priority(self):
        self.assertEqual(priority_score([(1000, 20), (500, 10)], 2.0), 50000)
        self.assertEqual(priority_score([(1000, -3), (1000, 0)], 4.0), 0, "not yet overdue")
        ranked = sorted(
            {
                "big recent": priority_score([(3000, 5)], 2.0),
                "small old risky": priority_score([(200, 100)], 4.0),
                "medium": priority_score([(1000, 20)], 2.0),
            }.items(),
            key=lambda item: -item[1],
        )
        self.assertEqual(
            [name for name, _score in ranked], ["small old risky", "medium", "big recent"]
        )

    def test_aging(self):
        for days, bucket in ((-5, "0-30"), (30, "0-30"), (31, "31-60"), (60, "31-60"),
                             (61, "61-90"), (90, "61-90"), (91, "90+")):  # fmt: skip
            with self.subTest(days=days):
                self.assertEqual(aging_bucket(days), bucket)
        totals, net = aging_totals([(1000, 40), (-200, 5), (-300, 1)])
        self.assertEqual(totals, {"0-30": -500, "31-60": 1000, "61-90": 0, "90+": 0})
        self.assertEqual(net, 500)

    def test_needs_action(self):
        self.assertTrue(needs_action(100, 100, RUN), "overdue and never contacted")
        self.assertFalse(needs_action(100, 100, RUN, last_contact_date=date(2026, 2, 28)))
        self.assertTrue(needs_action(100, 100, RUN, last_contact_date=date(2026, 2, 23)))
        self.assertFalse(needs_action(100, 0, RUN), "everything overdue is paused")
        self.assertTrue(needs_action(0, 0, RUN, next_task_date=RUN), "a task falls due")
        self.assertFalse(needs_action(0, 0, RUN, next_task_date=date(2026, 3, 3)))
        self.assertTrue(needs_action(100, 0, RUN, promise_due=True))
