"""Whether a promise to pay was kept, is still running or was broken, from plain values.

A promise covers some invoices. What the customer paid towards it is how much the open
amount of those invoices went down since the promise was recorded; payments made before
do not count.
"""

from dataclasses import dataclass
from datetime import date

OPEN, KEPT, BROKEN = "open", "kept", "broken"


@dataclass(frozen=True)
class PromiseState:
    """What the check needs to know about one open promise."""

    promise_id: int
    amount: float
    promise_date: date
    open_at_start: float
    open_now: float
    extension_date: date | None = None


@dataclass(frozen=True)
class PromiseDecision:
    promise_id: int
    state: str
    paid: float


def promise_paid(open_at_start, open_now):
    """What was paid towards a promise: how much the covered invoices' open amount fell."""
    return max(open_at_start - open_now, 0.0)


def decide_promise(promise, run_date, rounding=0.01):
    """Decide what becomes of an open promise on ``run_date``.

    - paid in full (the promised amount, or everything still open) → kept, whatever the date;
    - the promised date not passed yet → open;
    - the date passed with part of it paid, and a manager extended it → open until the
      extension date, for the remainder;
    - otherwise → broken, with what was paid.
    """
    paid = promise_paid(promise.open_at_start, promise.open_now)
    if paid >= promise.amount - rounding / 2 or promise.open_now <= rounding / 2:
        return PromiseDecision(promise.promise_id, KEPT, paid)
    if run_date <= promise.promise_date:
        return PromiseDecision(promise.promise_id, OPEN, paid)
    extended = promise.extension_date is not None and run_date <= promise.extension_date
    if extended and paid > rounding / 2:
        return PromiseDecision(promise.promise_id, OPEN, paid)
    return PromiseDecision(promise.promise_id, BROKEN, paid)


def decide_promises(promises, run_date, rounding=0.01):
    """:func:`decide_promise` for many; returns only the promises whose state changes."""
    decisions = (decide_promise(promise, run_date, rounding) for promise in promises)
    return [decision for decision in decisions if decision.state != OPEN]


def kept_ratio(kept, broken):
    """Share of decided promises that were kept, in percent (None when none was decided)."""
    decided = kept + broken
    return 100.0 * kept / decided if decided else None
