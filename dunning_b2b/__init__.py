from . import controllers
from . import models
from . import wizards
from . import report
from . import demo
from .hooks import uninstall_hook
