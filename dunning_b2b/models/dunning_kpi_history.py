import json
from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.tools import SQL

from ..engine import kpi
from ..engine.worklist import OpenFigures, customer_figures
from .dunning_kpi import STORY_DAYS

# The columns of _gather_invoices, in order.
LINE_FIELDS = ("id", "move_id", "partner_id", "currency_id", "due", "residual", "open",
               "level_id", "total")  # fmt: skip


class _Line:
    """A receivable line as the history KPIs read it (``line["due"]``); slots, not a dict:
    a refresh holds one per line of the last twelve months."""

    __slots__ = LINE_FIELDS

    def __init__(self, *values):
        for name, value in zip(LINE_FIELDS, values, strict=True):
            setattr(self, name, value)

    def __getitem__(self, name):
        return getattr(self, name)


class DunningKpi(models.AbstractModel):
    """The history KPIs: stage entries and what became of them (dunning.analysis), and how
    each customer pays (dunning.customer.kpi). Stages are entered, paid and written off per
    receivable line: each instalment on its own due date."""

    _inherit = "dunning.kpi"

    @api.model
    def _gather_invoices(self, company, first, run_date, partner_ids=None):
        """The receivable debit lines the history KPIs look at, each instalment with its own
        due date: lines of customer invoices that entered a stage since ``first`` or fall due
        in the last twelve months, and every open one (the selector's).

        :param partner_ids: these customers only (default: all)
        :return: dict line id -> _Line(id, move_id, partner_id, currency_id, due, residual
            (company currency), open, level_id (the line's stage), total (company currency))
        """
        query = self._get_history_lines_query(company, first, run_date, partner_ids)
        rows = self.env.execute_query(
            SQL(
                """SELECT l.id, l.move_id, p.commercial_partner_id, l.currency_id,
                          l.date_maturity, l.amount_residual, l.is_open, dl.level_id, l.balance
                     FROM (%s) l
                     JOIN res_partner p ON p.id = l.partner_id
                LEFT JOIN dunning_line dl ON dl.move_line_id = l.id""",
                query,
            )
        )
        return {row[0]: _Line(*row) for row in rows}

    @api.model
    def _get_history_customer_ids(self, company, first, run_date):
        """The customers :meth:`_gather_invoices` reads lines of."""
        query = self._get_history_lines_query(company, first, run_date)
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT p.commercial_partner_id FROM (%s) l
                     JOIN res_partner p ON p.id = l.partner_id ORDER BY 1""",
                query,
            )
        )
        return [row[0] for row in rows]

    @api.model
    def _get_history_lines_query(self, company, first, run_date, partner_ids=None):
        year_ago = run_date - relativedelta(years=1)
        self.env["dunning.event"].flush_model(["move_id", "move_line_id", "event_type", "date"])
        Line = self.env["dunning.line"]
        Line.flush_model(["move_line_id", "level_id"])
        partner_filter = SQL("TRUE")
        if partner_ids is not None:
            partner_filter = SQL(
                """l.partner_id IN (SELECT id FROM res_partner
                                     WHERE commercial_partner_id = ANY(%s))""",
                list(partner_ids),
            )
        return SQL(
            """WITH open_items AS (%(open)s)
                   SELECT l.id, l.move_id, l.partner_id, l.currency_id,
                          l.date_maturity, l.amount_residual,
                          l.id IN (SELECT line_id FROM open_items) AS is_open, l.balance
                     FROM account_move_line l
                     JOIN account_account a
                       ON a.id = l.account_id AND a.account_type = 'asset_receivable'
                     JOIN account_move m ON m.id = l.move_id
                    WHERE l.company_id = %(company)s AND l.parent_state = 'posted'
                      AND l.balance > 0 AND %(partners)s
                      AND (l.id IN (SELECT line_id FROM open_items)
                           OR (m.move_type = 'out_invoice' AND m.invoice_date <= %(run_date)s
                               AND (l.date_maturity >= %(year_ago)s
                                    OR l.id IN (SELECT e.move_line_id FROM dunning_event e
                                                 WHERE e.company_id = %(company)s
                                                   AND e.event_type = 'stage'
                                                   AND e.date >= %(first)s)
                                    OR l.move_id IN (SELECT e.move_id FROM dunning_event e
                                                      WHERE e.company_id = %(company)s
                                                        AND e.event_type = 'stage'
                                                        AND e.move_line_id IS NULL
                                                        AND e.date >= %(first)s))))""",
            open=Line._get_open_items_query(
                company, run_date, partner_ids=partner_ids, credits=False
            ),
            company=company.id,
            run_date=run_date,
            year_ago=min(year_ago, first),
            first=first,
            partners=partner_filter,
        )

    @api.model
    def _gather_events(self, company, lines, run_date):
        """Stage events of the receivable ``lines`` (dict line id -> line): ``[(line id,
        stage id, date, stage offset, open amount, currency id)]``. An event written before
        the engine worked on lines (no receivable line) counts for its document's first
        receivable line."""
        first_line = {}
        for line_id, line in sorted(lines.items()):
            first_line.setdefault(line["move_id"], line_id)
        rows = self.env.execute_query(
            SQL(
                """SELECT e.move_line_id, e.move_id, e.level_id, e.date, lvl.day_offset,
                          e.amount_residual, e.currency_id
                     FROM dunning_event e JOIN dunning_level lvl ON lvl.id = e.level_id
                    WHERE e.event_type = 'stage' AND e.company_id = %s AND e.date <= %s
                      AND (e.move_line_id = ANY(%s)
                           OR (e.move_line_id IS NULL AND e.move_id = ANY(%s)))""",
                company.id,
                run_date,
                list(lines),
                list(first_line),
            )
        )
        return [
            (line_id or first_line[move_id], *rest)
            for line_id, move_id, *rest in rows
            if (line_id or first_line.get(move_id)) in lines
        ]

    @api.model
    def _gather_settlements(self, company, line_ids, run_date):
        """Reconciliations of the receivable lines up to ``run_date``.

        :return: dict line id -> [Settlement]
        The part of a reconciliation with a write-off move (one posting to the company's bad
        debt account) counts as written off, in proportion of that move's receivable credit.
        """
        rows = self.env.execute_query(
            SQL(
                """SELECT l.id, p.max_date, p.amount, c.move_id
                     FROM account_move_line l
                     JOIN account_partial_reconcile p ON p.debit_move_id = l.id
                     JOIN account_move_line c ON c.id = p.credit_move_id
                    WHERE %s AND l.id = ANY(%s) AND p.max_date <= %s""",
                self._receivable_line_sql(company),
                list(line_ids),
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
        for line_id, day, amount, counterpart_id in rows:
            share = shares.get(counterpart_id) or 0.0
            settlements[line_id].append(
                kpi.Settlement(line_id, day, amount * (1 - share), amount * share)
            )
        return settlements

    @api.model
    def _get_settled_on(self, company, invoices, settlements):
        """Date each line's open amount reached zero by the reconciliations gathered (so
        that a past run date sees the line as it stood then); absent while open."""
        currency = company.currency_id
        settled_on = {}
        for line_id, parts in settlements.items():
            cleared = 0.0
            for part in sorted(parts, key=lambda p: p.date):
                cleared += part.amount + part.written_off
                if currency.compare_amounts(cleared, invoices[line_id]["total"]) >= 0:
                    settled_on[line_id] = part.date
                    break
            else:
                # Foreign-currency lines: rate differences may leave cents in company
                # currency although the line is settled in its own currency.
                if not invoices[line_id]["open"]:
                    settled_on[line_id] = max(part.date for part in parts)
        return settled_on

    @api.model
    def _refresh_history(self, company, first, run_date):
        """Every customer's profile, a chunk of customers at a time (memory is bounded by
        the chunk, not the ledger), then the stage outcomes: the sums of the profiles'
        shares."""
        partner_ids = self._get_profile_scope(company, run_date, first=first)
        size = self.env["dunning.engine"]._get_chunk_size()
        for start in range(0, len(partner_ids), size):
            self._refresh_profiles(
                company, run_date, partner_ids[start : start + size], first=first
            )
        ranks = self._get_stage_ranks(company)
        sums = self._sum_analysis_parts(company, first, run_date)
        self._write_analysis(company, first, sums, ranks)

    @api.model
    def _get_profile_scope(self, company, run_date, partner_ids=None, first=None):
        """The customers whose profiles to compute: ``partner_ids`` (those whose data
        changed since the profiles of ``run_date`` were computed) when every profile is of
        that day and window (:meth:`_parts_are_current`), else every customer with lines in
        the window, open items or a profile.

        :return: sorted list of customer ids
        """
        first = first or self._get_window_start(run_date)
        if partner_ids is not None and self._parts_are_current(company, first, run_date):
            return sorted(set(partner_ids))
        listed = self.env["dunning.line"]._get_open_or_listed_ids(
            company, run_date, "dunning.customer.kpi"
        )
        return sorted(set(self._get_history_customer_ids(company, first, run_date)) | listed)

    @api.model
    def _refresh_profiles(self, company, run_date, partner_ids, first=None):
        """Compute the profiles of the customers ``partner_ids`` again (a customer with
        nothing left in the window loses its profile), each with its share of the stage
        outcomes (``analysis_parts``), stamped with the window and the day."""
        first = first or self._get_window_start(run_date)
        self._lock_kpis(company)
        self._replace_rows(
            "dunning.customer.kpi",
            SQL("company_id = %s AND partner_id = ANY(%s)", company.id, list(partner_ids)),
            [],
        )
        # A customer deleted since it was journaled has nothing left to profile.
        chunk = self.env["res.partner"].browse(partner_ids).exists().ids
        if not chunk:
            return
        ranks = self._get_stage_ranks(company)
        convert = self._get_converter(company)
        Line = self.env["dunning.line"]
        invoices = self._gather_invoices(company, first, run_date, partner_ids=chunk)
        events = self._gather_events(company, invoices, run_date)
        settlements = self._gather_settlements(company, invoices, run_date)
        settled_on = self._get_settled_on(company, invoices, settlements)
        amounts = {}
        # Stage entries, settlements and outcomes are per receivable line: the engine's
        # "move id" of a StageEntry or Settlement is a line id here.
        for line_id, level_id, day, _offset, amount, currency_id in events:
            amounts[line_id, level_id] = convert(amount or 0.0, currency_id, day)
        entries = kpi.stage_entries(
            (line_id, level_id, day, offset, amounts[line_id, level_id])
            for line_id, level_id, day, offset, _amount, _currency in events
        )
        # Open figures per customer, net of open credits of the same currency.
        figures = customer_figures(
            Line._get_open_items(company, run_date, partner_ids=chunk),
            run_date,
            precision=company.currency_id.rounding,
        )
        profile = self._get_profiles(company, chunk)
        parts = self._get_analysis_parts(first, invoices, entries, settlements, settled_on,
                                         profile)  # fmt: skip
        stamp = {"first": str(first), "date": str(run_date), "parts": parts}
        changes = self._get_profile_changes(company, run_date, invoices, settled_on, figures)
        self._write_customers(company, run_date, invoices, entries, settled_on, profile,
                              ranks, figures, stamp, changes)  # fmt: skip
        self.env.invalidate_all()

    @api.model
    def _get_profiles(self, company, partner_ids):
        """Segment and collector (its own, else the company's) of each customer."""
        fallback = company.dunning_collector_id.id
        partners = self.env["res.partner"].with_company(company).browse(partner_ids)
        partners.fetch(["dunning_segment", "dunning_collector_id"])  # not the whole rows
        return {
            partner.id: (
                partner.dunning_segment or False,
                partner.dunning_collector_id.id or fallback,
            )
            for partner in partners
        }

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
    def _write_analysis(self, company, first, groups, ranks):
        vals_list = []
        for (month, currency_id, segment, collector_id, level_id), stats in groups.items():
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
                    "resolution_rate": kpi.ratio(stats["resolved"], stats["entered"]) or 0.0,
                    "recovery_rate": kpi.ratio(stats["recovered"], stats["entered_amount"]) or 0.0,
                }
            )
        self._replace_rows(
            "dunning.analysis", SQL("company_id = %s AND month >= %s", company.id, first), vals_list
        )

    @api.model
    def _write_customers(self, company, run_date, invoices, entries, settled_on, profile,
                         ranks, figures, parts, changes=None):  # fmt: skip
        """One profile per customer. ``invoices``: the receivable lines gathered (dict line id
        -> line); ``figures``: open figures per customer (net of open credits); ``parts``:
        the window and day of the computation and each customer's share of the stage
        outcomes (``{"first", "date", "parts": {customer id: [part]}}``); ``changes``: the
        day each customer's profile is to be computed again (:meth:`_get_profile_changes`)."""
        changes = changes or {}
        year_ago = run_date - relativedelta(years=1)
        half = run_date - relativedelta(months=6)
        by_line = defaultdict(list)
        for entry in entries:
            by_line[entry.move_id].append(entry)
        per_partner = defaultdict(
            lambda: {"level": None, "paid": [], "due": 0, "previous": [], "recent": []}
        )
        for partner_id in figures:
            per_partner[partner_id]
        for line_id, line in invoices.items():
            row = per_partner[line["partner_id"]]
            due = line["due"]
            level_id = line["level_id"]
            if line["open"] and level_id and ranks.get(level_id, 0) > ranks.get(row["level"], 0):
                row["level"] = level_id
            settled = settled_on.get(line_id)
            if settled and settled >= year_ago:
                row["paid"].append(kpi.stage_at(by_line.get(line_id, ()), settled))
            if due and year_ago <= due <= run_date:
                row["due"] += 1
                complete = settled or (run_date - due).days > STORY_DAYS
                if complete:
                    reached = max((ranks.get(e.stage_id, 0) for e in by_line.get(line_id, ())),
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
            open_figures = figures.get(partner_id) or OpenFigures()
            vals_list.append(
                {
                    "company_id": company.id,
                    "partner_id": partner_id,
                    "segment": segment,
                    "collector_id": collector_id,
                    "level_id": row["level"],
                    "open_amount": open_figures.exposure,
                    "overdue_amount": open_figures.overdue,
                    "weighted_dpd": kpi.weighted_days_past_due(open_figures.overdue_items) or 0.0,
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
                    "analysis_parts": json.dumps(
                        dict(parts, parts=parts["parts"].get(partner_id, []))
                    ),
                    "recompute_date": changes.get(partner_id, False),
                }
            )
        # The customers' rows were deleted first (_refresh_profiles).
        self._replace_rows("dunning.customer.kpi", SQL("FALSE"), vals_list)

    @api.model
    def _count_by_partner(self, company, model, date_field, since, states=None):
        """Records of ``model`` (a parallel addon's disputes or promises, if installed) per
        commercial customer since ``since``: dict (partner id, state or None) -> count."""
        if model not in self.env:
            return {}
        # sudo: the engine's KPI step counts every record of this company, whoever runs it
        Model = self.env[model].sudo()
        domain = [(date_field, ">=", since), ("company_id", "=", company.id)]
        groupby = ["partner_id"] + (["state"] if states else [])
        if states:
            domain.append(("state", "in", states))
        result = defaultdict(int)
        for group in Model._read_group(domain, groupby, ["__count"]):
            partner, count = group[0], group[-1]
            state = group[1] if states else None
            result[partner.commercial_partner_id.id, state] += count
        return result
