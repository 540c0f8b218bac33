from odoo import api, fields, models


class DunningResolution(models.Model):
    """Outcomes of final resolution (issue 14, KPIs): recovered, written off (the bad debt
    from write-offs), cost and net recovery by resolution type and month, read from the
    closed cases (pivot and graph under Collections > Analysis)."""

    _inherit = "dunning.resolution"

    amount_net = fields.Monetary(
        string="Net Recovered",
        compute="_compute_amount_net",
        store=True,
        help="Recovered less what recovering cost (agency commission, legal fees).",
    )

    @api.depends("amount_recovered", "amount_cost")
    def _compute_amount_net(self):
        for case in self:
            case.amount_net = case.currency_id.round(case.amount_recovered - case.amount_cost)

    def _read_group_select(self, aggregate_spec, query):
        # Amounts of several companies are brought to the current company's currency (as in
        # dunning.analysis) so that consolidated totals add up.
        fname, __, func = aggregate_spec.partition(":")
        field = self._fields.get(fname)
        if func == "sum" and field and field.type == "monetary":
            return super()._read_group_select(f"{fname}:sum_currency", query)
        return super()._read_group_select(aggregate_spec, query)
