from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    dunning_hold_sale_policy = fields.Selection(
        related="company_id.dunning_hold_sale_policy", readonly=False
    )
