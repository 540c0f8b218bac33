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
from .segment import (
    AGING_BUCKETS,
    CustomerFigures,
    Thresholds,
    aging_bucket,
    aging_totals,
    exposure_class,
    is_deteriorating,
    needs_action,
    on_time_share,
    previous_quarter,
    priority_score,
    promise_kept_ratio,
    quarter_start,
    risk_level,
    segment,
    weighted_days_late,
)
