from . import dunning_credit_hold_decide
