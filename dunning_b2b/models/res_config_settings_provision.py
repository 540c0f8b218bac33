from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    dunning_provision_allowance_account_id = fields.Many2one(
        related="company_id.dunning_provision_allowance_account_id",
        readonly=False,
        domain="[('internal_group', 'in', ('asset', 'liability')), "
        "('account_type', 'not in', ('asset_receivable', 'liability_payable'))]",
    )
    dunning_provision_expense_account_id = fields.Many2one(
        related="company_id.dunning_provision_expense_account_id",
        readonly=False,
        domain="[('internal_group', '=', 'expense')]",
    )
    dunning_provision_journal_id = fields.Many2one(
        related="company_id.dunning_provision_journal_id",
        readonly=False,
        domain="[('type', '=', 'general'), ('company_id', '=', company_id)]",
    )
    dunning_provision_age_days = fields.Integer(
        related="company_id.dunning_provision_age_days", readonly=False
    )
    dunning_provision_age_percent = fields.Float(
        related="company_id.dunning_provision_age_percent", readonly=False
    )
