"""Late-payment charges: the fixed compensation of an invoice by amount band, and statutory
interest at a reference rate plus a margin, actual/365. Plain values in, plain values out,
no ORM.

Amounts are compared in steps of the currency's rounding (0.01 for most currencies): a band
``[amount_from, amount_to]`` holds both ends, the next band starts one step above, and the
last band has no upper limit (``amount_to`` None). Interest counts the days after its start
up to and including its end, ``(start, end]``: 37 days from a due date of 24 January to
2 March; each day at the rate of the period that holds it.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

DAYS_IN_YEAR = 365


@dataclass(frozen=True)
class Band:
    """A compensation band of one currency: invoices of ``amount_from`` up to ``amount_to``
    (both held; None: no upper limit) owe ``fee``."""

    amount_from: float
    amount_to: float | None
    fee: float


@dataclass(frozen=True)
class RatePeriod:
    """A reference rate (annual, in %) from ``date_from`` to ``date_to`` (both held; None:
    until further notice)."""

    date_from: date
    date_to: date | None
    rate: float


@dataclass(frozen=True)
class InterestPart:
    """Interest on ``amount`` for the days ``(start, end]`` at ``rate`` % a year (reference
    rate plus margin); ``interest`` unrounded."""

    start: date
    end: date
    days: int
    rate: float
    interest: float


@dataclass(frozen=True)
class Problem:
    """Why a table is wrong: ``kind`` is "start" (the first band does not start at 0),
    "order" (an end before its start), "overlap", "gap" or "open" (an open end that is not
    the last); ``first`` and ``second`` the rows concerned (indexes in the sorted table)."""

    kind: str
    first: int
    second: int | None = None


def _steps(amount, step):
    return round(Decimal(str(amount)) / Decimal(str(step)))


def band_problem(bands, step=0.01):
    """The first problem of a currency's bands sorted by ``amount_from``, or None.

    The bands must cover every amount from 0 up, once: the first starts at 0, each next one
    starts one ``step`` above the end of the previous one, only the last is open-ended.
    """
    for index, band in enumerate(bands):
        if band.amount_to is not None and _steps(band.amount_to, step) < _steps(
            band.amount_from, step
        ):
            return Problem("order", index)
    if bands and _steps(bands[0].amount_from, step) != 0:
        return Problem("start", 0)
    for index, (previous, band) in enumerate(pairwise(bands)):
        if previous.amount_to is None:
            return Problem("open", index, index + 1)
        expected = _steps(previous.amount_to, step) + 1
        start = _steps(band.amount_from, step)
        if start < expected:
            return Problem("overlap", index, index + 1)
        if start > expected:
            return Problem("gap", index, index + 1)
    if bands and bands[-1].amount_to is not None:
        return Problem("open", len(bands) - 1)
    return None


def band_fee(bands, amount, step=0.01):
    """The fee of the band that holds ``amount`` (0.0 when none does)."""
    value = _steps(amount, step)
    for band in bands:
        if _steps(band.amount_from, step) <= value and (
            band.amount_to is None or value <= _steps(band.amount_to, step)
        ):
            return band.fee
    return 0.0


def period_problem(periods):
    """The first problem of reference rates sorted by ``date_from``, or None: each period
    starts the day after the previous one ends, only the last may be open-ended."""
    for index, period in enumerate(periods):
        if period.date_to is not None and period.date_to < period.date_from:
            return Problem("order", index)
    for index, (previous, period) in enumerate(pairwise(periods)):
        if previous.date_to is None:
            return Problem("open", index, index + 1)
        expected = previous.date_to + timedelta(days=1)
        if period.date_from < expected:
            return Problem("overlap", index, index + 1)
        if period.date_from > expected:
            return Problem("gap", index, index + 1)
    return None


class MissingRate(ValueError):
    """No reference rate holds ``day``."""

    def __init__(self, day):
        super().__init__(day)
        self.day = day


def interest_parts(amount, start, end, periods, margin):
    """Interest on ``amount`` for the days ``(start, end]``, one part per reference rate
    period crossed, at the period's rate plus ``margin`` (both % a year), actual/365.

    :param periods: RatePeriod values sorted by date, without gaps (see period_problem)
    :raise MissingRate: when a day of the span has no reference rate
    """
    if end <= start or not amount:
        return []
    parts = []
    day = start  # interest is counted up to here
    for period in periods:
        if period.date_to is not None and period.date_to <= day:
            continue
        if period.date_from > day + timedelta(days=1):
            raise MissingRate(day + timedelta(days=1))
        part_end = end if period.date_to is None else min(end, period.date_to)
        days = (part_end - day).days
        rate = period.rate + margin
        interest = float(Decimal(str(amount)) * Decimal(str(rate)) / 100 * days / DAYS_IN_YEAR)
        parts.append(InterestPart(day, part_end, days, rate, interest))
        day = part_end
        if day >= end:
            return parts
    raise MissingRate(day + timedelta(days=1))


def round_amount(value, step=0.01):
    """``value`` rounded half up to a multiple of ``step`` (the currency's rounding)."""
    step = Decimal(str(step))
    return float((Decimal(str(value)) / step).quantize(Decimal(1), ROUND_HALF_UP) * step)


def interest_amount(amount, start, end, periods, margin, step=0.01):
    """The interest of :func:`interest_parts`, summed then rounded once to ``step``:
    10,000.00 for 37 days at 4.5 % + 8 % = 10,000 x 12.5 % x 37 / 365 = 126.7123... -> 126.71.
    """
    parts = interest_parts(amount, start, end, periods, margin)
    return round_amount(sum(part.interest for part in parts), step), parts


def interest_on_balance(amount, payments, start, end, periods, margin, step=0.01):
    """Interest for the days ``(start, end]`` on what was open each day: ``amount`` open now,
    plus each payment ``(date, paid)`` for the days up to its date (a payment made on day p
    stops the interest on what it paid from the day after p). Payments on or before
    ``start`` change nothing. Summed, then rounded once to ``step``.

    10,000.00 due 24 January, 4,000.00 paid on 11 February, charged on 2 March (6,000.00
    open): 10,000 x 12.5 % x 18 / 365 = 61.6438 and 6,000 x 12.5 % x 19 / 365 = 39.0411;
    100.6849 -> 100.68.

    :return: (rounded interest, InterestPart list, the amount open at ``start``)
    """
    later = sorted((day, paid) for day, paid in payments if day > start)
    opening = amount + sum(paid for _day, paid in later)
    parts = []
    day = start
    for stop in sorted({d for d, _paid in later if d < end} | {end}):
        open_amount = amount + sum(paid for d, paid in later if d >= stop)
        parts += interest_parts(open_amount, day, stop, periods, margin)
        day = stop
    return round_amount(sum(part.interest for part in parts), step), parts, opening
