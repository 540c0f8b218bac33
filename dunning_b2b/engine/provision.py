"""Provision for doubtful debts, from plain values.

A receivable line is provided for at a percentage of what it still owes (in the company's
currency): the percentage of its dunning stage, or the company's age percentage once it is
that many days past due, whichever is higher. Each month only the difference with what is
already provided is booked: an increase when the line moved up or the rule grew, a release
when it was paid (in full or in part), settled or written off.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ProvisionItem:
    """One receivable line at a booking: what it owes and what rules apply to it."""

    line_id: int
    partner_id: int
    residual: float  # open amount in company currency (0 once paid, settled, written off)
    stage_percent: float = 0.0
    days_overdue: int = 0


@dataclass(frozen=True)
class ProvisionChange:
    line_id: int
    partner_id: int
    residual: float
    percent: float
    provided: float  # what the line is provided for after the booking
    change: float  # what the booking adds (> 0) or releases (< 0)


def provision_percent(stage_percent, days_overdue, age_days=0, age_percent=0.0):
    """The percentage a line is provided for: its stage's, or the age rule's once the line
    is ``age_days`` past due (``age_days`` 0: no age rule), the higher of the two."""
    percent = stage_percent or 0.0
    if age_days and days_overdue >= age_days:
        percent = max(percent, age_percent or 0.0)
    return percent


def decide_provisions(items, previous, round_amount, age_days=0, age_percent=0.0):
    """The change to book per line.

    :param items: ProvisionItem of the open lines (lines no longer open need no item)
    :param previous: {line_id: (partner_id, provided)} what is provided today
    :param round_amount: the company currency's rounding, e.g. ``currency.round``
    :return: list of ProvisionChange, one per line whose provision changes
    """
    changes = []
    seen = set()
    for item in items:
        seen.add(item.line_id)
        percent = provision_percent(item.stage_percent, item.days_overdue, age_days, age_percent)
        target = round_amount(max(item.residual, 0.0) * percent / 100.0) if percent > 0 else 0.0
        before = previous.get(item.line_id, (item.partner_id, 0.0))[1]
        change = round_amount(target - before)
        if change:
            changes.append(
                ProvisionChange(
                    item.line_id, item.partner_id, item.residual, percent, target, change
                )
            )
    for line_id, (partner_id, before) in previous.items():
        if line_id not in seen and round_amount(before):
            changes.append(ProvisionChange(line_id, partner_id, 0.0, 0.0, 0.0, -before))
    return changes


def net_by_partner(changes, round_amount):
    """{partner_id: net change}: the entry has one pair of lines per customer."""
    totals = {}
    for change in changes:
        totals[change.partner_id] = totals.get(change.partner_id, 0.0) + change.change
    return {partner: round_amount(total) for partner, total in totals.items()}
