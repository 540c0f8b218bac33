from datetime import timedelta

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import api, models
from odoo.tools import SQL

from .dunning_kpi import STORY_DAYS


class DunningKpi(models.AbstractModel):
    """When a customer's profile moves with the date: on a new day of the same window, a
    profile whose customer was not journaled is computed again only from the first day on
    which the date changes more than its average days past due (one day more each day,
    shifted in SQL); the others are stamped with the day as they stand."""

    _inherit = "dunning.kpi"

    @api.model
    def _get_profile_changes(self, company, run_date, invoices, settled_on, figures):
        """Per customer of ``invoices`` (the lines a profile reads) and ``figures`` (its open
        figures): the first day after ``run_date`` on which its profile changes by the date
        other than by a day more past due. A line falls due or leaves the twelve months
        counted, moves from the last six months to the six before, ends its dunning story
        (``STORY_DAYS`` past due); a payment leaves the twelve months; a document or a
        reconciliation reaches its date; a dispute or promise leaves the twelve months; a
        new month (the window).

        :return: dict customer id -> date
        """
        year, half = relativedelta(years=1), relativedelta(months=6)
        day = timedelta(days=1)
        changes = {}

        def note(partner_id, date):
            if date and date > run_date:
                changes[partner_id] = min(date, changes.get(partner_id, date))

        # The first of a line's dates after the run, once per due date and per settlement
        # date (a ledger has far fewer of them than lines; relativedelta is slow).
        story = timedelta(days=STORY_DAYS + 1)

        def first_after(*dates):
            return min((date for date in dates if date > run_date), default=None)

        due_dates = {}
        settled_dates = {}
        for line_id, line in invoices.items():
            partner_id, due = line["partner_id"], line["due"]
            settled = settled_on.get(line_id)
            if settled:
                if settled not in settled_dates:
                    settled_dates[settled] = first_after(settled + year + day)
                note(partner_id, settled_dates[settled])
            if not due:
                continue
            if due not in due_dates:
                # (while the line is open, also the end of its story)
                dates = (due, due + day, due + year + day, due + half)
                due_dates[due] = (first_after(*dates), first_after(*dates, due + story))
            note(partner_id, due_dates[due][0 if settled else 1])
        for partner_id, open_figures in figures.items():
            if open_figures.next_due:
                note(partner_id, open_figures.next_due + day)
        partner_ids = list({line["partner_id"] for line in invoices.values()} | set(figures))
        if not partner_ids:
            return changes
        Line = self.env["dunning.line"]
        for partner_id, date in Line._get_next_document_dates(
            company, run_date, partner_ids
        ).items():
            note(partner_id, date)
        for partner_id, date in self._get_next_settlement_dates(run_date, invoices).items():
            note(partner_id, date)
        # A promise counts through its date + 1 year, a dispute through its creation day + 1
        # year in the run's time zone (its UTC day may be a day later). Noted a day early
        # at worst, and while it still counts, tomorrow at the earliest: else a date noted
        # early would be past on that day and the day it leaves never noted.
        for model, field in (
            ("dunning.dispute", "create_date"),
            ("dunning.promise", "promise_date"),
        ):
            for partner_id, date in self._get_first_dates(company, model, field, run_date - year,
                                                          partner_ids).items():  # fmt: skip
                note(partner_id, max(date + year, run_date + day))
        next_month = run_date.replace(day=1) + relativedelta(months=1)
        for partner_id in partner_ids:
            note(partner_id, next_month)
        return changes

    @api.model
    def _get_next_settlement_dates(self, run_date, invoices):
        """Per customer: the first date after ``run_date`` of a reconciliation of one of the
        ``invoices`` lines (a payment entered ahead of its date)."""
        rows = self.env.execute_query(
            SQL(
                """SELECT p.debit_move_id, MIN(p.max_date) FROM account_partial_reconcile p
                    WHERE p.debit_move_id = ANY(%s) AND p.max_date > %s
                 GROUP BY 1""",
                list(invoices),
                run_date,
            )
        )
        dates = {}
        for line_id, date in rows:
            partner_id = invoices[line_id]["partner_id"]
            dates[partner_id] = min(date, dates.get(partner_id, date))
        return dates

    @api.model
    def _get_first_dates(self, company, model, date_field, since, partner_ids):
        """Per customer: the earliest ``date_field`` since ``since`` of the records of
        ``model`` (disputes, promises) the profile counts (none if not installed)."""
        if model not in self.env:
            return {}
        Model = self.env[model]
        Model.flush_model([date_field, "company_id", "partner_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT p.commercial_partner_id, MIN(r.%s)
                     FROM %s r JOIN res_partner p ON p.id = r.partner_id
                    WHERE r.company_id = %s AND r.%s >= %s
                      AND p.commercial_partner_id = ANY(%s)
                 GROUP BY 1""",
                SQL.identifier(date_field),
                SQL.identifier(Model._table),
                company.id,
                SQL.identifier(date_field),
                since - timedelta(days=1),  # a creation time's UTC day may be a day later
                list(partner_ids),
            )
        )
        return {
            partner_id: first.date() if hasattr(first, "date") else first
            for partner_id, first in rows
        }

    @api.model
    def _shift_profiles(self, company, run_date, partner_ids, since):
        """Stamp with ``run_date`` the profiles of ``company``'s window that the date moves
        only by the day: computed before ``run_date`` over the same window and not before
        the last daily checks (``since``: a profile computed for an earlier date since, by
        "Refresh now" in a time zone still on the day before, misses what came after),
        with nothing else changing by then (``recompute_date`` after it), their customers not in
        ``partner_ids`` (computed again) and of the segment of their worklist row (the daily
        checks' new segments are not journaled). Their overdue lines are as many days more
        past due: the average days past due grows by the days since they were computed.

        :return: the number of profiles shifted; none when "Refresh now" holds the KPIs or
            another transaction wrote some of them since this one began (they are then
            computed again, by batches that wait for it)
        """
        # Not waiting: the plan holds the planning lock, and "Refresh now" takes the KPI
        # locks of its companies in another order.
        if not self._try_lock_kpis(company):
            return 0
        Profile = self.env["dunning.customer.kpi"]
        Profile.flush_model()
        self.env["dunning.worklist"].flush_model(["segment"])
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """UPDATE dunning_customer_kpi k
                              SET weighted_dpd = CASE WHEN weighted_dpd > 0
                                      THEN weighted_dpd
                                           + (%(date)s - (analysis_parts->>'date')::date)
                                      ELSE weighted_dpd END,
                                  analysis_parts = jsonb_set(analysis_parts, '{date}',
                                                             to_jsonb(%(day)s::text)),
                                  write_date = (now() at time zone 'UTC'), write_uid = %(uid)s
                            WHERE company_id = %(company)s AND analysis_parts->>'first' = %(first)s
                              AND (analysis_parts->>'date')::date < %(date)s
                              AND (analysis_parts->>'date')::date >= %(since)s
                              AND recompute_date > %(date)s
                              AND NOT partner_id = ANY(%(changed)s)
                              AND NOT EXISTS (SELECT 1 FROM dunning_worklist w
                                               WHERE w.company_id = k.company_id
                                                 AND w.partner_id = k.partner_id
                                                 AND w.segment IS DISTINCT FROM k.segment)""",
                        date=run_date,
                        since=since,
                        day=str(run_date),
                        first=str(self._get_window_start(run_date)),
                        uid=self.env.uid,
                        company=company.id,
                        changed=sorted(partner_ids),
                    )
                )
                shifted = self.env.cr.rowcount
        except psycopg2.errors.SerializationFailure:
            shifted = 0  # another transaction wrote some of them: computed again instead
        Profile.invalidate_model(["weighted_dpd", "analysis_parts", "write_date", "write_uid"])
        return shifted

    @api.model
    def _get_stale_profile_ids(self, company, run_date):
        """Customers whose profile is not of ``run_date`` and its window."""
        self.env["dunning.customer.kpi"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """SELECT partner_id FROM dunning_customer_kpi
                    WHERE company_id = %s AND (analysis_parts->>'first' IS DISTINCT FROM %s
                                               OR analysis_parts->>'date' IS DISTINCT FROM %s)""",
                company.id,
                str(self._get_window_start(run_date)),
                str(run_date),
            )
        )
        return {row[0] for row in rows}
