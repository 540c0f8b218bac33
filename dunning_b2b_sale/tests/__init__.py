from . import test_sale_credit_hold
from . import test_ui
from . import test_sale_approval_rights
from . import test_order_events_kept
from . import test_write_off_sale
