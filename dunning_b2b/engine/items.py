"""Open receivable items and a customer's net position: what is owed, what is credited,
and what a reminder may ask for. Plain values in, plain values out, no ORM.

The unit of dunning is the open receivable line (an instalment, a debit note, an opening
balance), not the invoice header: each has its own due date and open amount. Open credits
(credit notes, payments on account) of the same customer, company and currency reduce what
is asked; a credit in another currency nets nothing.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class OpenItem:
    """One open receivable line, as the selector returns it."""

    line_id: int
    move_id: int
    partner_id: int  # the commercial partner
    company_id: int
    currency_id: int
    due_date: date | None
    amount: float  # open, in ``currency_id``: > 0 owed by the customer, < 0 an open credit
    amount_company: float  # the same, in the company's currency
    move_name: str = ""
    move_type: str = "out_invoice"
    ref: str | None = None
    invoice_date: date | None = None
    excluded: bool = False

    @property
    def is_credit(self):
        return self.amount < 0 or (not self.amount and self.amount_company < 0)


@dataclass(frozen=True)
class Position:
    """A customer's open position in one company and currency on a run date."""

    partner_id: int
    currency_id: int
    overdue: float = 0.0  # open debits past their due date
    not_due: float = 0.0  # open debits not yet due (or without a due date)
    credits: float = 0.0  # open credits, as a positive amount
    overdue_company: float = 0.0
    not_due_company: float = 0.0
    credits_company: float = 0.0

    @property
    def net_overdue(self):
        """What is overdue once the open credits are taken off (never below zero)."""
        return max(self.overdue - self.credits, 0.0)

    @property
    def net_overdue_company(self):
        return max(self.overdue_company - self.credits_company, 0.0)

    @property
    def net(self):
        """Everything open, credits taken off (negative: the customer is owed money)."""
        return self.overdue + self.not_due - self.credits

    @property
    def net_company(self):
        return self.overdue_company + self.not_due_company - self.credits_company

    @property
    def credit_covers_overdue(self):
        """Open credits cover every overdue debit: nothing overdue is to be asked for."""
        return self.overdue > 0 and self.credits >= self.overdue

    @property
    def credit_covers_all(self):
        """Open credits cover every open debit, overdue or not."""
        return self.overdue + self.not_due > 0 and self.credits >= self.overdue + self.not_due


def days_overdue(due_date, run_date):
    """Days past the due date on ``run_date`` (negative before it is due)."""
    return (run_date - due_date).days


def positions(items, run_date):
    """Net positions of the items' customers.

    :param items: iterable of :class:`OpenItem`
    :return: dict (partner id, currency id) -> :class:`Position`
    """
    sums = defaultdict(lambda: [0.0] * 6)
    for item in items:
        values = sums[item.partner_id, item.currency_id]
        if item.is_credit:
            values[2] -= item.amount
            values[5] -= item.amount_company
        elif item.due_date is not None and item.due_date < run_date:
            values[0] += item.amount
            values[3] += item.amount_company
        else:
            values[1] += item.amount
            values[4] += item.amount_company
    return {key: Position(key[0], key[1], *values) for key, values in sums.items()}


def covered_keys(position_map):
    """The (customer, currency) pairs whose overdue debits open credits cover."""
    return {key for key, position in position_map.items() if position.credit_covers_overdue}


def net_overdue_by_partner(position_map):
    """Each customer's net overdue amount in the company's currency, over its currencies,
    in one pass (``net_overdue_company`` for all customers at once)."""
    totals = defaultdict(float)
    for (partner_id, _currency), position in position_map.items():
        totals[partner_id] += position.net_overdue_company
    return totals


def net_overdue_company(position_map, partner_id):
    """A customer's net overdue amount in the company's currency, over its currencies."""
    return sum(
        position.net_overdue_company
        for (pid, _currency), position in position_map.items()
        if pid == partner_id
    )


def net_open_company(position_map, partner_id):
    """A customer's net open amount (overdue and not yet due, less credits) in the company's
    currency, over its currencies; never below zero."""
    return sum(
        max(position.net_company, 0.0)
        for (pid, _currency), position in position_map.items()
        if pid == partner_id
    )


def below_tolerance(position_map, partner_id, minimum, overdue_only=False):
    """Whether a customer's net amount (company currency) is below the policy's minimum:
    such a customer is not dunned."""
    amount = (
        net_overdue_company(position_map, partner_id)
        if overdue_only
        else net_open_company(position_map, partner_id)
    )
    return amount < (minimum or 0.0)


def allocate_credits(items):
    """Apply each customer's open credits to its open debits of the same company and
    currency, oldest due date first, as a collector matching them would.

    One rule for every reader: the engine (a line fully covered is not chased), reminders and
    letters (each line's net amount; the credits applied to the lines they list, never the
    same credit twice), holds and the worklist.

    :param items: iterable of :class:`OpenItem`
    :return: dict line id of each debit -> the credit applied to it (in its currency, >= 0)
    """
    available = defaultdict(float)
    debits = []
    for item in items:
        if item.is_credit:
            available[item.partner_id, item.company_id, item.currency_id] -= item.amount
        else:
            debits.append(item)
    debits.sort(key=lambda item: (item.due_date or item.invoice_date or date.max, item.line_id))
    allocated = {}
    for item in debits:
        key = (item.partner_id, item.company_id, item.currency_id)
        take = min(max(available[key], 0.0), item.amount)
        available[key] -= take
        allocated[item.line_id] = take
    return allocated


def net_amounts(item, allocated):
    """The open amount of a debit once credits are applied: (in its currency, in the
    company's currency)."""
    credit = allocated.get(item.line_id, 0.0)
    net = item.amount - credit
    if not item.amount:
        return net, item.amount_company
    return net, item.amount_company * net / item.amount
