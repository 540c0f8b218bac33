"""Customer segmentation, deterioration and worklist priority: plain values in and out.

The daily job gathers, per customer and company, the figures of :class:`CustomerFigures`
set-wise and calls these functions; they never touch the database, so the rules can be read,
tested and benchmarked on their own.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

RISK_LEVELS = ("low", "medium", "high")
AGING_BUCKETS = ("0-30", "31-60", "61-90", "90+")


@dataclass(frozen=True)
class Thresholds:
    """Where a customer crosses from one class to the next (company settings)."""

    large_exposure: float = 10000.0
    medium_days_late: float = 10.0
    high_days_late: float = 30.0
    medium_on_time_share: float = 0.8
    high_on_time_share: float = 0.0
    grace_days: int = 3
    medium_promise_kept: float = 1.0
    high_promise_kept: float = 0.5
    medium_disputes: int = 1
    high_disputes: int = 3


@dataclass(frozen=True)
class CustomerFigures:
    """What the job knows about one customer in one company, in the company currency.

    ``days_late`` are (amount, days late) pairs of the invoices that fell due in the last 12
    months: paid ones at their payment date, open ones at the run date.
    """

    exposure: float = 0.0
    overdue_amount: float = 0.0
    days_late: tuple = field(default_factory=tuple)
    promises_kept: int = 0
    promises_broken: int = 0
    dispute_count: int = 0


def weighted_days_late(pairs):
    """Amount-weighted average of the days late of ``(amount, days late)`` pairs, or None.

    Days before the due date count as 0 (paying early does not buy credit for later).
    """
    total = sum(amount for amount, _days in pairs if amount > 0)
    if not total:
        return None
    return sum(amount * max(days, 0) for amount, days in pairs if amount > 0) / total


def late_sums(pairs, growing):
    """The exact sums behind :func:`weighted_days_late`: ``(amount x days late, amount,
    amount growing)`` as decimals, where ``growing`` are the (amount, due date) of the open
    items among ``pairs`` (a day later each day, so that the first sum grows by the third
    each day). Amounts are taken at their decimal value, so that a later day's average is
    exact from the sums alone."""
    amount_days = amount = grows = Decimal(0)
    for value, days in pairs:
        if value > 0:
            value = Decimal(str(value))
            amount += value
            amount_days += value * max(days, 0)
    for value, _due in growing:
        if value > 0:
            grows += Decimal(str(value))
    return amount_days, amount, grows


def rounded_days_late(amount_days, amount, digits=1):
    """The weighted days late of :func:`late_sums`, rounded half up to ``digits``."""
    if not amount:
        return 0.0
    step = Decimal(1).scaleb(-digits)
    return float((Decimal(amount_days) / Decimal(amount)).quantize(step, ROUND_HALF_UP))


def risk_dates(run_date, pairs, growing, thresholds):
    """The days after ``run_date`` on which the risk level may change by the date alone:
    the weighted days late reaching a threshold (a day early at worst), an open item
    passing its grace days (no longer paid on time)."""
    dates = []
    late = weighted_days_late(pairs)
    _amount_days, amount, grows = late_sums(pairs, growing)
    growth = float(grows / amount) if amount else 0.0
    if late is not None and growth > 0:
        for threshold in (thresholds.medium_days_late, thresholds.high_days_late):
            if late < threshold:
                days = int((threshold - late) / growth)
                dates.append(run_date + timedelta(days=max(days, 1)))
    for amount, due in growing:
        day = due + timedelta(days=thresholds.grace_days + 1)
        if amount > 0 and day > run_date:
            dates.append(day)
    return dates


def on_time_share(pairs, grace_days=0):
    """Share (0..1) of the amount paid at most ``grace_days`` after its due date, or None
    without history."""
    total = sum(amount for amount, _days in pairs if amount > 0)
    if not total:
        return None
    return sum(amount for amount, days in pairs if amount > 0 and days <= grace_days) / total


def promise_kept_ratio(kept, broken):
    """Kept promises over the promises that were decided, or None without any."""
    decided = kept + broken
    return kept / decided if decided else None


def risk_level(figures, thresholds):
    """``(level, reasons)``: "low", "medium" or "high" risk and why.

    A customer is as risky as its worst criterion; a criterion without history (no invoice
    due in the last 12 months, no promise decided) does not count against it.
    """
    reasons = {"medium": [], "high": []}
    late = weighted_days_late(figures.days_late)
    share = on_time_share(figures.days_late, thresholds.grace_days)
    kept = promise_kept_ratio(figures.promises_kept, figures.promises_broken)

    def check(value, medium, high, label, higher_is_worse=True):
        if value is None:
            return
        worse = (lambda a, b: a >= b) if higher_is_worse else (lambda a, b: a < b)
        if worse(value, high):
            reasons["high"].append(label)
        elif worse(value, medium):
            reasons["medium"].append(label)

    check(late, thresholds.medium_days_late, thresholds.high_days_late, "days late")
    check(
        share,
        thresholds.medium_on_time_share,
        thresholds.high_on_time_share,
        "paid on time",
        higher_is_worse=False,
    )
    check(
        kept,
        thresholds.medium_promise_kept,
        thresholds.high_promise_kept,
        "promises kept",
        higher_is_worse=False,
    )
    if thresholds.medium_disputes and thresholds.high_disputes:
        check(
            figures.dispute_count, thresholds.medium_disputes, thresholds.high_disputes, "disputes"
        )
    if reasons["high"]:
        return "high", reasons["high"]
    if reasons["medium"]:
        return "medium", reasons["medium"]
    return "low", []


def exposure_class(exposure, thresholds):
    """ "large" from the threshold on (inclusive), else "small"."""
    return "large" if exposure >= thresholds.large_exposure else "small"


def segment(figures, thresholds):
    """The segment key, e.g. ``"high_large"``, and the reasons of its risk level."""
    level, reasons = risk_level(figures, thresholds)
    return f"{level}_{exposure_class(figures.exposure, thresholds)}", reasons


def quarter_start(day):
    """First day of the calendar quarter of ``day``."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def previous_quarter(day):
    """``(first day, last day)`` of the quarter before the one of ``day``."""
    end = quarter_start(day) - timedelta(days=1)
    return quarter_start(end), end


