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
        default=500,
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
    dunning_manager_id = fields.Many2one(related="company_id.dunning_manager_id", readonly=False)
    dunning_large_exposure = fields.Monetary(
        related="company_id.dunning_large_exposure", readonly=False
    )
    dunning_medium_days_late = fields.Integer(
        related="company_id.dunning_medium_days_late", readonly=False
    )
    dunning_high_days_late = fields.Integer(
        related="company_id.dunning_high_days_late", readonly=False
    )
    dunning_grace_days = fields.Integer(related="company_id.dunning_grace_days", readonly=False)
    dunning_medium_on_time = fields.Float(
        related="company_id.dunning_medium_on_time", readonly=False
    )
    dunning_high_on_time = fields.Float(related="company_id.dunning_high_on_time", readonly=False)
    dunning_medium_promise_kept = fields.Float(
        related="company_id.dunning_medium_promise_kept", readonly=False
    )
    dunning_high_promise_kept = fields.Float(
        related="company_id.dunning_high_promise_kept", readonly=False
    )
    dunning_medium_disputes = fields.Integer(
        related="company_id.dunning_medium_disputes", readonly=False
    )
    dunning_high_disputes = fields.Integer(
        related="company_id.dunning_high_disputes", readonly=False
    )
    dunning_weight_low = fields.Float(related="company_id.dunning_weight_low", readonly=False)
    dunning_weight_medium = fields.Float(related="company_id.dunning_weight_medium", readonly=False)
    dunning_weight_high = fields.Float(related="company_id.dunning_weight_high", readonly=False)
    dunning_contact_interval = fields.Integer(
        related="company_id.dunning_contact_interval", readonly=False
    )
    dunning_review_from_rank = fields.Integer(
        related="company_id.dunning_review_from_rank", readonly=False
    )
    dunning_review_to_rank = fields.Integer(
        related="company_id.dunning_review_to_rank", readonly=False
    )
    dunning_letter_deadline_days = fields.Integer(
        related="company_id.dunning_letter_deadline_days", readonly=False
    )
    dunning_reply_to = fields.Char(related="company_id.dunning_reply_to", readonly=False)
    dunning_link_days = fields.Integer(related="company_id.dunning_link_days", readonly=False)
    dunning_portal_promise_days = fields.Integer(
        related="company_id.dunning_portal_promise_days", readonly=False
    )
