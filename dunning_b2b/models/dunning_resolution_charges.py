from odoo import models

from ..tools import check_dunning_rights
from .res_partner_charges import charges_action


class DunningResolution(models.Model):
    _inherit = "dunning.resolution"

    def action_dunning_charges(self):
        """Invoice or waive the late-payment charges of the case's lines (managers)."""
        self.ensure_one()
        check_dunning_rights(self, "manager")
        return charges_action(self.env, self.partner_id, self.company_id, self.line_ids)
