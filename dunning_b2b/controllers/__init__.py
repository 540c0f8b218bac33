from . import portal, portal_pay
