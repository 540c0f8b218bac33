from odoo import fields, models
from odoo.tools import SQL

from .res_partner import SEGMENTS

# Measures shown as ratios of two sums, whatever the grouping (see _read_group_select).
RATIO_MEASURES = {
    "resolution_rate": ("resolved_count", "entered_count"),
    "recovery_rate": ("recovered_amount", "entered_amount"),
}


class DunningAnalysis(models.Model):
    """Stage entries and what became of them, by month, company, currency, segment,
    collector and stage. A snapshot rewritten by the daily run over its KPI window."""

    _name = "dunning.analysis"
    _description = "Collections Stage Analysis"
    _order = "month desc, company_id, level_id"
    _check_company_auto = True

    month = fields.Date(required=True, index=True, readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda s: s.env.company
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    currency_id = fields.Many2one("res.currency", string="Invoice Currency", readonly=True)
    segment = fields.Selection(SEGMENTS, string="Collections Segment", readonly=True)
    collector_id = fields.Many2one("res.users", readonly=True)
    level_id = fields.Many2one("dunning.level", string="Stage", readonly=True, index=True)
    stage_rank = fields.Integer(
        string="Stage Number", readonly=True, aggregator=None, help="Position in its ladder."
    )
    entered_count = fields.Integer(string="Entered", readonly=True)
    resolved_count = fields.Integer(
        string="Paid at Stage", readonly=True, help="Paid or credited while at the stage."
    )
    written_off_count = fields.Integer(string="Written Off at Stage", readonly=True)
    moved_on_count = fields.Integer(string="Moved On", readonly=True)
    open_count = fields.Integer(string="Still Open", readonly=True)
    entered_amount = fields.Monetary(
        string="Amount Entered",
        currency_field="company_currency_id",
        readonly=True,
        help="Open amount on entering the stage, in company currency at the rate of that day.",
    )
    recovered_amount = fields.Monetary(
        string="Recovered", currency_field="company_currency_id", readonly=True
    )
    written_off_amount = fields.Monetary(
        string="Written Off", currency_field="company_currency_id", readonly=True
    )
    resolution_rate = fields.Float(string="Resolution Rate (%)", readonly=True, aggregator="avg")
    recovery_rate = fields.Float(string="Recovery Rate (%)", readonly=True, aggregator="avg")

    def _read_group_select(self, aggregate_spec, query):
        # Rates are ratios of sums over the group, not averages of the rows' rates; amounts of
        # several companies are brought to the current company's currency (Odoo's
        # sum_currency, at today's rate) so that consolidated totals add up.
        fname, __, func = aggregate_spec.partition(":")
        if fname in RATIO_MEASURES and func == "avg":
            numerator, denominator = RATIO_MEASURES[fname]
            return SQL(
                "SUM(%s) * 100.0 / NULLIF(SUM(%s), 0)",
                self._field_to_sql(self._table, numerator, query),
                self._field_to_sql(self._table, denominator, query),
            )
        if func == "sum" and self._fields.get(fname) and self._fields[fname].type == "monetary":
            return super()._read_group_select(f"{fname}:sum_currency", query)
        return super()._read_group_select(aggregate_spec, query)
