from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    dunning_write_off_journal_id = fields.Many2one(
        related="company_id.dunning_write_off_journal_id",
        readonly=False,
        domain="[('type', '=', 'general'), ('company_id', '=', company_id)]",
    )
    dunning_write_off_threshold = fields.Monetary(
        related="company_id.dunning_write_off_threshold", readonly=False
    )
