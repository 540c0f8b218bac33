from odoo import models


class DunningMessage(models.Model):
    """Reminders from the policy's chosen stage show the late-payment charges accrued to
    their date (compensation not yet charged, interest since the last charge)."""

    _inherit = "dunning.message"

    def _gather_render_data(self):
        data = super()._gather_render_data()
        Charge = self.env["dunning.charge"]
        for message in self:
            policy = message.level_id.policy_id
            values = data.get(message.id)
            if not values or not policy._shows_charges(message.level_id):
                continue
            lines = self.env["account.move.line"].union(*(row["line"] for row in values["rows"]))
            if lines:
                values["charges"] = Charge._get_display(
                    message.company_id, message._get_render_date(), message.partner_id, lines
                )
        return data
