from . import test_engine_unit
from . import test_ladder
from . import test_communications
from . import test_configuration
from . import test_access
from . import test_multicompany
from . import test_cron
from . import test_reliability
