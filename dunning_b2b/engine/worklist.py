"""A customer's open figures for the collector's worklist, from its open receivable items.
Plain values in, plain values out, no ORM.

Every figure is per receivable line (each instalment on its own due date) and in the
company's currency. Overdue amounts are net of the open credits of the same customer and
currency: a customer whose credit note covers what is overdue shows nothing overdue and no
priority; a credit in another currency reduces nothing.
"""

from dataclasses import dataclass, field
from datetime import date

from .items import days_overdue, positions


@dataclass
class OpenFigures:
    """One customer's open position on a run date, in the company's currency."""

    exposure: float = 0.0  # everything open, credits taken off
    overdue: float = 0.0  # net overdue: overdue debits less the same currency's open credits
    gross_overdue: float = 0.0  # overdue debits before the credits
    chased: float = 0.0  # the part of the net overdue on lines neither paused nor excluded
    open_count: int = 0  # open debit lines (instalments, debit notes, opening balances)
    max_days: int = 0  # days overdue of the oldest line still owed net of credits
    first_due: date | None = None  # earliest due date of an open debit line
    next_due: date | None = None  # earliest due date of an open debit line not yet overdue
    paused: bool = False  # an overdue debit line is paused (promise, dispute, reply)
    excluded: bool = True  # every open debit line's document is excluded from dunning
    # (net open amount, days overdue) of each overdue line: the credits of its currency are
    # taken off in proportion, so that the sum is the net overdue amount.
    overdue_items: list = field(default_factory=list)

    @property
    def credit_covers_overdue(self):
        """Something is overdue, but the open credits cover it: apply them, chase nothing."""
        return self.gross_overdue > 0 and self.overdue <= 0


def customer_figures(items, run_date, paused_move_ids=(), precision=0.01):
    """Open figures per customer.

    :param items: iterable of :class:`~.items.OpenItem` (debits and credits)
    :param run_date: the day the figures are for
    :param paused_move_ids: documents paused on ``run_date`` (promise, dispute)
    :param precision: the company currency's rounding: smaller net amounts count as zero
    :return: dict partner id -> :class:`OpenFigures`, for customers with an open debit line
    """
    items = list(items)
    paused = set(paused_move_ids)
    position_map = positions(items, run_date)
    # Share of each (customer, currency)'s overdue debits still owed once credits are off.
    shares = {}
    for key, position in position_map.items():
        net = position.net_overdue_company
        shares[key] = net / position.overdue_company if position.overdue_company > 0 else 0.0
    result = {}
    chased_gross = {}
    for item in items:
        if item.is_credit:
            continue
        figures = result.setdefault(item.partner_id, OpenFigures())
        figures.open_count += 1
        figures.excluded &= bool(item.excluded)
        if item.due_date is None:
            continue
        if figures.first_due is None or item.due_date < figures.first_due:
            figures.first_due = item.due_date
        days = days_overdue(item.due_date, run_date)
        if days <= 0:
            if figures.next_due is None or item.due_date < figures.next_due:
                figures.next_due = item.due_date
            continue
        share = shares[item.partner_id, item.currency_id]
        figures.overdue_items.append((item.amount_company * share, days))
        if share * item.amount_company >= precision / 2:
            figures.max_days = max(figures.max_days, days)
        figures.paused |= item.move_id in paused
        if not item.excluded and item.move_id not in paused:
            key = (item.partner_id, item.currency_id)
            chased_gross[key] = chased_gross.get(key, 0.0) + item.amount_company
    for (partner_id, currency_id), position in position_map.items():
        figures = result.get(partner_id)
        if figures is None:
            continue  # only credits open: nothing to collect
        # A credit nets nothing in another currency: never below zero per currency.
        figures.exposure += max(position.net_company, 0.0)
        figures.gross_overdue += position.overdue_company
        net = position.net_overdue_company
        if net >= precision / 2:
            figures.overdue += net
            figures.chased += min(net, chased_gross.get((partner_id, currency_id), 0.0))
    return result
