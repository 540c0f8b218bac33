from . import dunning_call_log
from . import dunning_dispute_close
from . import dunning_credit_hold_decide
