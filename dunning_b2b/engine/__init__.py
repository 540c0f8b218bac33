"""Pure decision logic of the dunning engine: plain values in, plain values out, no ORM."""

from .ladder import (
    Advance,
    InvoiceState,
    Stage,
    days_overdue,
    decide_advances,
    group_advances,
    is_paused,
    target_stage,
    validate_offsets,
)
from . import kpi
