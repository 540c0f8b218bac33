from . import dunning_letter
from . import dunning_letter_charges
