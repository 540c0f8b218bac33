"""Collections KPIs: the formulas, on plain numbers and dates.

The ORM layer (``dunning.kpi``) gathers ledger figures and the dunning history set-wise and
calls these functions; they never touch the database. Amounts are in one currency (the
company's); a ratio whose denominator is zero is ``None`` (undefined), never 0.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

TREND_MARGIN = 0.5  # average stage rank change that counts as a trend, in ladder steps


def ratio(numerator, denominator, scale=100.0):
    """``numerator / denominator * scale``, or None when the denominator is not positive."""
    if not denominator or denominator <= 0:
        return None
    return numerator / denominator * scale


# ------------------------------------------------------------------ ledger KPIs
def cei(opening, credit_sales, closing_total, closing_current):
    """Collection effectiveness index, in percent.

    (opening receivables + credit sales - closing total receivables)
    / (opening receivables + credit sales - closing current receivables) * 100

    The numerator is what was collected (or otherwise cleared) in the period; the denominator
    is what could have been collected: everything except what is not yet due at its end.
    """
    return ratio(opening + credit_sales - closing_total, opening + credit_sales - closing_current)


def dso_simple(closing_receivables, credit_sales, days):
    """Days sales outstanding, simple method: receivables / credit sales * days in period."""
    return ratio(closing_receivables, credit_sales, days)


def dso_countback(closing_receivables, monthly_sales):
    """Days sales outstanding, countback method.

    :param monthly_sales: ``[(credit sales, days), ...]`` of the period's months, newest first
    Walks back month by month, consuming each month's sales from the closing receivables and
    counting its days, until the receivables are used up; the last month counts pro rata.
    If the history runs out first, the days of the whole history are returned (a floor).
    """
    remaining = closing_receivables
    total = 0.0
    if remaining <= 0:
        return 0.0
    for sales, days in monthly_sales:
        if sales > 0 and remaining <= sales:
            return total + remaining / sales * days
        remaining -= max(sales, 0.0)
        total += days
    return total if monthly_sales else None


def best_possible_dso(closing_current, credit_sales, days):
    """Best possible DSO: current (not yet due) receivables / credit sales * days."""
    return ratio(closing_current, credit_sales, days)


def average_days_delinquent(dso, best_dso):
    """ADD = DSO - best possible DSO (None if either is undefined)."""
    if dso is None or best_dso is None:
        return None
    return dso - best_dso


def weighted_days_past_due(items):
    """Amount-weighted average days past due of overdue invoices.

    :param items: ``[(open amount, days past due), ...]``; not overdue or settled items
        (days <= 0 or amount <= 0) are ignored
    """
    weight = total = 0.0
    for amount, days in items:
        if amount > 0 and days > 0:
            weight += amount
            total += amount * days
    return total / weight if weight else None


def bad_debt_rate(written_off, invoiced):
    """Bad debt %: receivables written off / invoiced revenue of the period * 100."""
    return ratio(written_off, invoiced)


@dataclass(frozen=True)
class LedgerFigures:
    """What the ledger says about one company (or a consolidation) for one period."""

    opening: float
    credit_sales: float
    closing: float
    closing_current: float
    written_off: float
    days: int
    weighted_dpd: float | None = None
    monthly_sales: tuple = ()  # ((sales, days), ...) newest first, for the countback DSO


def ledger_kpis(figures):
    """Every ledger KPI of one period, as a dict of plain values."""
    dso = dso_simple(figures.closing, figures.credit_sales, figures.days)
    best = best_possible_dso(figures.closing_current, figures.credit_sales, figures.days)
    return {
        "cei": cei(figures.opening, figures.credit_sales, figures.closing, figures.closing_current),
        "dso": dso,
        "dso_countback": dso_countback(figures.closing, list(figures.monthly_sales)),
        "best_dso": best,
        "add": average_days_delinquent(dso, best),
        "weighted_dpd": figures.weighted_dpd,
        "bad_debt": bad_debt_rate(figures.written_off, figures.credit_sales),
        "collected": figures.opening + figures.credit_sales - figures.closing,
    }


# -------------------------------------------------------------- stage history
@dataclass(frozen=True)
class StageEntry:
    """An invoice entering a stage on ``entered_on``, until ``left_on`` (next stage) or now."""

    move_id: int
    stage_id: int
    entered_on: date
    left_on: date | None
    amount: float = 0.0  # open amount when it entered


@dataclass(frozen=True)
class Settlement:
    """Part of an invoice cleared on ``date``: ``amount`` recovered, ``written_off`` lost."""

    move_id: int
    date: date
    amount: float
    written_off: float = 0.0


def stage_entries(events):
    """Turn stage events into stage stays.

    :param events: ``[(move id, stage id, date, stage day offset, open amount), ...]``
    :return: list of :class:`StageEntry`; an invoice leaves a stage when it enters the next
    """
    by_move = defaultdict(list)
    for move_id, stage_id, day, offset, amount in events:
        by_move[move_id].append((day, offset, stage_id, amount))
    entries = []
    for move_id, rows in by_move.items():
        rows.sort()
        for index, (day, _offset, stage_id, amount) in enumerate(rows):
            left_on = rows[index + 1][0] if index + 1 < len(rows) else None
            entries.append(StageEntry(move_id, stage_id, day, left_on, amount))
    return entries


def _during(entry, day):
    return day >= entry.entered_on and (entry.left_on is None or day < entry.left_on)


def stage_outcome(entry, settlements, settled_on):
    """What happened to an invoice while it stood at a stage.

    :param settlements: the invoice's :class:`Settlement` values
    :param settled_on: date its residual reached zero, None while it is open
    :return: dict with ``status`` — ``paid`` (settled at this stage, by payment or credit
        note), ``written_off`` (settled at this stage by a write-off), ``moved_on`` (entered a
        later stage first) or ``open`` — and the ``recovered`` / ``written_off`` amounts
        cleared while at the stage
    """
    recovered = sum(s.amount for s in settlements if _during(entry, s.date))
    written_off = sum(s.written_off for s in settlements if _during(entry, s.date))
    if settled_on is not None and _during(entry, settled_on):
        status = "written_off" if written_off > 0 else "paid"
    elif entry.left_on is not None:
        status = "moved_on"
    else:
        status = "open"
    return {"status": status, "recovered": recovered, "written_off": written_off}


def resolution_by_stage(entries, settlements, settled_on, start=None, end=None):
    """Resolution rate and recovery by stage, over the entries made in [start, end].

    :param settlements: dict move id -> list of :class:`Settlement`
    :param settled_on: dict move id -> settlement date (absent while open)
    :return: dict stage id -> dict(entered, resolved, written_off_count, moved_on, open,
        entered_amount, recovered, written_off, rate (share of entries paid at the stage, %),
        recovery_rate (recovered / entered amount, %))
    """
    result = {}
    for entry in entries:
        if (start and entry.entered_on < start) or (end and entry.entered_on > end):
            continue
        outcome = stage_outcome(
            entry, settlements.get(entry.move_id, ()), settled_on.get(entry.move_id)
        )
        row = result.setdefault(
            entry.stage_id,
            dict.fromkeys(
                ("entered", "resolved", "written_off_count", "moved_on", "open",
                 "entered_amount", "recovered", "written_off"),
                0,
            ),
        )  # fmt: skip
        row["entered"] += 1
        row["entered_amount"] += entry.amount
        row["resolved"] += outcome["status"] == "paid"
        row["written_off_count"] += outcome["status"] == "written_off"
        row["moved_on"] += outcome["status"] == "moved_on"
        row["open"] += outcome["status"] == "open"
        row["recovered"] += outcome["recovered"]
        row["written_off"] += outcome["written_off"]
    for row in result.values():
        row["rate"] = ratio(row["resolved"], row["entered"])
        row["recovery_rate"] = ratio(row["recovered"], row["entered_amount"])
    return result


# --------------------------------------------------------------- per customer
def stage_at(entries, day):
    """The stage an invoice stood at on ``day`` (None: before its first stage)."""
    found = None
    for entry in sorted(entries, key=lambda e: e.entered_on):
        if entry.entered_on <= day:
            found = entry.stage_id
    return found


def usual_paying_stage(paid_stages, rank):
    """The stage at which a customer usually pays: the most frequent stage its invoices stood
    at when settled (None = before any reminder). Ties go to the later stage.

    :param paid_stages: one stage id (or None) per settled invoice
    :param rank: dict stage id -> position in its ladder (1 = first stage)
    :return: (stage id or None, share of invoices paid at that stage in %), or (None, None)
    """
    counts = Counter(paid_stages)
    if not counts:
        return None, None
    stage, count = max(counts.items(), key=lambda item: (item[1], rank.get(item[0], 0)))
    return stage, ratio(count, len(paid_stages))


def dispute_frequency(disputes, invoices):
    """Disputes per 100 invoices of the customer over the same period."""
    return ratio(disputes, invoices)


def promises_kept_ratio(kept, broken):
    """Share of the customer's due promises that were kept, in percent."""
    return ratio(kept, kept + broken)


def escalation_trend(previous, recent):
    """Is the customer reaching later stages than it used to?

    :param previous: highest stage rank (0 = no stage) of each invoice due in the earlier window
    :param recent: the same for the invoices due in the recent window
    :return: (change of the average rank, ``worsening`` / ``improving`` / ``stable``), or
        (None, ``new``) when one window has no invoice
    """
    if not previous or not recent:
        return None, "new"
    delta = sum(recent) / len(recent) - sum(previous) / len(previous)
    if delta >= TREND_MARGIN:
        return delta, "worsening"
    if delta <= -TREND_MARGIN:
        return delta, "improving"
    return delta, "stable"
