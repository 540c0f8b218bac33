from datetime import date, timedelta

from odoo.tests import BaseCase, tagged

from ..engine.items import OpenItem
from ..engine.segment import (
    CustomerFigures,
    Thresholds,
    late_sums,
    priority_growth,
    priority_score,
    risk_dates,
    risk_level,
    rounded_days_late,
    weighted_days_late,
)
from ..engine.worklist import customer_figures

RUN = date(2026, 3, 2)
USD, EUR = 1, 2


def item(line_id, amount, due=None, currency=USD, company_amount=None, move_id=None, **kw):
    return OpenItem(
        line_id=line_id,
        move_id=move_id or line_id,
        partner_id=kw.pop("partner_id", 7),
        company_id=1,
        currency_id=currency,
        due_date=due,
        amount=amount,
        amount_company=amount if company_amount is None else company_amount,
        **kw,
    )


@tagged("post_install", "-at_install")
class TestWorklistFigures(BaseCase):
    """Open figures of a customer from its receivable lines (engine.worklist)."""

    def test_instalments_each_on_its_due_date(self):
        figures = customer_figures(
            [item(1, 500, date(2026, 1, 31), move_id=9), item(2, 500, date(2026, 4, 1), move_id=9)],
            RUN,
        )[7]
        self.assertEqual((figures.overdue, figures.max_days, figures.open_count), (500, 30, 2))
        self.assertEqual(figures.overdue_items, [(500, 30)])
        self.assertEqual(figures.first_due, date(2026, 1, 31))
        self.assertEqual(figures.next_due, date(2026, 4, 1), "the next to fall due")

    def test_credits_net_in_proportion_and_per_currency(self):
        items = [
            item(1, 600, date(2026, 2, 20)),  # 10 days
            item(2, 400, date(2026, 2, 10)),  # 20 days
            item(3, -500),  # credit note, same currency
            item(4, -1000, currency=EUR, company_amount=-500),  # EUR credit: nets nothing
        ]
        figures = customer_figures(items, RUN)[7]
        self.assertEqual(figures.overdue, 500)
        self.assertEqual(figures.gross_overdue, 1000)
        self.assertEqual(figures.exposure, 500, "never below zero in a currency: EUR nets no USD")
        self.assertEqual(figures.overdue_items, [(300, 10), (200, 20)])
        self.assertFalse(figures.credit_covers_overdue)

    def test_covered_customer_has_nothing_overdue(self):
        figures = customer_figures([item(1, 1000, date(2026, 2, 1)), item(2, -1000)], RUN)[7]
        self.assertTrue(figures.credit_covers_overdue)
        self.assertEqual((figures.overdue, figures.chased, figures.max_days), (0, 0, 0))

    def test_paused_and_excluded_lines_are_not_chased(self):
        items = [
            item(1, 300, date(2026, 2, 1), move_id=5),
            item(2, 200, date(2026, 2, 1), move_id=6, excluded=True),
        ]
        figures = customer_figures(items, RUN, paused_move_ids={5})[7]
        self.assertEqual((figures.overdue, figures.chased), (500, 0))
        self.assertFalse(figures.excluded, "one line is not excluded")
        self.assertTrue(figures.paused)
        self.assertFalse(customer_figures(items, RUN)[7].paused)

    def test_only_credits_is_not_a_customer_to_chase(self):
        self.assertEqual(customer_figures([item(1, -100)], RUN), {})


@tagged("post_install", "-at_install")
class TestWorklistGrowth(BaseCase):
    """How a worklist row moves by the date alone (engine.segment): the daily shift adds the
    growth, and stops at the days on which the risk level may change."""

    def test_priority_grows_by_its_growth(self):
        items = [(300.0, 10), (200.0, 20)]
        aged = [(amount, days + 5) for amount, days in items]
        growth = priority_growth(items, 1.5)
        self.assertEqual(growth, 750.0)
        self.assertEqual(priority_score(aged, 1.5), priority_score(items, 1.5) + 5 * growth)

    def test_days_late_grow_with_the_open_items_only(self):
        pairs = [(100.0, 4), (300.0, 12), (50.0, -3)]  # paid late; open; paid early
        growing = [(300.0, RUN - timedelta(days=12))]
        amount_days, amount, grows = late_sums(pairs, growing)
        self.assertEqual((amount_days, amount, grows), (4000, 450, 300))
        self.assertEqual(rounded_days_late(amount_days, amount), 8.9)  # 8.888...
        aged = [(100.0, 4), (300.0, 15), (50.0, -3)]
        self.assertEqual(
            rounded_days_late(amount_days + 3 * grows, amount),
            round(weighted_days_late(aged), 1),
        )
        self.assertEqual(rounded_days_late(*late_sums([], [])[:2]), 0.0)

    def test_days_late_are_rounded_half_up_exactly(self):
        """0.1 x 1 day over 0.4 is 0.25 exactly: half up, whatever binary floats make of it."""
        amount_days, amount, _grows = late_sums([(0.1, 1), (0.3, 0)], [])
        self.assertEqual(rounded_days_late(amount_days, amount), 0.3)
        amount_days, amount, _grows = late_sums([(0.07, 3), (0.13, 1)], [])  # 0.34 / 0.2
        self.assertEqual(rounded_days_late(amount_days, amount), 1.7)

    def test_the_risk_level_is_checked_on_the_day_it_may_change(self):
        thresholds = Thresholds(medium_days_late=10, high_days_late=30, grace_days=3)
        # 10 days late now (weighted), growing by 0.75 a day: 30 after 26.7 days.
        pairs = [(100.0, 4), (300.0, 12)]
        growing = [(300.0, RUN - timedelta(days=12))]
        dates = risk_dates(RUN, pairs, growing, thresholds)
        crossing = min(dates)
        self.assertEqual(crossing, RUN + timedelta(days=26), "a day early at worst")
        for day in (0, 26, 27):
            aged = [(100.0, 4), (300.0, 12 + day)]
            level = risk_level_of(aged, thresholds)
            self.assertEqual(level, "high" if day >= 27 else "medium", day)
        # An open item within its grace days: no longer on time the day after them.
        fresh = [(300.0, RUN - timedelta(days=1))]
        self.assertIn(RUN + timedelta(days=3), risk_dates(RUN, [(300.0, 1)], fresh, thresholds))


def risk_level_of(pairs, thresholds):
    return risk_level(CustomerFigures(exposure=0, overdue_amount=0, days_late=tuple(pairs)),
                      thresholds)[0]  # fmt: skip
