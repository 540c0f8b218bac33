from odoo import api, models


class ReportDunningLetter(models.AbstractModel):
    """Letters from the policy's chosen stage show the late-payment charges accrued to the
    letter's date."""

    _inherit = "report.dunning_b2b.report_dunning_letter"

    @api.model
    def _get_letter_values(self, partner, company, letter_date):
        values = super()._get_letter_values(partner, company, letter_date)
        if values.get("kind") == "statement" or not values.get("lines"):
            return values
        # sudo: the customer's policy in this company (the ladder's configuration)
        policy = (
            self.env["dunning.engine"]
            .sudo()
            ._get_partner_policies(company, partner.commercial_partner_id)[
                partner.commercial_partner_id.id
            ]
        )
        if policy._shows_charges(values.get("level")):
            lines = self.env["account.move.line"].union(*(row["line"] for row in values["lines"]))
            values["charges"] = self.env["dunning.charge"]._get_display(
                company, letter_date, partner, lines
            )
        return values
