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
from .replies import is_automatic_reply, reply_pause_until
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
from .credit_hold import (
    CLEARED_BELOW,
    CLEARED_CANCELLED,
    CLEARED_COVERED,
    CLEARED_CREDITED,
    CLEARED_MINIMUM,
    CLEARED_PAID,
    CLEARED_RELEASED,
    HeldInvoice,
    HoldStage,
    cumulative_hold,
    decide_hold,
    decide_lift,
    is_key_account,
    over_credit_limit,
    revenue_share,
    strongest_rule,
)
from . import kpi
from .segment import (
    AGING_BUCKETS,
    CustomerFigures,
    Thresholds,
    aging_bucket,
    aging_totals,
    exposure_class,
    is_deteriorating,
    late_sums,
    needs_action,
    on_time_share,
    previous_quarter,
    priority_growth,
    priority_score,
    promise_kept_ratio,
    quarter_start,
    risk_dates,
    rounded_days_late,
    risk_level,
    segment,
    weighted_days_late,
)
from .provision import (
    ProvisionChange,
    ProvisionItem,
    decide_provisions,
    net_by_partner,
    provision_percent,
)
