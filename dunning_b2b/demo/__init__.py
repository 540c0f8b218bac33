from . import dunning_demo
from . import dunning_kpi_demo
from . import dunning_agency_demo
