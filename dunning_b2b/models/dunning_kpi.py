import calendar
import logging
import time
from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, format_date

from ..engine import kpi
from ..tools import positive_int_param

_logger = logging.getLogger(__name__)

DEFAULT_WINDOW_MONTHS = 13
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
    that the dashboard and the analysis views read."""

    _name = "dunning.kpi"
    _description = "Collections KPIs"

    # ------------------------------------------------------------- refresh
    @api.model
    def _get_window_months(self):
        return positive_int_param(self.env, "dunning_b2b.kpi_months", DEFAULT_WINDOW_MONTHS)

    @api.model
    def _refresh_company(self, company, run_date, months=None):
        """Recompute every snapshot of ``company`` over the last ``months`` months to
        ``run_date``. Called by the daily run for each company; idempotent."""
        months = months or self._get_window_months()
        started = time.monotonic()
        self.env.flush_all()
        first = month_start(run_date) - relativedelta(months=months - 1)
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
    def action_refresh(self):
        """Button "Refresh now" of the dashboard: the selected companies, today."""
        if not self.env.user.has_group("dunning_b2b.group_dunning_manager"):
            raise AccessError(self.env._("Only dunning managers can refresh the KPIs."))
        today = fields.Date.context_today(self)
        # sudo: the snapshots are written by the system; the manager's right was checked.
        for company in self.env.companies:
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
    def _gather_open_at(self, company, days):
        """For each date of ``days``: open receivable invoice amounts not yet due (current),
        overdue, and overdue * days past due, as the ledger stood on that date."""
        rows = self.env.execute_query(
            SQL(
                """WITH lines AS (
                       SELECT l.id, l.balance, l.date, COALESCE(l.date_maturity, l.date) AS due,
                              CASE WHEN l.reconciled THEN settled.last END AS settled_on
                         FROM account_move_line l
                    LEFT JOIN (SELECT debit_move_id, MAX(max_date) AS last
                                 FROM account_partial_reconcile
                                WHERE company_id = %(company)s
                             GROUP BY debit_move_id) settled ON settled.debit_move_id = l.id
                        WHERE %(receivable)s AND l.balance > 0 AND l.date <= %(last)s
                   ), open_lines AS (
                       SELECT d.day, l.id, l.balance, l.due
                         FROM unnest(%(days)s::date[]) AS d(day)
                         JOIN lines l ON l.date <= d.day
                                     AND (l.settled_on IS NULL OR l.settled_on > d.day)
                   ), paid AS (
                       SELECT o.day, o.id, SUM(p.amount) AS amount
                         FROM open_lines o
                         JOIN account_partial_reconcile p ON p.debit_move_id = o.id
                                                        AND p.max_date <= o.day
                     GROUP BY o.day, o.id
                   ), open_at AS (
                       SELECT o.day, o.due, o.balance - COALESCE(paid.amount, 0) AS residual
                         FROM open_lines o
                    LEFT JOIN paid ON paid.day = o.day AND paid.id = o.id
                   )
                   SELECT day,
                          SUM(residual) FILTER (WHERE due >= day),
                          SUM(residual) FILTER (WHERE due < day),
                          SUM(residual * (day - due)) FILTER (WHERE due < day)
                     FROM open_at WHERE residual > 0
                 GROUP BY day""",
                receivable=self._receivable_line_sql(company),
                company=company.id,
                last=max(days),
                days=list(days),
            )
        )
        return {row[0]: (row[1] or 0.0, row[2] or 0.0, row[3] or 0.0) for row in rows}

    @api.model
    def _refresh_ledger(self, company, first, run_date):
        movement, sales, written_off = self._gather_monthly_ledger(company, run_date)
        months = []
        month = first
        while month <= run_date:
            months.append(month)
            month += relativedelta(months=1)
        ends = {m: min(month_end(m), run_date) for m in months}
        open_at = self._gather_open_at(company, list(ends.values()))

        def balance_before(day):
            return sum(amount for m, amount in movement.items() if m < day)

        def sales_history(month):
            history = []
            for back in range(24):
                m = month - relativedelta(months=back)
                days = (ends.get(m) or month_end(m)).day if back == 0 else month_end(m).day
                history.append((sales.get(m, 0.0), days))
            return history

        distribution = self._gather_stage_distribution(company)
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
    def _gather_stage_distribution(self, company):
        """Open invoices by current stage: [{rank, name, count, amount}] in company currency."""
        rows = self.env["account.move"]._read_group(
            self.env["res.partner"]._get_dunning_open_domain(None, company),
            ["dunning_level_id"],
            ["__count", "amount_residual_signed:sum"],
        )
        ranks = self._get_stage_ranks(company)
        result = [
            {
                "rank": ranks.get(level.id, 0),
                "name": level.name if level else self.env._("Not yet reminded"),
                "count": count,
                "amount": amount,
            }
            for level, count, amount in rows
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

    # -------------------------------------------------------------- history
    @api.model
    def _gather_invoices(self, company, first, run_date):
        """Customer invoices the history KPIs look at: those that entered a stage since
        ``first``, those due in the last twelve months, and every open one."""
        year_ago = run_date - relativedelta(years=1)
        rows = self.env.execute_query(
            SQL(
                """SELECT m.id, m.commercial_partner_id, m.currency_id, m.invoice_date_due,
                          m.amount_residual_signed, m.payment_state, m.dunning_level_id,
                          m.amount_total_signed
                     FROM account_move m
                    WHERE m.company_id = %(company)s AND m.move_type = 'out_invoice'
                      AND m.state = 'posted' AND m.invoice_date <= %(run_date)s
                      AND (m.invoice_date_due >= %(year_ago)s
                           OR m.payment_state IN ('not_paid', 'partial')
                           OR m.id IN (SELECT e.move_id FROM dunning_event e
                                        WHERE e.company_id = %(company)s
                                          AND e.event_type = 'stage'
                                          AND e.date >= %(first)s))""",
                company=company.id,
                run_date=run_date,
                year_ago=min(year_ago, first),
                first=first,
            )
        )
        keys = ("id", "partner_id", "currency_id", "due", "residual", "payment_state", "level_id",
                "total")  # fmt: skip
        return {row[0]: dict(zip(keys, row, strict=True)) for row in rows}

    @api.model
    def _gather_events(self, company, move_ids, run_date):
        return self.env.execute_query(
            SQL(
                """SELECT e.move_id, e.level_id, e.date, lvl.day_offset, e.amount_residual,
                          e.currency_id
                     FROM dunning_event e JOIN dunning_level lvl ON lvl.id = e.level_id
                    WHERE e.event_type = 'stage' AND e.company_id = %s AND e.date <= %s
                      AND e.move_id = ANY(%s)""",
                company.id,
                run_date,
                list(move_ids),
            )
        )

    @api.model
    def _gather_settlements(self, company, move_ids, run_date):
        """Reconciliations of the invoices' receivable lines up to ``run_date``.

        :return: dict move id -> [Settlement]
        The part of a reconciliation with a write-off move (one posting to the company's bad
        debt account) counts as written off, in proportion of that move's receivable credit.
        """
        rows = self.env.execute_query(
            SQL(
                """SELECT l.move_id, p.max_date, p.amount, c.move_id
                     FROM account_move_line l
                     JOIN account_partial_reconcile p ON p.debit_move_id = l.id
                     JOIN account_move_line c ON c.id = p.credit_move_id
                    WHERE %s AND l.move_id = ANY(%s) AND p.max_date <= %s""",
                self._receivable_line_sql(company),
                list(move_ids),
                run_date,
            )
        )
        shares = {}
        if company.dunning_bad_debt_account_id and rows:
            shares = dict(
                self.env.execute_query(
                    SQL(
                        """SELECT c.move_id,
                                  LEAST(1.0, SUM(c.balance) FILTER (WHERE c.account_id = %s)
                                      / NULLIF(-SUM(c.balance) FILTER (WHERE c.balance < 0
                                          AND c.account_id IN (SELECT id FROM account_account
                                              WHERE account_type = 'asset_receivable')), 0))
                             FROM account_move_line c
                            WHERE c.move_id IN (%s) AND c.move_id = ANY(%s)
                         GROUP BY c.move_id""",
                        company.dunning_bad_debt_account_id.id,
                        self._writeoff_move_sql(company),
                        list({row[3] for row in rows}),
                    )
                )
            )
        settlements = defaultdict(list)
        for move_id, day, amount, counterpart_id in rows:
            share = shares.get(counterpart_id) or 0.0
            settlements[move_id].append(
                kpi.Settlement(move_id, day, amount * (1 - share), amount * share)
            )
        return settlements

    @api.model
    def _get_settled_on(self, company, invoices, settlements):
        """Date each invoice's open amount reached zero by the reconciliations gathered (so
        that a past run date sees the invoice as it stood then); absent while open."""
        currency = company.currency_id
        settled_on = {}
        for move_id, parts in settlements.items():
            cleared = 0.0
            for part in sorted(parts, key=lambda p: p.date):
                cleared += part.amount + part.written_off
                if currency.compare_amounts(cleared, invoices[move_id]["total"]) >= 0:
                    settled_on[move_id] = part.date
                    break
            else:
                # Foreign-currency invoices: rate differences may leave cents in company
                # currency although the invoice is paid in its own currency.
                if invoices[move_id]["payment_state"] not in ("not_paid", "partial"):
                    settled_on[move_id] = max(part.date for part in parts)
        return settled_on

    @api.model
    def _refresh_history(self, company, first, run_date):
        invoices = self._gather_invoices(company, first, run_date)
        events = self._gather_events(company, invoices, run_date)
        settlements = self._gather_settlements(company, invoices, run_date)
        settled_on = self._get_settled_on(company, invoices, settlements)
        ranks = self._get_stage_ranks(company)
        convert = self._get_converter(company)
        amounts = {}
        for move_id, level_id, day, _offset, amount, currency_id in events:
            amounts[move_id, level_id] = convert(amount or 0.0, currency_id, day)
        entries = kpi.stage_entries(
            (move_id, level_id, day, offset, amounts[move_id, level_id])
            for move_id, level_id, day, offset, _amount, _currency in events
        )
        partners = (
            self.env["res.partner"]
            .with_company(company)
            .browse({invoice["partner_id"] for invoice in invoices.values()})
        )
        # The collector who actually gets the customer's tasks: its own, else the company's.
        fallback = company.dunning_collector_id.id
        profile = {
            partner.id: (
                partner.dunning_segment or False,
                partner.dunning_collector_id.id or fallback,
            )
            for partner in partners
        }
        self._write_analysis(company, first, run_date, invoices, entries, settlements,
                             settled_on, profile, ranks)  # fmt: skip
        self._write_customers(company, run_date, invoices, entries, settlements, settled_on,
                              profile, ranks)  # fmt: skip

    @api.model
    def _replace_rows(self, model, where, vals_list):
        """Replace the snapshot rows of ``model`` matching ``where`` by ``vals_list``.

        Plain INSERTs: these rows are ours, have no computed stored fields and are only ever
        written here; the ORM's create cost 9 of the 12 seconds of a refresh of 100,000
        invoices (monetary rounding, caches), this takes a fraction of a second.
        """
        Model = self.env[model]
        Model.flush_model()
        table = SQL.identifier(Model._table)
        self.env.cr.execute(SQL("DELETE FROM %s WHERE %s", table, where))
        if vals_list:
            names = list(vals_list[0])
            now = self.env.cr.now()
            for start in range(0, len(vals_list), 1000):
                rows = SQL(", ").join(
                    SQL(
                        "(%s, %s, %s, %s, %s)",
                        SQL(", ").join(
                            SQL("%s", None if vals[name] is False else vals[name]) for name in names
                        ),
                        self.env.uid,
                        now,
                        self.env.uid,
                        now,
                    )
                    for vals in vals_list[start : start + 1000]
                )
                self.env.cr.execute(
                    SQL(
                        "INSERT INTO %s (%s, create_uid, create_date, write_uid, write_date) "
                        "VALUES %s",
                        table,
                        SQL(", ").join(SQL.identifier(name) for name in names),
                        rows,
                    )
                )
        Model.invalidate_model()

    @api.model
    def _get_converter(self, company):
        """amount, currency id, date -> amount in company currency at the rate of the date."""
        rates = {}
        Currency = self.env["res.currency"]
        target = company.currency_id

        def convert(amount, currency_id, day):
            if not currency_id or currency_id == target.id:
                return amount
            if (currency_id, day) not in rates:
                rates[currency_id, day] = Currency._get_conversion_rate(
                    Currency.browse(currency_id), target, company, day
                )
            return amount * rates[currency_id, day]

        return convert

    @api.model
    def _write_analysis(self, company, first, run_date, invoices, entries, settlements,
                        settled_on, profile, ranks):  # fmt: skip
        groups = defaultdict(list)
        for entry in entries:
            if entry.entered_on < first:
                continue
            invoice = invoices[entry.move_id]
            segment, collector_id = profile.get(invoice["partner_id"], (False, False))
            key = (month_start(entry.entered_on), invoice["currency_id"], segment, collector_id,
                   entry.stage_id)  # fmt: skip
            groups[key].append(entry)
        vals_list = []
        for (month, currency_id, segment, collector_id, level_id), group in groups.items():
            stats = kpi.resolution_by_stage(group, settlements, settled_on)[level_id]
            vals_list.append(
                {
                    "company_id": company.id,
                    "month": month,
                    "currency_id": currency_id,
                    "segment": segment,
                    "collector_id": collector_id,
                    "level_id": level_id,
                    "stage_rank": ranks.get(level_id, 0),
                    "entered_count": stats["entered"],
                    "resolved_count": stats["resolved"],
                    "written_off_count": stats["written_off_count"],
                    "moved_on_count": stats["moved_on"],
                    "open_count": stats["open"],
                    "entered_amount": stats["entered_amount"],
                    "recovered_amount": stats["recovered"],
                    "written_off_amount": stats["written_off"],
                    "resolution_rate": stats["rate"] or 0.0,
                    "recovery_rate": stats["recovery_rate"] or 0.0,
                }
            )
        self._replace_rows(
            "dunning.analysis", SQL("company_id = %s AND month >= %s", company.id, first), vals_list
        )

    @api.model
    def _write_customers(self, company, run_date, invoices, entries, settlements, settled_on,
                         profile, ranks):  # fmt: skip
        year_ago = run_date - relativedelta(years=1)
        half = run_date - relativedelta(months=6)
        by_move = defaultdict(list)
        for entry in entries:
            by_move[entry.move_id].append(entry)
        per_partner = defaultdict(
            lambda: {"open": 0.0, "overdue": 0.0, "items": [], "level": None, "paid": [],
                     "due": 0, "previous": [], "recent": []}
        )  # fmt: skip
        for move_id, invoice in invoices.items():
            row = per_partner[invoice["partner_id"]]
            due = invoice["due"]
            is_open = invoice["payment_state"] in ("not_paid", "partial")
            if is_open:
                row["open"] += invoice["residual"]
                if due and due < run_date:
                    row["overdue"] += invoice["residual"]
                    row["items"].append((invoice["residual"], (run_date - due).days))
                level_id = invoice["level_id"]
                if level_id and ranks.get(level_id, 0) > ranks.get(row["level"], 0):
                    row["level"] = level_id
            settled = settled_on.get(move_id)
            if settled and settled >= year_ago:
                row["paid"].append(kpi.stage_at(by_move.get(move_id, ()), settled))
            if due and year_ago <= due <= run_date:
                row["due"] += 1
                complete = settled or (run_date - due).days > STORY_DAYS
                if complete:
                    reached = max((ranks.get(e.stage_id, 0) for e in by_move.get(move_id, ())),
                                  default=0)  # fmt: skip
                    row["recent" if due > half else "previous"].append(reached)
        disputes = self._count_by_partner(company, "dunning.dispute", "create_date", year_ago)
        promises = self._count_by_partner(
            company, "dunning.promise", "promise_date", year_ago, ("kept", "broken")
        )
        names = {
            level.id: level.name
            for level in self.env["dunning.level"].with_context(active_test=False).browse(ranks)
        }
        before = self.env._("Before any reminder")
        vals_list = []
        for partner_id, row in per_partner.items():
            segment, collector_id = profile.get(partner_id, (False, False))
            usual, share = kpi.usual_paying_stage(row["paid"], ranks)
            kept = promises.get((partner_id, "kept"), 0)
            broken = promises.get((partner_id, "broken"), 0)
            dispute_count = disputes.get((partner_id, None), 0)
            delta, trend = kpi.escalation_trend(row["previous"], row["recent"])
            vals_list.append(
                {
                    "company_id": company.id,
                    "partner_id": partner_id,
                    "segment": segment,
                    "collector_id": collector_id,
                    "level_id": row["level"],
                    "open_amount": row["open"],
                    "overdue_amount": row["overdue"],
                    "weighted_dpd": kpi.weighted_days_past_due(row["items"]) or 0.0,
                    "paid_count": len(row["paid"]),
                    "usual_paying_level_id": usual,
                    "usual_paying_stage": names.get(usual, before) if row["paid"] else False,
                    "usual_paying_share": share or 0.0,
                    "invoice_count": row["due"],
                    "dispute_count": dispute_count,
                    "dispute_frequency": kpi.dispute_frequency(dispute_count, row["due"]) or 0.0,
                    "promise_kept_count": kept,
                    "promise_broken_count": broken,
                    "promises_kept_ratio": kpi.promises_kept_ratio(kept, broken) or 0.0,
                    "escalation_delta": delta or 0.0,
                    "escalation_trend": trend,
                }
            )
        self._replace_rows("dunning.customer.kpi", SQL("company_id = %s", company.id), vals_list)

    @api.model
    def _count_by_partner(self, company, model, date_field, since, states=None):
        """Records of ``model`` (a parallel addon's disputes or promises, if installed) per
        commercial customer since ``since``: dict (partner id, state or None) -> count."""
        if model not in self.env:
            return {}
        Model = self.env[model].sudo()
        domain = [(date_field, ">=", since)]
        if "company_id" in Model._fields:
            domain.append(("company_id", "=", company.id))
        groupby = ["partner_id"] + (["state"] if states else [])
        if states:
            domain.append(("state", "in", states))
        result = defaultdict(int)
        for group in Model._read_group(domain, groupby, ["__count"]):
            partner, count = group[0], group[-1]
            state = group[1] if states else None
            result[partner.commercial_partner_id.id, state] += count
        return result

    # ------------------------------------------------------------ dashboard
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
