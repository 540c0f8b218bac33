from . import res_company
from . import res_config_settings
from . import dunning_event
from . import sale_order
from . import payment_transaction
