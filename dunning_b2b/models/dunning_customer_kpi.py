from odoo import fields, models

from .dunning_worklist import recompute_date_field
from .res_partner import SEGMENTS


class DunningCustomerKpi(models.Model):
    """How one customer pays, in one company: refreshed by the daily run."""

    _name = "dunning.customer.kpi"
    _description = "Collections Customer Profile"
    _order = "overdue_amount desc, id"
    _rec_name = "partner_id"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda s: s.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True,
        ondelete="cascade",
    )  # fmt: skip
    segment = fields.Selection(SEGMENTS, string="Collections Segment", readonly=True)
    collector_id = fields.Many2one("res.users", readonly=True)
    level_id = fields.Many2one(
        "dunning.level",
        string="Current Stage",
        readonly=True,
        help="Highest stage of its open receivable lines.",
    )
    open_amount = fields.Monetary(
        string="Open", readonly=True, help="Open receivable lines less open credits."
    )
    overdue_amount = fields.Monetary(
        string="Overdue",
        readonly=True,
        help="Overdue receivable lines less the open credits of the same currency.",
    )
    weighted_dpd = fields.Float(
        string="Avg Days Past Due", readonly=True, aggregator="avg",
        help="Amount-weighted average days past due of the overdue receivable lines.",
    )  # fmt: skip
    paid_count = fields.Integer(string="Invoices Paid (12 months)", readonly=True)
    usual_paying_level_id = fields.Many2one(
        "dunning.level", string="Usually Pays At", readonly=True,
        help="Stage most of the customer's invoices stood at when paid (12 months). Empty "
        "with a share: usually pays before any reminder.",
    )  # fmt: skip
    usual_paying_stage = fields.Char(
        string="Usually Pays", readonly=True, help="Stage name, or before any reminder."
    )
    usual_paying_share = fields.Float(
        string="Paid At That Stage (%)", readonly=True, aggregator="avg"
    )
    invoice_count = fields.Integer(string="Invoices Due (12 months)", readonly=True)
    dispute_count = fields.Integer(string="Disputes (12 months)", readonly=True)
    dispute_frequency = fields.Float(
        string="Disputes per 100 Invoices", readonly=True, aggregator="avg"
    )
    promise_kept_count = fields.Integer(string="Promises Kept", readonly=True)
    promise_broken_count = fields.Integer(string="Promises Broken", readonly=True)
    promises_kept_ratio = fields.Float(string="Promises Kept (%)", readonly=True, aggregator="avg")
    escalation_delta = fields.Float(
        string="Escalation Change", readonly=True, aggregator="avg",
        help="Average highest stage reached by invoices due in the last six months minus the "
        "six months before (complete stories only: settled or more than 90 days overdue).",
    )  # fmt: skip
    escalation_trend = fields.Selection(
        [("improving", "Improving"), ("stable", "Stable"), ("worsening", "Worsening"),
         ("new", "Not enough history")],
        readonly=True,
    )  # fmt: skip

    # The customer's share of the stage outcomes (dunning.analysis): the company's figures
    # are their sums, so that a refresh of some customers rewrites only their shares.
    analysis_parts = fields.Json(
        string="Share of Stage Outcomes",
        readonly=True,
        prefetch=False,
        groups="base.group_system",
        help="Window start, date and, per month, currency, segment, collector and stage, "
        "this customer's stage entries and what became of them.",
    )

    recompute_date = recompute_date_field()

    # Disputes and promises come from their own models when installed (see dunning.kpi).
    has_disputes = fields.Boolean(compute="_compute_has_sources")
    has_promises = fields.Boolean(compute="_compute_has_sources")

    _partner_once = models.UniqueIndex("(company_id, partner_id)")

    def _compute_has_sources(self):
        has_disputes = "dunning.dispute" in self.env
        has_promises = "dunning.promise" in self.env
        for profile in self:
            profile.has_disputes = has_disputes
            profile.has_promises = has_promises
