from datetime import timedelta

import psycopg2

from odoo import api, models
from odoo.tools import SQL

from ..engine import quarter_start


class DunningWorklist(models.Model):
    """How a worklist row moves with the date: the first day the date changes it by more
    than a day (``recompute_date``), and the daily shift of the others by the day."""

    _inherit = "dunning.worklist"

    @api.model
    def _get_recompute_date(self, run_date, open_figures, task, promise_date, contact,
                            company, changes=()):  # fmt: skip
        """The first day on which the row changes with the date other than by the daily
        shift (:meth:`_shift_rows`): an item falling due, a task, promise or contact
        interval reaching its date, a new quarter, or one of ``changes`` (the risk level
        changing, a line entering or leaving the 12 months of the payment history, a
        document or a reply reaching its date, a promise or dispute leaving the 12 months
        counted); tomorrow while an overdue item is paused (a pause ends by date)."""
        tomorrow = run_date + timedelta(days=1)
        if open_figures.paused:
            return tomorrow
        # The next quarter's first day (92 days on is always in the next quarter).
        dates = [quarter_start(quarter_start(run_date) + timedelta(days=92))]
        dates += [day for day in changes if day]
        if open_figures.next_due:
            dates.append(open_figures.next_due + timedelta(days=1))
        # A date already passed changes nothing more: the task or promise stays due, the
        # contact interval stays elapsed.
        interval = timedelta(days=company.dunning_contact_interval)
        for day in (task and task[1], promise_date, contact and contact[0] + interval):
            if day and day > run_date:
                dates.append(day)
        return max(min(dates), tomorrow)

    @api.model
    def _shift_rows(self, company, run_date, partner_ids, since):
        """Move to ``run_date`` the rows of ``company`` that the date moves only by the day:
        computed before ``run_date`` and not before the last daily checks (``since``), with
        nothing else changing by then (``recompute_date`` after it) and their customers not
        in ``partner_ids`` (journaled: computed again).
        Their overdue lines are as many days older; the priority and the average days late
        grow by their daily growth for each day since they were computed, rounded as the
        fields are; a next action of the day moves to ``run_date``. One UPDATE, where
        computing them again read every open item, payment, task and event of the customer.

        :return: ``(rows moved, customers left)``: when another transaction wrote some of
            the rows since this one began, none is moved and their customers are left to
            be computed again
        """
        self.flush_model()
        where = SQL(
            """company_id = %s AND refresh_date < %s AND refresh_date >= %s
               AND recompute_date > %s AND NOT partner_id = ANY(%s)""",
            company.id,
            run_date,
            since,
            run_date,
            sorted(partner_ids),
        )
        try:
            moved = self._shift_update(run_date, where)
        except psycopg2.errors.SerializationFailure:
            rows = self.env.execute_query(
                SQL("SELECT partner_id FROM dunning_worklist WHERE %s", where)
            )
            return 0, {row[0] for row in rows}
        finally:
            self.invalidate_model()
        return moved, set()

    @api.model
    def _shift_update(self, run_date, where):
        with self.env.cr.savepoint(flush=False):
            self.env.cr.execute(
                SQL(
                    """UPDATE dunning_worklist
                          SET max_days_overdue = CASE WHEN max_days_overdue > 0
                                  THEN max_days_overdue + (%(date)s - refresh_date)
                                  ELSE max_days_overdue END,
                              priority = ROUND((priority_base
                                                + priority_growth * (%(date)s - base_date))
                                               ::numeric),
                              avg_days_late = COALESCE(ROUND(
                                  (late_amount_days + late_open_amount * (%(date)s - base_date))
                                  / NULLIF(late_amount, 0), 1), 0),
                              next_action_date = CASE WHEN next_action_today THEN %(date)s
                                                      ELSE next_action_date END,
                              refresh_date = %(date)s,
                              write_date = (now() at time zone 'UTC'), write_uid = %(uid)s
                        WHERE %(where)s""",
                    date=run_date,
                    uid=self.env.uid,
                    where=where,
                )
            )
            return self.env.cr.rowcount
