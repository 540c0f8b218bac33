from odoo import models


class DunningEngine(models.AbstractModel):
    """The daily run refreshes the collections KPIs of each company once its invoices were
    evaluated (kept apart from the engine itself: the KPIs only use its hook)."""

    _inherit = "dunning.engine"

    def _run_company_checks(self, company, run_date, user, stats):
        res = super()._run_company_checks(company, run_date, user, stats)
        self.env["dunning.kpi"].sudo().with_company(company)._refresh_company(company, run_date)
        stats["kpi_refreshed"] += 1
        return res
