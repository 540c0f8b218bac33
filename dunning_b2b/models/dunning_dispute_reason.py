from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import valid_collectors

DISPUTE_REASONS = [
    ("missing_po", "Missing PO"),
    ("pricing", "Pricing"),
    ("quantity", "Quantity"),
    ("quality", "Quality / damage"),
    ("not_received", "Not received"),
    ("duplicate", "Duplicate"),
    ("other", "Other"),
]
OWNER_TYPES = [
    ("salesperson", "The invoice's salesperson"),
    ("collector", "The customer's collector"),
    ("user", "A chosen user"),
]
DEFAULT_SLA_DAYS = 10


class DunningDisputeReason(models.Model):
    """Who owns a dispute of a given reason in a company, how long they have, and who hears of
    it when the deadline passes."""

    _name = "dunning.dispute.reason"
    _description = "Dispute Reason"
    _order = "company_id, sequence, id"
    _check_company_auto = True
    _rec_name = "reason"

    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    reason = fields.Selection(DISPUTE_REASONS, required=True)
    owner_type = fields.Selection(
        OWNER_TYPES,
        string="Owner",
        required=True,
        default="collector",
        help="Who a new dispute of this reason goes to. When that person cannot be found "
        "(no salesperson on the invoice, no user chosen), the customer's collector.",
    )
    owner_id = fields.Many2one(
        "res.users",
        string="Owner User",
        domain=[("share", "=", False)],
        help="Owner of the disputes of this reason, e.g. the warehouse manager for goods "
        "not received.",
    )
    sla_days = fields.Integer(
        string="Days to Resolve",
        default=DEFAULT_SLA_DAYS,
        help="The dispute's deadline is this many days after it is opened.",
    )
    escalate_to_id = fields.Many2one(
        "res.users",
        domain=[("share", "=", False)],
        help="Notified when a dispute of this reason passes its deadline, e.g. the owner's "
        "manager. Empty: the company's dunning managers.",
    )

    _reason_company_uniq = models.Constraint(
        "UNIQUE(company_id, reason)",
        "This reason is already configured for this company.",
    )

    @api.constrains("sla_days", "owner_type", "owner_id")
    def _check_sla_days(self):
        labels = dict(DISPUTE_REASONS)
        for config in self:
            if config.sla_days <= 0:
                raise ValidationError(
                    self.env._(
                        "Days to Resolve: reason %(reason)s has %(days)s days. Give its owner "
                        "at least one day.",
                        reason=labels[config.reason],
                        days=config.sla_days,
                    )
                )
            if config.owner_type == "user" and not config.owner_id:
                raise ValidationError(
                    self.env._(
                        "Owner User: reason %(reason)s goes to a chosen user, but none is "
                        "chosen. Choose the user, or another kind of owner.",
                        reason=labels[config.reason],
                    )
                )

    @api.model
    def _get_config(self, company, reason):
        return self.search([("company_id", "=", company.id), ("reason", "=", reason)], limit=1)

    @api.model
    def _get_default_owner(self, move, reason):
        """Who owns a new dispute on ``move`` for ``reason``: the reason's rule in the
        invoice's company, else the customer's collector (or the company's)."""
        company = move.company_id
        config = self._get_config(company, reason)
        owner = self.env["res.users"]
        if config.owner_type == "salesperson":
            owner = move.invoice_user_id
        elif config.owner_type == "user":
            owner = config.owner_id
        # Only users who may work in the invoice's company own its disputes.
        owner = valid_collectors(owner, company)
        if not owner:
            partner = move.commercial_partner_id.with_company(company)
            owner = valid_collectors(partner.dunning_collector_id, company) or valid_collectors(
                company.dunning_collector_id, company
            )
        return owner

    @api.model
    def _get_sla_days(self, company, reason):
        config = self._get_config(company, reason)
        return config.sla_days if config else DEFAULT_SLA_DAYS

    @api.model
    def _get_escalation_users(self, company, reason):
        """Who is told of a dispute past its deadline. Without the HR app there is no
        employee hierarchy to find the owner's manager, so it is configured per reason;
        when it is not, the company's dunning managers are told."""
        config = self._get_config(company, reason)
        if config.escalate_to_id:
            return config.escalate_to_id
        return self.env.ref("dunning_b2b.group_dunning_manager").user_ids.filtered(
            lambda u: company in u.company_ids and not u.share and u.active
        )
