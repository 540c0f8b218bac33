from odoo import models

from ..tools import check_dunning_rights


def charges_action(env, partner, company, lines=None):
    """The manager's decision form on ``partner``'s late-payment charges in ``company``."""
    context = {"default_partner_id": partner.commercial_partner_id.id,
               "default_company_id": company.id}  # fmt: skip
    if lines:
        context["default_line_ids"] = lines.ids
    return {
        "type": "ir.actions.act_window",
        "name": env._("Late-Payment Charges"),
        "res_model": "dunning.charge.decide",
        "view_mode": "form",
        "target": "new",
        "context": context,
    }


class ResPartner(models.Model):
    _inherit = "res.partner"

    def action_dunning_charges(self):
        """Invoice or waive the customer's late-payment charges (dunning managers)."""
        self.ensure_one()
        check_dunning_rights(self, "manager")
        return charges_action(self.env, self, self.env.company)

    def action_view_dunning_charges(self):
        """What was charged or waived for the customer's late invoices."""
        self.ensure_one()
        check_dunning_rights(self, "user")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Late-Payment Charges"),
            "res_model": "dunning.charge",
            "view_mode": "list,form",
            "domain": [("partner_id", "=", self.commercial_partner_id.id)],
        }
