from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    dunning_charge_product_id = fields.Many2one(
        related="company_id.dunning_charge_product_id", readonly=False
    )
    dunning_charge_account_id = fields.Many2one(
        related="company_id.dunning_charge_account_id", readonly=False
    )
