from odoo import fields, models


class DunningKpiSnapshot(models.Model):
    """Ledger KPIs of one company for one month (or the twelve months ending with it).

    Written by the daily run's close (``dunning.kpi._refresh_totals``) and by "Refresh now"
    (``_refresh_company``), read by the dashboard and the analysis views: opening them
    computes nothing. Amounts are in the company's currency.
    """

    _name = "dunning.kpi.snapshot"
    _description = "Collections KPIs by Month"
    _order = "month desc, company_id, period"
    _check_company_auto = True

    month = fields.Date(required=True, index=True, readonly=True, help="First day of the month.")
    period = fields.Selection(
        [("month", "Month"), ("year", "Twelve months")],
        required=True,
        default="month",
        readonly=True,
        help="Month: the month alone. Twelve months: the twelve months ending with this one.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda s: s.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    date_to = fields.Date(
        string="Figures At", readonly=True, help="End of the period, or the run date this month."
    )
    days = fields.Integer(readonly=True, aggregator=None)
    opening = fields.Monetary(string="Opening Receivables", readonly=True)
    credit_sales = fields.Monetary(readonly=True)
    closing = fields.Monetary(string="Closing Receivables", readonly=True)
    closing_current = fields.Monetary(string="Closing Current Receivables", readonly=True)
    closing_overdue = fields.Monetary(
        string="Overdue Receivables",
        readonly=True,
        help="Overdue receivable lines less the open credits of the same customer and currency "
        "(current + overdue = closing receivables).",
    )
    collected = fields.Monetary(readonly=True)
    written_off = fields.Monetary(readonly=True)
    cei = fields.Float(string="CEI (%)", readonly=True, aggregator="avg")
    dso = fields.Float(string="DSO (days)", readonly=True, aggregator="avg")
    dso_countback = fields.Float(string="DSO Countback (days)", readonly=True, aggregator="avg")
    best_dso = fields.Float(string="Best Possible DSO (days)", readonly=True, aggregator="avg")
    add = fields.Float(
        string="ADD (days)",
        readonly=True,
        aggregator="avg",
        help="Average days delinquent: DSO - best possible DSO.",
    )
    weighted_dpd = fields.Float(
        string="Avg Days Past Due",
        readonly=True,
        aggregator="avg",
        help="Amount-weighted average days past due of the overdue receivable lines at period end.",
    )
    bad_debt = fields.Float(string="Bad Debt (%)", readonly=True, aggregator="avg")
    monthly_sales = fields.Json(
        readonly=True, help="Credit sales of the months before, newest first (countback DSO)."
    )
    stage_distribution = fields.Json(
        readonly=True, help="Open receivable lines by current stage when the snapshot was taken."
    )

    _month_once = models.UniqueIndex("(company_id, month, period)")
