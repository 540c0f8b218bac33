from odoo import models

from ..tools import check_list_access


class ResPartner(models.Model):
    """The links to the customer's page its reminders carried, from the customer's form."""

    _inherit = "res.partner"

    def action_view_dunning_links(self):
        self.ensure_one()
        check_list_access(self, "dunning.access")
        action = self.env["ir.actions.act_window"]._for_xml_id("dunning_b2b.dunning_access_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        return action