def is_deteriorating(previous_rank, current_rank, used_to=1, now_at=3):
    """A customer who used to settle by stage ``used_to`` (last quarter's highest stage) and
    reaches stage ``now_at`` this quarter. ``previous_rank`` None means no history: nothing
    to compare with, so no flag."""
    if previous_rank is None or current_rank is None:
        return False
    return previous_rank <= used_to and current_rank >= now_at


def priority_score(overdue_items, risk_weight):
    """Worklist priority: overdue amount x days overdue x risk weight.

    ``overdue_items`` are ``(open amount, days overdue)`` pairs; each overdue invoice adds its
    amount times its days overdue, so the sum is the overdue amount times its amount-weighted
    average age. Items not yet overdue add nothing.
    """
    return risk_weight * sum(amount * days for amount, days in overdue_items if days > 0)


def priority_growth(overdue_items, risk_weight):
    """What :func:`priority_score` adds per day while the same items are overdue: their
    amount x risk weight (each overdue item is a day older each day)."""
    return risk_weight * sum(amount for amount, days in overdue_items if days > 0)


def aging_bucket(days_overdue):
    """The aging column of an open item: not yet due counts in "0-30"."""
    if days_overdue <= 30:
        return "0-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"


def aging_totals(items):
    """Net open amount per aging bucket of ``(amount, days overdue)`` items (credit notes and
    unapplied payments are negative), and the net total."""
    totals = dict.fromkeys(AGING_BUCKETS, 0.0)
    for amount, days in items:
        totals[aging_bucket(days)] += amount
    return totals, sum(totals.values())


def needs_action(
    overdue_amount,
    chased_amount,
    run_date,
    next_task_date=None,
    last_contact_date=None,
    contact_interval=7,
    promise_due=False,
    excluded=False,
):
    """Whether a customer is on today's worklist.

    On it: a task of the customer falls due, a promise to pay reached its date, or overdue
    invoices that are not paused (``chased_amount``) and no contact for ``contact_interval``
    days (or never). A customer excluded from dunning is not on it.
    """
    if excluded:
        return False
    if next_task_date and next_task_date <= run_date:
        return True
    if promise_due:
        return True
    if overdue_amount <= 0 or chased_amount <= 0:
        return False
    if last_contact_date is None:
        return True
    return (run_date - last_contact_date).days >= contact_interval
