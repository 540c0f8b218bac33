from datetime import date

from odoo.tests import BaseCase, tagged

from ..engine.charges import (
    Band,
    MissingRate,
    RatePeriod,
    band_fee,
    band_problem,
    interest_amount,
    interest_on_balance,
    interest_parts,
    period_problem,
    round_amount,
)

UK = [Band(0.0, 999.99, 40.0), Band(1000.0, 9999.99, 70.0), Band(10000.0, None, 100.0)]
H1, H2 = date(2026, 1, 1), date(2026, 7, 1)


@tagged("post_install", "-at_install")
class TestChargesUnit(BaseCase):
    """Compensation bands, reference rate periods and interest, on plain values."""

    def test_uk_bands_at_their_edges(self):
        """UK late payment: 40 GBP below 1,000.00, 70 GBP from 1,000.00 to 9,999.99, 100 GBP
        from 10,000.00: 999.99 -> 40, 1,000.00 -> 70, 9,999.99 -> 70, 10,000.00 -> 100."""
        self.assertIsNone(band_problem(UK))
        self.assertEqual(band_fee(UK, 999.99), 40.0)
        self.assertEqual(band_fee(UK, 1000.00), 70.0)
        self.assertEqual(band_fee(UK, 9999.99), 70.0)
        self.assertEqual(band_fee(UK, 10000.00), 100.0)
        self.assertEqual(band_fee(UK, 0.01), 40.0)

    def test_eu_single_band(self):
        """EU 2011/7/EU: 40 EUR whatever the amount, one open band from 0."""
        eu = [Band(0.0, None, 40.0)]
        self.assertIsNone(band_problem(eu))
        self.assertEqual(band_fee(eu, 123456.78), 40.0)

    def test_band_problems(self):
        """A gap (1,000.01 instead of 1,000.00), an overlap (999.99 again), a band that does
        not start at 0, an end before its start, an open band that is not the last and a
        bounded last band are each named."""
        gap = [Band(0.0, 999.99, 40.0), Band(1000.01, None, 70.0)]
        overlap = [Band(0.0, 999.99, 40.0), Band(999.99, None, 70.0)]
        self.assertEqual(band_problem(gap).kind, "gap")
        self.assertEqual((band_problem(gap).first, band_problem(gap).second), (0, 1))
        self.assertEqual(band_problem(overlap).kind, "overlap")
        self.assertEqual(band_problem([Band(10.0, None, 40.0)]).kind, "start")
        self.assertEqual(band_problem([Band(0.0, -1.0, 40.0)]).kind, "order")
        self.assertEqual(band_problem([Band(0.0, None, 40.0), Band(5.0, None, 1.0)]).kind, "open")
        self.assertEqual(band_problem([Band(0.0, 999.99, 40.0)]).kind, "open")
        # A currency without cents: the next band starts one unit above.
        self.assertIsNone(band_problem([Band(0, 999, 5), Band(1000, None, 9)], step=1))

    def test_interest_37_days_at_4_5_plus_8(self):
        """10,000.00 for 37 days at 4.5 % + 8 % = 12.5 % a year, actual/365:
        10,000 x 0.125 x 37 / 365 = 46,250 / 365 = 126.7123... -> 126.71."""
        periods = [RatePeriod(H1, None, 4.5)]
        amount, parts = interest_amount(10000.0, date(2026, 1, 24), date(2026, 3, 2), periods, 8.0)
        self.assertEqual(amount, 126.71)
        self.assertEqual([(p.days, p.rate) for p in parts], [(37, 12.5)])

    def test_interest_split_where_the_rate_changes(self):
        """1,000.00 due on 20 June 2026, charged on 10 July 2026: 10 days (21-30 June) at
        2 % + 8 % = 10 % and 10 days (1-10 July) at 3 % + 8 % = 11 %:
        1,000 x 0.10 x 10/365 = 2.7397 and 1,000 x 0.11 x 10/365 = 3.0137; together
        5.7534 -> 5.75 (rounded once, not per part: 2.74 + 3.01 = 5.75 here too)."""
        periods = [RatePeriod(H1, date(2026, 6, 30), 2.0), RatePeriod(H2, None, 3.0)]
        amount, parts = interest_amount(1000.0, date(2026, 6, 20), date(2026, 7, 10), periods, 8.0)
        self.assertEqual([(p.days, p.rate) for p in parts], [(10, 10.0), (10, 11.0)])
        self.assertEqual(amount, 5.75)

    def test_interest_rounds_once_half_up(self):
        """100.00 at 0 % + 3.65 % for 5 days: 100 x 0.0365 x 5/365 = 0.05 exactly; for 1 day
        0.01; 50.00 for 1 day at 9.125 %: 50 x 0.09125 / 365 = 0.0125 -> 0.01; half a cent
        rounds up: round_amount(0.005) = 0.01."""
        periods = [RatePeriod(H1, None, 0.0)]
        self.assertEqual(interest_amount(100.0, H1, date(2026, 1, 6), periods, 3.65)[0], 0.05)
        self.assertEqual(interest_amount(50.0, H1, date(2026, 1, 2), periods, 9.125)[0], 0.01)
        self.assertEqual(round_amount(0.005), 0.01)
        self.assertEqual(round_amount(2.675), 2.68)

    def test_no_interest_for_no_days_and_missing_rates(self):
        periods = [RatePeriod(H1, date(2026, 6, 30), 2.0)]
        self.assertEqual(interest_parts(1000.0, date(2026, 3, 2), date(2026, 3, 2), periods, 8), [])
        with self.assertRaises(MissingRate) as caught:
            interest_parts(1000.0, date(2026, 6, 20), date(2026, 7, 10), periods, 8)
        self.assertEqual(caught.exception.day, date(2026, 7, 1))
        with self.assertRaises(MissingRate) as caught:
            interest_parts(1000.0, date(2025, 12, 20), date(2026, 1, 10), periods, 8)
        self.assertEqual(caught.exception.day, date(2025, 12, 21))

    def test_period_problems(self):
        ok = [RatePeriod(H1, date(2026, 6, 30), 2.0), RatePeriod(H2, None, 3.0)]
        self.assertIsNone(period_problem(ok))
        gap = [RatePeriod(H1, date(2026, 6, 29), 2.0), RatePeriod(H2, None, 3.0)]
        overlap = [RatePeriod(H1, date(2026, 7, 1), 2.0), RatePeriod(H2, None, 3.0)]
        self.assertEqual(period_problem(gap).kind, "gap")
        self.assertEqual(period_problem(overlap).kind, "overlap")
        self.assertEqual(
            period_problem([RatePeriod(H1, None, 2), RatePeriod(H2, None, 3)]).kind, "open"
        )
        self.assertEqual(period_problem([RatePeriod(H2, H1, 2)]).kind, "order")

    def test_interest_on_what_was_open_each_day(self):
        """10,000.00 due 24 January, 4,000.00 paid on 11 February, 6,000.00 open on 2 March:
        10,000 x 12.5 % x 18 / 365 = 61.6438 (25 Jan - 11 Feb) + 6,000 x 12.5 % x 19 / 365
        = 39.0411 (12 Feb - 2 Mar) = 100.6849 -> 100.68. A payment before the start (the end
        of the last interest charged) changes nothing."""
        periods = [RatePeriod(H1, None, 4.5)]
        start, end = date(2026, 1, 24), date(2026, 3, 2)
        paid = [(date(2026, 2, 11), 4000.0), (date(2026, 1, 10), 500.0)]
        amount, parts, opening = interest_on_balance(6000.0, paid, start, end, periods, 8.0)
        self.assertEqual(amount, 100.68)
        self.assertEqual(opening, 10000.0)
        self.assertEqual([p.days for p in parts], [18, 19])
        self.assertEqual(interest_on_balance(10000.0, [], start, end, periods, 8.0)[0], 126.71)
