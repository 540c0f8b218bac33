from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .res_partner import DUNNING_MANAGER_FIELDS

# The commission of a collection agency or law firm is a collections manager's decision.
DUNNING_MANAGER_FIELDS.add("dunning_commission_rate")


class ResPartner(models.Model):
    """A collection agency or law firm: the commission it takes on what it recovers, copied
    on the final resolution cases handed over to it (issue 14, agency)."""

    _inherit = "res.partner"

    dunning_commission_rate = fields.Float(
        string="Collection Commission (%)",
        company_dependent=True,
        digits=(5, 2),
        help="For a collection agency or law firm: its commission, as a percentage (0 to 100) "
        "of what it recovers, in the current company. Copied on a final resolution case when "
        "the case is opened.",
        groups="base.group_user",
    )

    @api.constrains("dunning_commission_rate")
    def _check_dunning_commission_rate(self):
        for partner in self:
            rate = partner.dunning_commission_rate
            if rate < 0 or rate > 100:
                raise ValidationError(
                    self.env._(
                        "Collection Commission (%%) of %(firm)s: %(rate)s is not a percentage. "
                        "Enter a rate from 0 to 100.",
                        firm=partner.display_name,
                        rate=rate,
                    )
                )
