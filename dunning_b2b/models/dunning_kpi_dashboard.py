from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_date

from ..engine import kpi
from .dunning_kpi import READER_GROUPS, month_end


class DunningKpi(models.AbstractModel):
    """What the collections dashboard shows, read from the snapshots the daily run wrote
    (dunning_kpi.py, dunning_kpi_history.py): opening it computes nothing."""

    _inherit = "dunning.kpi"

    @api.model
    def get_dashboard_data(self):
        """Everything the dashboard shows, read from the snapshots of the selected companies
        (consolidated in the current company's currency when several are selected)."""
        if not any(self.env.user.has_group(group) for group in READER_GROUPS):
            raise AccessError(self.env._("You are not allowed to read the collections KPIs."))
        companies = self.env.companies
        target = self.env.company.currency_id
        Snapshot = self.env["dunning.kpi.snapshot"]
        latest = Snapshot.search([("company_id", "in", companies.ids)], order="month desc", limit=1)
        if not latest:
            return {"empty": True, "currency": self._currency_info(target)}
        last_month = latest.month
        months = [last_month - relativedelta(months=back) for back in range(11, -1, -1)]
        snapshots = Snapshot.search(
            [("company_id", "in", companies.ids), ("month", ">=", months[0])]
        )
        index = {(s.company_id.id, s.month, s.period): s for s in snapshots}

        def rate(company, day):
            return self.env["res.currency"]._get_conversion_rate(
                company.currency_id, target, self.env.company, day
            )

        def consolidated(month, period):
            rows = [index.get((c.id, month, period)) for c in companies]
            rows = [row for row in rows if row]
            if not rows:
                return None
            totals = defaultdict(float)
            history = defaultdict(float)
            weighted = 0.0
            for row in rows:
                factor = rate(row.company_id, row.date_to)
                for key in ("opening", "credit_sales", "closing", "closing_current",
                            "written_off", "closing_overdue"):  # fmt: skip
                    totals[key] += row[key] * factor
                weighted += row.weighted_dpd * row.closing_overdue * factor
                for back, amount in enumerate(row.monthly_sales or []):
                    history[back] += amount * factor
            first = rows[0]
            start = month if period == "month" else month - relativedelta(months=11)
            figures = kpi.LedgerFigures(
                opening=totals["opening"],
                credit_sales=totals["credit_sales"],
                closing=totals["closing"],
                closing_current=totals["closing_current"],
                written_off=totals["written_off"],
                days=(first.date_to - start).days + 1,
                weighted_dpd=weighted / totals["closing_overdue"]
                if totals["closing_overdue"]
                else None,
                monthly_sales=tuple(
                    (
                        history[back],
                        (first.date_to - month).days + 1
                        if back == 0
                        else month_end(month - relativedelta(months=back)).day,
                    )
                    for back in sorted(history)
                ),
            )
            values = kpi.ledger_kpis(figures)
            values.update(totals, date_to=fields.Date.to_string(first.date_to))
            return values

        trend = [consolidated(month, "month") for month in months]
        return {
            "empty": False,
            "currency": self._currency_info(target),
            "companies": companies.mapped("name"),
            "month_label": self._month_label(last_month),
            "month": consolidated(last_month, "month"),
            "year": consolidated(last_month, "year"),
            "trend": {
                "labels": [self._month_label(month) for month in months],
                "values": trend,
            },
            "stages": self._dashboard_stages(companies, index, last_month),
            "resolution": self._dashboard_resolution(companies, months[0]),
            "customers": self._dashboard_customers(companies, target),
            "refreshed": fields.Datetime.to_string(max(snapshots.mapped("write_date"))),
            "can_refresh": self.env.user.has_group("dunning_b2b.group_dunning_manager"),
            "bad_debt_account": all(company.dunning_bad_debt_account_id for company in companies),
        }

    @api.model
    def _currency_info(self, currency):
        return {
            "symbol": currency.symbol,
            "position": currency.position,
            "digits": currency.decimal_places,
            "name": currency.name,
        }

    @api.model
    def _month_label(self, month):
        return format_date(self.env, month, date_format="MMM y")

    @api.model
    def _dashboard_stages(self, companies, index, month):
        by_rank = {}
        today = fields.Date.context_today(self)
        for company in companies:
            snapshot = index.get((company.id, month, "month"))
            factor = self.env["res.currency"]._get_conversion_rate(
                company.currency_id, self.env.company.currency_id, self.env.company, today
            )
            for row in (snapshot and snapshot.stage_distribution) or []:
                slot = by_rank.setdefault(
                    row["rank"], {"name": row["name"], "count": 0, "amount": 0.0}
                )
                slot["count"] += row["count"]
                slot["amount"] += row["amount"] * factor
        return [dict(by_rank[rank], rank=rank) for rank in sorted(by_rank)]

    @api.model
    def _dashboard_resolution(self, companies, since):
        # Amounts: dunning.analysis sums them in the current company's currency.
        groups = self.env["dunning.analysis"]._read_group(
            [("company_id", "in", companies.ids), ("month", ">=", since)],
            ["stage_rank"],
            ["entered_count:sum", "resolved_count:sum", "entered_amount:sum",
             "recovered_amount:sum", "written_off_amount:sum", "level_id:recordset"],
        )  # fmt: skip
        result = []
        for rank, entered, resolved, amount, recovered, written_off, levels in groups:
            result.append(
                {
                    "rank": rank,
                    "name": levels[:1].name or "",
                    "entered": entered,
                    "resolved": resolved,
                    "rate": kpi.ratio(resolved, entered),
                    "entered_amount": amount,
                    "recovered": recovered,
                    "recovery_rate": kpi.ratio(recovered, amount),
                    "written_off": written_off,
                }
            )
        return sorted(result, key=lambda row: row["rank"])

    @api.model
    def _dashboard_customers(self, companies, target, limit=10):
        rows = self.env["dunning.customer.kpi"].search(
            [("company_id", "in", companies.ids), ("overdue_amount", ">", 0)],
            order="overdue_amount desc",
            limit=limit * len(companies),
        )
        today = fields.Date.context_today(self)
        trends = dict(rows._fields["escalation_trend"]._description_selection(self.env))
        result = []
        for row in rows:
            factor = self.env["res.currency"]._get_conversion_rate(
                row.currency_id, target, self.env.company, today
            )
            result.append(
                {
                    "id": row.id,
                    "partner_id": row.partner_id.id,
                    "name": row.partner_id.display_name,
                    "company": row.company_id.name,
                    "overdue": row.overdue_amount * factor,
                    "days": row.weighted_dpd,
                    "stage": row.level_id.name or "",
                    "usual": row.usual_paying_stage or "",
                    "trend": row.escalation_trend,
                    "trend_label": trends.get(row.escalation_trend, ""),
                }
            )
        result.sort(key=lambda row: -row["overdue"])
        return result[:limit]
