from . import dunning_call_log
from . import dunning_dispute_close
from . import dunning_credit_hold_decide
from . import dunning_worklist_call
from . import dunning_worklist_assign
from . import dunning_resolution_write_off
from . import dunning_provision_book
from . import dunning_charge_decide
