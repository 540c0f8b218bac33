from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    dunning_policy_id = fields.Many2one(
        related="company_id.dunning_policy_id",
        readonly=False,
        domain="[('company_id', '=', company_id)]",
    )
    dunning_collector_id = fields.Many2one(
        related="company_id.dunning_collector_id", readonly=False
    )
    dunning_batch_size = fields.Integer(
        string="Customers per Batch",
        config_parameter="dunning_b2b.batch_size",
        default=200,
        help="The daily run commits after each batch of customers.",
    )
    dunning_key_account_threshold = fields.Float(
        related="company_id.dunning_key_account_threshold", readonly=False
    )
    dunning_credit_limit_hold = fields.Selection(
        related="company_id.dunning_credit_limit_hold", readonly=False
    )
    dunning_bad_debt_account_id = fields.Many2one(
        related="company_id.dunning_bad_debt_account_id",
        readonly=False,
        domain="[('account_type', 'in', ('expense', 'expense_other'))]",
    )
