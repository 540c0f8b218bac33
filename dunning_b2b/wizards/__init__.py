from . import dunning_worklist_call
from . import dunning_worklist_assign
