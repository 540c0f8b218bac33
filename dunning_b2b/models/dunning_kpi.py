import calendar
import logging
import time

from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..engine import kpi
from ..tools import positive_int_param
from .dunning_promise import dunning_today

_logger = logging.getLogger(__name__)

DEFAULT_WINDOW_MONTHS = 13
# First key of the transaction-level advisory lock on a company's KPIs (second key: the
# company): shared by the daily run's profiles batches and close, exclusive for "Refresh now".
KPI_LOCK = 7_326_119
STORY_DAYS = 90  # an invoice this much past due has had its whole dunning story
READER_GROUPS = (
    "dunning_b2b.group_dunning_user",
    "account.group_account_manager",
)


def month_start(day):
    return day.replace(day=1)


def month_end(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


class DunningKpi(models.AbstractModel):
    """Gathers the ledger and the dunning history of a company set-wise, computes the KPIs
    with :mod:`odoo.addons.dunning_b2b.engine.kpi` and stores them in the snapshot models
    that the dashboard and the analysis views read.

    This file: the refresh and the ledger snapshots. The history of stages and the customer
    profiles: dunning_kpi_history.py; what the dashboard reads: dunning_kpi_dashboard.py.
    Every open amount is read per receivable line (each instalment on its own due date).
    """

    _name = "dunning.kpi"
    _description = "Collections KPIs"

    # ------------------------------------------------------------- refresh
    @api.model
    def _get_window_months(self):
        return positive_int_param(self.env, "dunning_b2b.kpi_months", DEFAULT_WINDOW_MONTHS)

    @api.model
    def _get_window_start(self, run_date, months=None):
        """The first day of the KPIs' window: ``months`` months to ``run_date``."""
        months = months or self._get_window_months()
        return month_start(run_date) - relativedelta(months=months - 1)

    @api.model
    def _refresh_company(self, company, run_date, months=None):
        """Recompute every snapshot of ``company`` over the last ``months`` months to
        ``run_date`` in one go ("Refresh now"; the daily run computes the customers'
        profiles in batches, then :meth:`_refresh_totals`); idempotent."""
        started = time.monotonic()
        self.env.flush_all()
        self._lock_kpis(company, exclusive=True)
        first = self._get_window_start(run_date, months)
        self._refresh_ledger(company, first, run_date)
        self._refresh_history(company, first, run_date)
        _logger.info(
            "Collections KPIs of %s from %s to %s refreshed in %.1f s",
            company.name,
            first,
            run_date,
            time.monotonic() - started,
        )

    @api.model
    def _refresh_totals(self, company, run_date):
        """The close of the daily run: the ledger snapshots, and the stage outcomes added
        up from the customers' profiles its batches computed (:meth:`_refresh_profiles`).
        Unless every profile is of this day and window (a profiles batch failed, the window
        changed during the run): the step then fails, and the snapshots stay as they were,
        not a mix of two days."""
        self.env.flush_all()
        self._lock_kpis(company)
        first = self._get_window_start(run_date)
        _total, stale = self._count_profiles(company, first, run_date)
        if stale:
            raise UserError(
                self.env._(
                    "%(count)s customer profiles of %(company)s were not computed on "
                    "%(date)s: the KPIs are left as they were and are computed again by "
                    "the next run.",
                    count=stale,
                    company=company.name,
                    date=run_date,
                )
            )
        self._refresh_ledger(company, first, run_date, incremental=True)
        ranks = self._get_stage_ranks(company)
        self._write_analysis(company, first, self._sum_analysis_parts(company, first, run_date),
                             ranks)  # fmt: skip

    @api.model
    def _try_lock_kpis(self, company):
        """:meth:`_lock_kpis` (shared) if no one holds it alone, without waiting."""
        rows = self.env.execute_query(
            SQL("SELECT pg_try_advisory_xact_lock_shared(%s, %s)", KPI_LOCK, company.id)
        )
        return rows[0][0]

    @api.model
    def _lock_kpis(self, company, exclusive=False):
        """Wait for whoever rewrites ``company``'s KPIs: the daily run's profiles batches
        and close share the lock, "Refresh now" holds it alone (both rewrite the same
        customer rows; at once, one of them failed). Held to the end of the transaction."""
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        self.env.cr.execute(SQL("SELECT %s(%s, %s)", SQL(function), KPI_LOCK, company.id))

    @api.model
    def action_refresh(self):
        """Button "Refresh now" of the dashboard: the selected companies, today."""
        if not self.env.user.has_group("dunning_b2b.group_dunning_manager"):
            raise AccessError(self.env._("Only dunning managers can refresh the KPIs."))
        # The run's day (the user's time zone, as the daily run's): profiles stamped with
        # another day would make the run's close find them stale.
        today = dunning_today(self.env)
        # sudo: the snapshots are written by the system; the manager's right was checked.
        # One company after the other in a fixed order: two managers refreshing at once wait
        # for each other instead of locking each other out.
        for company in self.env.companies.sorted("id"):
            # sudo: snapshots are written by the system; the manager's companies, one at a time
            self.sudo().with_company(company)._refresh_company(company, today)
        return True

    # --------------------------------------------------------------- ledger
    @api.model
    def _receivable_line_sql(self, company, alias="l"):
        """Posted lines of receivable accounts of ``company``."""
        return SQL(
            """%(l)s.company_id = %(company)s AND %(l)s.parent_state = 'posted'
               AND %(l)s.account_id IN (SELECT id FROM account_account
                                         WHERE account_type = 'asset_receivable')""",
            l=SQL.identifier(alias),
            company=company.id,
        )

    @api.model
    def _writeoff_move_sql(self, company):
        """Moves of ``company`` that write receivables off: they post to its bad debt account."""
        account = company.dunning_bad_debt_account_id
        return SQL(
            "SELECT w.move_id FROM account_move_line w WHERE w.account_id = %s "
            "AND w.company_id = %s AND w.parent_state = 'posted'",
            account.id or 0,
            company.id,
        )

    @api.model
    def _gather_monthly_ledger(self, company, run_date):
        """Per month up to ``run_date``: receivable movement, credit sales, write-offs."""
        rows = self.env.execute_query(
            SQL(
                """SELECT date_trunc('month', l.date)::date,
                          SUM(l.balance),
                          SUM(l.balance) FILTER (
                              WHERE m.move_type IN ('out_invoice', 'out_refund')
                                AND l.move_id NOT IN (%(writeoff)s))
                     FROM account_move_line l
                     JOIN account_move m ON m.id = l.move_id
                    WHERE %(receivable)s AND l.date <= %(run_date)s
                 GROUP BY 1""",
                writeoff=self._writeoff_move_sql(company),
                receivable=self._receivable_line_sql(company),
                run_date=run_date,
            )
        )
        movement = {row[0]: row[1] or 0.0 for row in rows}
        sales = {row[0]: row[2] or 0.0 for row in rows}
        written_off = {}
        if company.dunning_bad_debt_account_id:
            written_off = dict(
                self.env.execute_query(
                    SQL(
                        """SELECT date_trunc('month', w.date)::date, SUM(w.balance)
                             FROM account_move_line w
                            WHERE w.account_id = %(account)s AND w.company_id = %(company)s
                              AND w.parent_state = 'posted' AND w.date <= %(run_date)s
                              AND w.move_id IN (SELECT l.move_id FROM account_move_line l
                                                 WHERE %(receivable)s)
                         GROUP BY 1""",
                        account=company.dunning_bad_debt_account_id.id,
                        company=company.id,
                        run_date=run_date,
                        receivable=self._receivable_line_sql(company),
                    )
                )
            )
        return movement, sales, written_off

    @api.model
    def _refresh_ledger(self, company, first, run_date, incremental=False):
        """The ledger snapshots of the months from ``first`` to ``run_date``.
        ``incremental``: the customers' positions (``dunning.ledger.position``) are computed
        again only where their data changed (the daily close), not for every customer."""
        movement, sales, written_off = self._gather_monthly_ledger(company, run_date)
        months = []
        month = first
        while month <= run_date:
            months.append(month)
            month += relativedelta(months=1)
        ends = {m: min(month_end(m), run_date) for m in months}
        # sudo: the positions are the engine's own figures of this company
        open_at = (
            self.env["dunning.ledger.position"]
            .sudo()
            ._get_open_at(company, first, run_date, list(ends.values()), incremental=incremental)
        )

        def balance_before(day):
            return sum(amount for m, amount in movement.items() if m < day)

        def sales_history(month):
            history = []
            for back in range(24):
                m = month - relativedelta(months=back)
                days = (ends.get(m) or month_end(m)).day if back == 0 else month_end(m).day
                history.append((sales.get(m, 0.0), days))
            return history

        distribution = self._gather_stage_distribution(company, run_date)
        vals_list = []
        for month in months:
            end = ends[month]
            current, overdue, weighted = open_at.get(end, (0.0, 0.0, 0.0))
            closing = balance_before(month) + movement.get(month, 0.0)
            year_start = month - relativedelta(months=11)
            history = sales_history(month)
            common = {
                "company_id": company.id,
                "month": month,
                "date_to": end,
                "closing": closing,
                "closing_current": current,
                "closing_overdue": overdue,
                "monthly_sales": [amount for amount, _days in history],
            }
            for period, start in (("month", month), ("year", year_start)):
                figures = kpi.LedgerFigures(
                    opening=balance_before(start),
                    credit_sales=sum(a for m, a in sales.items() if start <= m <= month),
                    closing=closing,
                    closing_current=current,
                    written_off=sum(a for m, a in written_off.items() if start <= m <= month),
                    days=(end - start).days + 1,
                    # SQL summed amount * days and amount over the overdue invoices.
                    weighted_dpd=kpi.weighted_days_past_due([(overdue, weighted / overdue)])
                    if overdue
                    else None,
                    monthly_sales=tuple(history),
                )
                vals_list.append(
                    dict(
                        common,
                        period=period,
                        days=figures.days,
                        opening=figures.opening,
                        credit_sales=figures.credit_sales,
                        written_off=figures.written_off,
                        stage_distribution=distribution if month == months[-1] else False,
                        **self._kpi_vals(kpi.ledger_kpis(figures)),
                    )
                )
        # sudo: snapshots are written by the system only, and only this company's are replaced
        Snapshot = self.env["dunning.kpi.snapshot"].sudo()
        Snapshot.search([("company_id", "=", company.id), ("month", ">=", first)]).unlink()
        Snapshot.create(vals_list)

    @api.model
    def _kpi_vals(self, values):
        """Engine KPI values as snapshot field values (undefined ratios stored as 0)."""
        keys = ("cei", "dso", "dso_countback", "best_dso", "add", "weighted_dpd", "bad_debt")
        vals = {key: values[key] or 0.0 for key in keys}
        vals["collected"] = values["collected"]
        return vals

    @api.model
    def _gather_stage_distribution(self, company, run_date=None):
        """Open receivable lines by their current stage (the engine's state of each line):
        [{rank, name, count, amount}], amounts in company currency."""
        Line = self.env["dunning.line"]
        Line.flush_model(["move_line_id", "level_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT dl.level_id, COUNT(*), SUM(items.amount_company)
                     FROM (%s) items
                LEFT JOIN dunning_line dl ON dl.move_line_id = items.line_id
                 GROUP BY dl.level_id""",
                Line._get_open_items_query(company, run_date, credits=False),
            )
        )
        ranks = self._get_stage_ranks(company)
        Level = self.env["dunning.level"].with_context(active_test=False)
        result = [
            {
                "rank": ranks.get(level_id, 0),
                "name": Level.browse(level_id).name if level_id else self.env._("Not yet reminded"),
                "count": count,
                "amount": amount,
            }
            for level_id, count, amount in rows
        ]
        return sorted(result, key=lambda row: row["rank"])

    @api.model
    def _get_stage_ranks(self, company):
        """Position of each stage of ``company``'s ladders in its ladder (1 = first)."""
        levels = (
            self.env["dunning.level"]
            .with_context(active_test=False)
            .search([("company_id", "=", company.id)])
        )
        ranks = {}
        for policy in levels.policy_id:
            ordered = levels.filtered(lambda lvl, p=policy: lvl.policy_id == p).sorted("day_offset")
            ranks.update({level.id: index for index, level in enumerate(ordered, 1)})
        return ranks
