"""Which stage of a dunning ladder an open receivable line belongs to, and what a run must
do about it.

Everything here works on plain values so that it can be tested without a database and
reused by the ORM layer, the benchmark and other addons alike.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from .items import days_overdue


@dataclass(frozen=True)
class Stage:
    """One rung of a ladder: its record id and the day (relative to the due date) it starts."""

    id: int
    day_offset: int


@dataclass(frozen=True)
class InvoiceState:
    """What the engine needs to know about one open receivable line (an instalment, a debit
    note, an opening balance) of an invoice or entry."""

    move_id: int
    partner_id: int
    policy_id: int
    due_date: date | None
    current_stage_id: int | None = None
    current_offset: int | None = None
    excluded: bool = False
    pause_reasons: tuple = field(default_factory=tuple)
    line_id: int | None = None  # the receivable line; the move when not given

    @property
    def key(self):
        return self.line_id or self.move_id


@dataclass(frozen=True)
class Advance:
    """The decision that a receivable line enters a stage."""

    move_id: int
    partner_id: int
    stage_id: int
    days_overdue: int
    skipped_stage_ids: tuple = ()
    line_id: int | None = None

    @property
    def key(self):
        return self.line_id or self.move_id


def validate_offsets(offsets):
    """Return the index of the first offset that does not strictly increase, else None.

    ``offsets`` are the day offsets of a ladder's stages in their display order.
    """
    for index in range(1, len(offsets)):
        if offsets[index] <= offsets[index - 1]:
            return index
    return None


def target_stage(stages, overdue_days):
    """The last stage whose offset is reached after ``overdue_days``, or None.

    ``stages`` must be ordered by increasing ``day_offset``.
    """
    found = None
    for stage in stages:
        if stage.day_offset > overdue_days:
            break
        found = stage
    return found


def is_paused(invoice):
    """An invoice excluded by hand or paused by a promise or dispute keeps its stage."""
    return invoice.excluded or bool(invoice.pause_reasons)


def decide_advances(invoices, ladders, run_date):
    """Decide which invoices enter a new stage on ``run_date``.

    :param invoices: iterable of :class:`InvoiceState`
    :param ladders: dict policy id -> list of :class:`Stage` ordered by day offset
    :param run_date: the date the run evaluates
    :return: list of :class:`Advance`, in the order of ``invoices``

    Stages only move forward: an invoice already at (or beyond) its target stage is left
    alone. An invoice found late enters its target stage directly; the stages it jumped
    over are reported as skipped, and nothing is sent for them.
    """
    advances = []
    for invoice in invoices:
        if invoice.due_date is None or is_paused(invoice):
            continue
        stages = ladders.get(invoice.policy_id) or []
        overdue = days_overdue(invoice.due_date, run_date)
        target = target_stage(stages, overdue)
        if target is None or target.id == invoice.current_stage_id:
            continue
        if invoice.current_offset is not None and target.day_offset <= invoice.current_offset:
            continue
        floor = invoice.current_offset
        skipped = tuple(
            stage.id
            for stage in stages
            if stage.day_offset < target.day_offset and (floor is None or stage.day_offset > floor)
        )
        advances.append(
            Advance(
                move_id=invoice.move_id,
                partner_id=invoice.partner_id,
                stage_id=target.id,
                days_overdue=overdue,
                skipped_stage_ids=skipped,
                line_id=invoice.line_id,
            )
        )
    return advances


def group_advances(advances):
    """Group advances into one communication per (customer, stage).

    :return: dict (partner id, stage id) -> list of line ids (move ids for advances without
        a line), in input order
    """
    groups = defaultdict(list)
    for advance in advances:
        groups[(advance.partner_id, advance.stage_id)].append(advance.key)
    return dict(groups)
