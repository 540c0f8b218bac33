from . import dunning_call_log
from . import dunning_dispute_close
