"""Credit hold decisions: when a stage holds a customer, who is a key account, and when a
hold is lifted. Plain values in, plain values out, no ORM."""

from dataclasses import dataclass

# Why an invoice no longer holds its customer, in the order a reason is reported.
CLEARED_PAID = "paid"
CLEARED_CREDITED = "credited"
CLEARED_CANCELLED = "cancelled"
CLEARED_RELEASED = "released"
CLEARED_COVERED = "covered"
CLEARED_MINIMUM = "minimum"
CLEARED_BELOW = "below"

# How strong a stage's hold rule is: a line that skips stages gets the strongest rule of
# every stage up to its target.
RULE_STRENGTH = {"none": 0, "propose": 1, "apply": 2}


@dataclass(frozen=True)
class HeldInvoice:
    """What the lift rule needs to know about one open receivable line of a held customer
    (``open``), or about a document that caused the hold and has no open line any more."""

    move_id: int
    open: bool
    stage_offset: int | None
    payment_state: str = "not_paid"
    state: str = "posted"
    released: bool = False
    covered: bool = False  # the customer's open credits (same currency) cover its overdue
    below_minimum: bool = False  # the customer's net overdue is below the policy's minimum


@dataclass(frozen=True)
class HoldStage:
    """A stage as the hold rules see it: its id, where it starts, and its ``credit_hold``."""

    id: int
    day_offset: int
    rule: str = "none"


def strongest_rule(rules):
    """The strongest of hold rules: ``apply`` > ``propose`` > ``none`` (``none`` if empty)."""
    return max(rules, key=lambda rule: RULE_STRENGTH.get(rule, 0), default="none")


def cumulative_hold(stages):
    """The stage whose hold rule applies, of stages reached together.

    :param stages: :class:`HoldStage` values: the stage a line enters and the stages it
        skipped on the way (or, for a customer, those of all its lines)
    :return: the stage with the strongest rule (the latest of equally strong ones), or None
        when none of them holds

    A line first seen 100 days late enters final resolution directly: the hold that the
    escalation it skipped applies is still its rule.
    """
    best = None
    for stage in stages:
        if RULE_STRENGTH.get(stage.rule, 0) == 0:
            continue
        rank = (RULE_STRENGTH[stage.rule], stage.day_offset)
        if best is None or rank > (RULE_STRENGTH[best.rule], best.day_offset):
            best = stage
    return best


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
        and not invoice.covered
        and not invoice.below_minimum
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
    if invoice.open and invoice.covered:
        return CLEARED_COVERED
    if invoice.open and invoice.below_minimum:
        return CLEARED_MINIMUM
    return CLEARED_BELOW


def decide_lift(manual, hold_offset, invoices):
    """Whether a stage's hold is lifted, and why.

    :param manual: the hold was set by hand by a manager, not by a stage (a proposal a
        manager applied keeps its stage origin and can be lifted automatically)
    :param hold_offset: day offset of the stage that held the customer
    :param invoices: :class:`HeldInvoice` values of the customer in the hold's company: the
        documents that caused the hold and every open receivable line with a stage
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
        CLEARED_COVERED,
        CLEARED_MINIMUM,
        CLEARED_CANCELLED,
        CLEARED_BELOW,
    ]
    found = {clearing_reason(invoice, hold_offset) for invoice in invoices}
    return True, tuple(reason for reason in order if reason in found)
