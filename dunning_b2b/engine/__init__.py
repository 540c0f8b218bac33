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
from .phone import PhoneNumber, normalize_phone
from .promise import (
    BROKEN,
    KEPT,
    OPEN,
    PromiseDecision,
    PromiseState,
    decide_promise,
    decide_promises,
    kept_ratio,
)
