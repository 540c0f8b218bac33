"""Credit hold decisions: when a stage holds a customer, who is a key account, and when a
hold is lifted. Plain values in, plain values out, no ORM."""

from dataclasses import dataclass

# Why an invoice no longer holds its customer, in the order a reason is reported.
CLEARED_PAID = "paid"
CLEARED_CREDITED = "credited"
CLEARED_CANCELLED = "cancelled"
CLEARED_RELEASED = "released"
CLEARED_BELOW = "below"


@dataclass(frozen=True)
class HeldInvoice:
    """What the lift rule needs to know about one invoice of a held customer."""

    move_id: int
    open: bool
    stage_offset: int | None
    payment_state: str = "not_paid"
    state: str = "posted"
    released: bool = False


def revenue_share(partner_revenue, company_revenue):
    """A customer's share (0..1) of the company's invoiced revenue; 0 without revenue."""
    if not company_revenue or company_revenue <= 0:
        return 0.0
    return max(partner_revenue or 0.0, 0.0) / company_revenue


def is_key_account(share, threshold_percent, flagged=False):
    """A key account is flagged by hand or weighs more than ``threshold_percent`` % of the
    company's revenue. A threshold of 0 or less turns the revenue rule off."""
    if flagged:
        return True
    if threshold_percent is None or threshold_percent <= 0:
        return False
    return share * 100.0 > threshold_percent


def over_credit_limit(exposure, limit):
    """Whether open invoices of ``exposure`` exceed a credit ``limit`` (0 or less: no limit)."""
    return bool(limit and limit > 0 and (exposure or 0.0) > limit)


def decide_hold(rule, key_account, current):
    """What a stage's hold rule does to a customer.

    :param rule: the stage's ``credit_hold``: ``none``, ``propose`` or ``apply``
    :param key_account: whether the customer is a key account
    :param current: the customer's open hold in the company: ``None``, ``proposed`` or
        ``active``
    :return: ``None`` (nothing to do), ``propose`` or ``apply``

    A hold on a key account is a person's decision: ``apply`` becomes a proposal. An active
    hold is never proposed again; an open proposal becomes a hold when a later stage applies
    one to a customer that is not a key account.
    """
    if rule not in ("propose", "apply") or current == "active":
        return None
    action = "propose" if rule == "propose" or key_account else "apply"
    if current == "proposed" and action == "propose":
        return None
    return action


def invoice_holds(invoice, hold_offset):
    """Whether ``invoice`` still justifies a hold set at a stage starting on ``hold_offset``."""
    return (
        invoice.open
        and not invoice.released
        and invoice.stage_offset is not None
        and invoice.stage_offset >= hold_offset
    )


def clearing_reason(invoice, hold_offset):
    """Why ``invoice`` no longer holds its customer, or None if it still does."""
    if invoice_holds(invoice, hold_offset):
        return None
    if invoice.state == "cancel":
        return CLEARED_CANCELLED
    if invoice.payment_state == "reversed":
        return CLEARED_CREDITED
    if invoice.payment_state in ("paid", "in_payment"):
        return CLEARED_PAID
    if invoice.released:
        return CLEARED_RELEASED
    return CLEARED_BELOW


def decide_lift(manual, hold_offset, invoices):
    """Whether a stage's hold is lifted, and why.

    :param manual: the hold was set by hand by a manager, not by a stage (a proposal a
        manager applied keeps its stage origin and can be lifted automatically)
    :param hold_offset: day offset of the stage that held the customer
    :param invoices: :class:`HeldInvoice` values of the customer in the hold's company: the
        invoices that caused the hold and every open invoice with a stage
    :return: ``(lift, reasons)``; ``reasons`` lists the distinct clearing reasons of the
        invoices, most telling first. A manual hold is never lifted automatically.
    """
    if manual or hold_offset is None:
        return False, ()
    if any(invoice_holds(invoice, hold_offset) for invoice in invoices):
        return False, ()
    order = [
        CLEARED_PAID,
        CLEARED_CREDITED,
        CLEARED_RELEASED,
        CLEARED_CANCELLED,
        CLEARED_BELOW,
    ]
    found = {clearing_reason(invoice, hold_offset) for invoice in invoices}
    return True, tuple(reason for reason in order if reason in found)
