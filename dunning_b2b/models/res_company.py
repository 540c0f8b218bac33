from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    dunning_policy_id = fields.Many2one(
        "dunning.policy",
        string="Default Dunning Policy",
        help="Ladder used for customers that have no policy of their own.",
    )
    dunning_collector_id = fields.Many2one(
        "res.users",
        string="Default Collector",
        help="Receives dunning tasks for customers that have no collector.",
    )
    dunning_key_account_threshold = fields.Float(
        string="Key Account Threshold (%)",
        default=10.0,
        help="A customer whose share of the company's invoiced revenue over the last 12 "
        "months is above this percentage is a key account: the ladder only proposes holds "
        "on it, a manager decides. 0 turns the rule off.",
    )
    dunning_credit_limit_hold = fields.Selection(
        [("none", "Nothing"), ("propose", "Propose a hold"), ("apply", "Apply a hold")],
        string="Credit Limit Exceeded",
        default="none",
        required=True,
        help="With customer credit limits in use: what the daily run does when a customer's "
        "open invoices exceed its credit limit. Key accounts only get a proposal. The hold is "
        "lifted once the open invoices are back under the limit.",
    )
    dunning_bad_debt_account_id = fields.Many2one(
        "account.account",
        string="Bad Debt Account",
        help="Collections KPIs count as written off what is posted to this account in entries "
        "that clear receivables (a write-off entry, a payment with a write-off line, a credit "
        "note booked to it).",
    )

    @api.constrains("dunning_policy_id")
    def _check_dunning_policy_id(self):
        for company in self:
            policy = company.dunning_policy_id
            if policy and policy.company_id != company:
                raise ValidationError(
                    self.env._(
                        "Default Dunning Policy: %(policy)s belongs to %(other)s, not to "
                        "%(company)s. Choose a policy of %(company)s.",
                        policy=policy.display_name,
                        other=policy.company_id.name,
                        company=company.name,
                    )
                )

    def _dunning_get_default_policy(self):
        """The company's default ladder; a company without one gets a copy of the standard."""
        self.ensure_one()
        if self.dunning_policy_id.active:
            return self.dunning_policy_id
        policy = self.env["dunning.policy"].search(
            [("company_id", "=", self.id)], order="sequence, id", limit=1
        )
        if not policy:
            standard = self.env.ref("dunning_b2b.dunning_policy_default", raise_if_not_found=False)
            if not standard:
                return policy
            # sudo: the standard ladder belongs to the main company, out of this user's reach.
            standard = standard.sudo()
            policy = standard.copy({"company_id": self.id, "name": standard.name}).sudo(False)
        self.sudo().dunning_policy_id = policy
        return policy
