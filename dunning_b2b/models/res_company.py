from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine import Thresholds
from ..tools import check_collectors


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
    # Segmentation thresholds: see engine/segment.py for how they are used.
    dunning_manager_id = fields.Many2one(
        "res.users",
        string="Collections Manager",
        help="Receives senior-call tasks and credit reviews. Empty: a dunning manager of "
        "the company.",
    )
    dunning_large_exposure = fields.Monetary(
        string="Large Exposure From",
        currency_field="currency_id",
        default=10000.0,
        help="Open receivable from which a customer counts as a large exposure.",
    )
    dunning_medium_days_late = fields.Integer(
        string="Medium Risk From (days late)",
        default=10,
        help="Amount-weighted average days late over 12 months from which a customer is "
        "medium risk.",
    )
    dunning_high_days_late = fields.Integer(string="High Risk From (days late)", default=30)
    dunning_grace_days = fields.Integer(
        string="On Time Within (days)",
        default=3,
        help="A payment this many days after the due date still counts as on time.",
    )
    dunning_medium_on_time = fields.Float(string="Medium Risk Below (% on time)", default=80.0)
    dunning_high_on_time = fields.Float(
        string="High Risk Below (% on time)",
        default=0.0,
        help="0: paying late alone never makes a customer high risk.",
    )
    dunning_medium_promise_kept = fields.Float(
        string="Medium Risk Below (% promises kept)", default=100.0
    )
    dunning_high_promise_kept = fields.Float(
        string="High Risk Below (% promises kept)", default=50.0
    )
    dunning_medium_disputes = fields.Integer(
        string="Medium Risk From (disputes)",
        default=1,
        help="Disputes opened in the last 12 months. 0 ignores disputes.",
    )
    dunning_high_disputes = fields.Integer(string="High Risk From (disputes)", default=3)
    dunning_weight_low = fields.Float(string="Priority Weight: Low Risk", default=1.0)
    dunning_weight_medium = fields.Float(string="Priority Weight: Medium Risk", default=2.0)
    dunning_weight_high = fields.Float(string="Priority Weight: High Risk", default=4.0)
    dunning_contact_interval = fields.Integer(
        string="Contact Every (days)",
        default=7,
        help="A customer with overdue invoices and no contact for this many days is on the "
        "worklist again.",
    )
    dunning_review_from_rank = fields.Integer(
        string="Credit Review: Used to Settle by Stage",
        default=1,
        help="Position in the ladder (1 = first stage) a customer's invoices reached at most "
        "last quarter.",
    )
    dunning_review_to_rank = fields.Integer(
        string="Credit Review: Now Reaches Stage",
        default=3,
        help="Position in the ladder reached this quarter that calls for a credit review.",
    )
    dunning_letter_deadline_days = fields.Integer(
        string="Letter Deadline (days)",
        default=10,
        help="Days between a formal notice or demand letter and the payment deadline it states.",
    )
    dunning_reply_to = fields.Char(
        string="Collections Reply-To",
        help="Address the customers' answers to dunning emails go to, e.g. a shared "
        "collections mailbox. Empty: the customer's collector.",
    )
    dunning_link_days = fields.Integer(
        string="Customer Page Link Validity (days)",
        default=60,
        help="How long the link a reminder carries to the customer's page (pay, promise, "
        "dispute) stays valid. Each reminder carries a new link.",
    )

    dunning_portal_promise_days = fields.Integer(
        string="Promise Horizon on the Customer Page (days)",
        default=30,
        help="The latest date a buyer may promise on the customer page, in days from today; "
        "later promises are agreed with a collector.",
    )

    @api.constrains("dunning_portal_promise_days")
    def _check_dunning_portal_promise_days(self):
        for company in self:
            if not 1 <= company.dunning_portal_promise_days <= 366:
                raise ValidationError(
                    self.env._(
                        "Promise Horizon on the Customer Page: %(days)s days is out of range. "
                        "Enter between 1 and 366 days.",
                        days=company.dunning_portal_promise_days,
                    )
                )

    @api.constrains("dunning_link_days")
    def _check_dunning_link_days(self):
        for company in self:
            if not 1 <= company.dunning_link_days <= 366:
                raise ValidationError(
                    self.env._(
                        "Customer Page Link Validity: %(days)s days is out of range. Enter "
                        "between 1 and 366 days.",
                        days=company.dunning_link_days,
                    )
                )

    @api.constrains("dunning_collector_id")
    def _check_dunning_collector_id(self):
        label = self._fields["dunning_collector_id"]._description_string(self.env)
        for company in self:
            check_collectors(company.dunning_collector_id, company, label)

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

    def _dunning_get_thresholds(self):
        """The company's segmentation thresholds as engine values."""
        self.ensure_one()
        return Thresholds(
            large_exposure=self.dunning_large_exposure,
            medium_days_late=self.dunning_medium_days_late,
            high_days_late=self.dunning_high_days_late,
            medium_on_time_share=self.dunning_medium_on_time / 100.0,
            high_on_time_share=self.dunning_high_on_time / 100.0,
            medium_promise_kept=self.dunning_medium_promise_kept / 100.0,
            high_promise_kept=self.dunning_high_promise_kept / 100.0,
            medium_disputes=self.dunning_medium_disputes,
            high_disputes=self.dunning_high_disputes,
            grace_days=self.dunning_grace_days,
        )

    def _dunning_get_risk_weights(self):
        self.ensure_one()
        return {
            "low": self.dunning_weight_low,
            "medium": self.dunning_weight_medium,
            "high": self.dunning_weight_high,
        }

    def _dunning_get_manager(self):
        """Who receives senior calls and credit reviews: the collections manager, else the
        first dunning manager of the company."""
        self.ensure_one()
        if self.dunning_manager_id:
            return self.dunning_manager_id
        managers = self.env.ref("dunning_b2b.group_dunning_manager").user_ids.filtered(
            lambda u: self in u.company_ids and not u.share and u.active and u.id != 1
        )
        return managers.sorted("id")[:1]

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
            # sudo: the standard ladder belongs to the main company; its copy is this company's
            standard = standard.sudo()
            policy = standard.copy({"company_id": self.id, "name": standard.name}).sudo(False)
        # sudo: the company's own default ladder, set for whoever first needs it
        self.sudo().dunning_policy_id = policy
        return policy
