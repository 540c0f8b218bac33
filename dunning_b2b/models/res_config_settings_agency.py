from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    """Settings of agency and legal cases (issue 14, agency)."""

    _inherit = "res.config.settings"

    dunning_commission_posting = fields.Selection(
        related="company_id.dunning_commission_posting", readonly=False
    )
    dunning_commission_account_id = fields.Many2one(
        related="company_id.dunning_commission_account_id",
        readonly=False,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost', 'expense_other'))]",
    )
    dunning_commission_journal_id = fields.Many2one(
        related="company_id.dunning_commission_journal_id",
        readonly=False,
        domain="[('type', 'in', ('purchase', 'general'))]",
    )
