from odoo import api, fields, models
from odoo.tools import SQL

# Key of the transaction-level advisory lock (with the company's id) under which the
# positions of a company are computed: two closes of one company at once would insert the
# same customers' rows, and the one that lost would fail on the unique index.
POSITION_LOCK = 7_326_120


class DunningLedgerPosition(models.Model):
    """What one customer owed in one company at the dates of the KPI window: at each month
    end before this month and on the day it was computed, per currency, its open receivable
    lines not yet due (current), overdue, overdue x days past due, and its open credits.

    The close of the daily run adds them up into the company's ledger snapshots
    (:meth:`_get_open_at`). It computes again only the customers journaled since the
    company's last checks and those the date moves by more than a day (a line falling due,
    a document or a settlement dated later): the others' day figures are the same but each
    overdue amount a day older. So the ledger is read for the customers whose data changed,
    not all of it every day (it was: 0.9 s a day at 100,000 lines, growing with the
    history). Written by the engine only (as sudo); readable, like the KPI profiles, by
    collectors and accounting managers of the company.
    """

    _name = "dunning.ledger.position"
    _description = "Dunning Ledger Position"
    _log_access = False

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    # The receivable accounts read, as "id,id,...": an account made receivable or no longer
    # (no journal entry: the accounts are not the customers' data) computes every
    # position again.
    accounts = fields.Char(string="Receivable Accounts", readonly=True)
    # A plain id: 0 stands for the receivable lines without a customer.
    partner_ref = fields.Integer(string="Customer", readonly=True)
    first = fields.Date(string="Window Start", readonly=True)
    base_date = fields.Date(string="Computed For", readonly=True)
    recompute_date = fields.Date(
        string="Compute Again On",
        readonly=True,
        help="The first day on which the date changes these figures otherwise than by a day "
        "more past due.",
    )
    # {month end: [[currency id, current, overdue, overdue x days, credits], ...]}
    past = fields.Json(string="Month Ends", readonly=True)
    # [[currency id, current, overdue, overdue x days, credits], ...] on the base date
    now = fields.Json(string="On the Base Date", readonly=True)

    _customer_once = models.UniqueIndex("(company_id, partner_ref)")

    @api.model
    def _get_open_at(self, company, first, run_date, days, incremental=False):
        """For each date of ``days`` (the month ends of the window before ``run_date``'s
        month, and ``run_date``), as the ledger stood on that date: the open receivables
        not yet due (current), overdue, and overdue * days past due, each receivable line
        on its own due date.

        Open credits (credit notes, payments on account) are netted per customer and
        currency: first against what is overdue, the rest against what is current, so that
        current + overdue is the receivables balance. The overdue * days figure shrinks with
        the overdue amount, in proportion.

        ``incremental``: compute again only the customers whose figures may have changed
        since the positions were computed (:meth:`_get_changed_refs`); else every customer.

        :return: dict date -> (current, overdue, overdue * days)
        """
        self.flush_model()
        self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", POSITION_LOCK, company.id))
        accounts = self._get_accounts_key()
        refs = self._get_changed_refs(company, first, run_date, accounts) if incremental else None
        self._compute(company, first, run_date, days, refs, accounts)
        rows = self.env.execute_query(
            SQL(
                """WITH points AS (
                       SELECT d.key::date AS day, 0 AS days_on, e
                         FROM dunning_ledger_position p, jsonb_each(p.past) d,
                              jsonb_array_elements(d.value) e
                        WHERE p.company_id = %(company)s AND d.key::date = ANY(%(days)s::date[])
                    UNION ALL
                       SELECT %(run_date)s::date, %(run_date)s::date - p.base_date, e
                         FROM dunning_ledger_position p, jsonb_array_elements(p.now) e
                        WHERE p.company_id = %(company)s
                   ), positions AS (
                       SELECT day, (e->>1)::numeric AS current, (e->>2)::numeric AS overdue,
                              (e->>3)::numeric + (e->>2)::numeric * days_on AS weighted,
                              (e->>4)::numeric AS credits
                         FROM points
                   )
                   SELECT day,
                          SUM(current - GREATEST(credits - overdue, 0)),
                          SUM(GREATEST(overdue - credits, 0)),
                          SUM(CASE WHEN overdue > credits
                                   THEN weighted * (overdue - credits) / overdue ELSE 0 END)
                     FROM positions
                 GROUP BY day""",
                company=company.id,
                days=list(days),
                run_date=run_date,
            )
        )
        return {row[0]: (row[1] or 0.0, row[2] or 0.0, row[3] or 0.0) for row in rows}

    @api.model
    def _get_accounts_key(self):
        """The receivable accounts the positions read (``dunning.kpi._receivable_line_sql``),
        as stored in ``accounts``."""
        rows = self.env.execute_query(
            SQL(
                """SELECT string_agg(id::text, ',' ORDER BY id) FROM account_account
                    WHERE account_type = 'asset_receivable'"""
            )
        )
        return rows[0][0] or ""

    @api.model
    def _get_changed_refs(self, company, first, run_date, accounts):
        """The customers (0: the lines without one) whose positions to compute again:
        journaled since the company's last checks, or moved by the date by more than a day.

        A position reads its customer's receivable lines, their settlements and the
        customer's contacts, all journaled under the customer; and the receivable accounts,
        compared with ``accounts``. So a journaled setting (a currency rate, a ladder, a
        user) computes none of them again. A new month changes the window's start
        (``first``), and computes them all.

        :return: list of customer ids, or None for every customer: the positions are of
            another window, another set of receivable accounts or a later day, or the checks
            never ran
        """
        mark = self.env["dunning.daily.mark"]._get_mark(company)
        if not mark.run_date:
            return None
        rows = self.env.execute_query(
            SQL(
                """SELECT bool_or(first IS DISTINCT FROM %(first)s OR base_date > %(date)s
                                  OR accounts IS DISTINCT FROM %(accounts)s),
                          array_agg(partner_ref) FILTER (WHERE recompute_date <= %(date)s)
                     FROM dunning_ledger_position WHERE company_id = %(company)s""",
                first=first,
                date=run_date,
                accounts=accounts,
                company=company.id,
            )
        )
        stale, dated = rows[0]
        if stale is not False:  # None: no positions yet
            return None
        changed, _setting = self.env["dunning.change"]._read_changes(company, mark)
        return sorted(changed | set(dated or ()) | {0})

    @api.model
    def _compute(self, company, first, run_date, days, refs, accounts):
        """Compute the positions of the customers ``refs`` (None: every customer) on
        ``days``, replacing theirs, in SQL: at a million lines, the positions of every
        customer do not fit in the run's memory. ``accounts``: :meth:`_get_accounts_key`."""
        Kpi = self.env["dunning.kpi"]
        if refs is None:
            scope = SQL("TRUE")
            self.env.cr.execute(
                SQL("DELETE FROM dunning_ledger_position WHERE company_id = %s", company.id)
            )
        else:
            # The lines of the customers' contacts, looked up by the ledger's partner index,
            # and the lines of row 0 (without a customer, or of a contact without one), which
            # are in every scope.
            scope = SQL(
                """(l.partner_id = ANY(ARRAY(
                        SELECT id FROM res_partner
                         WHERE commercial_partner_id = ANY(%(refs)s)
                            OR commercial_partner_id IS NULL))
                    OR l.partner_id IS NULL)""",
                refs=refs,
            )
            self.env.cr.execute(
                SQL(
                    """DELETE FROM dunning_ledger_position
                        WHERE company_id = %s AND partner_ref = ANY(%s)""",
                    company.id,
                    refs,
                )
            )
        self.env.cr.execute(
            SQL(
                """WITH lines AS (
                       SELECT l.id, l.balance, l.date, COALESCE(l.date_maturity, l.date) AS due,
                              COALESCE(p.commercial_partner_id, 0) AS partner_id,
                              l.currency_id, l.reconciled
                         FROM account_move_line l
                    LEFT JOIN res_partner p ON p.id = l.partner_id
                        WHERE %(receivable)s AND l.balance != 0 AND %(scope)s
                   ), parts AS (
                       SELECT r.debit_move_id AS id, r.max_date, r.amount AS debited,
                              0::numeric AS credited
                         FROM account_partial_reconcile r JOIN lines ON lines.id = r.debit_move_id
                    UNION ALL
                       SELECT r.credit_move_id, r.max_date, 0::numeric, r.amount
                         FROM account_partial_reconcile r JOIN lines ON lines.id = r.credit_move_id
                   ), settled AS (
                       SELECT id, MAX(max_date) AS last FROM parts GROUP BY id
                   ), open_lines AS (
                       SELECT d.day, l.id, l.balance, l.due, l.partner_id, l.currency_id
                         FROM unnest(%(days)s::date[]) AS d(day)
                         JOIN lines l ON l.date <= d.day
                    LEFT JOIN settled s ON s.id = l.id
                        WHERE NOT l.reconciled OR s.last IS NULL OR s.last > d.day
                   ), moved AS (
                       SELECT o.day, o.id, SUM(p.debited - p.credited) AS amount
                         FROM open_lines o JOIN parts p ON p.id = o.id AND p.max_date <= o.day
                     GROUP BY o.day, o.id
                   ), open_at AS (
                       SELECT o.day, o.partner_id, o.currency_id, o.due,
                              o.balance - COALESCE(m.amount, 0) AS residual
                         FROM open_lines o
                    LEFT JOIN moved m ON m.day = o.day AND m.id = o.id
                   ), positions AS (
                       SELECT day, partner_id,
                              jsonb_agg(jsonb_build_array(currency_id, current, overdue,
                                                          weighted, credits)) AS figures,
                              MIN(next_due) AS next_due
                         FROM (SELECT day, partner_id, currency_id,
                                      COALESCE(SUM(residual) FILTER (
                                          WHERE residual > 0 AND due >= day), 0) AS current,
                                      COALESCE(SUM(residual) FILTER (
                                          WHERE residual > 0 AND due < day), 0) AS overdue,
                                      COALESCE(SUM(residual * (day - due)) FILTER (
                                          WHERE residual > 0 AND due < day), 0) AS weighted,
                                      COALESCE(-SUM(residual) FILTER (WHERE residual < 0), 0)
                                          AS credits,
                                      MIN(due) FILTER (WHERE residual > 0 AND due >= day)
                                          AS next_due
                                 FROM open_at GROUP BY day, partner_id, currency_id) figures
                     GROUP BY day, partner_id
                   ), later AS (
                       SELECT partner_id, MIN(date) AS day FROM lines
                        WHERE date > %(date)s GROUP BY partner_id
                    UNION ALL
                       SELECT l.partner_id, MIN(p.max_date) FROM parts p JOIN lines l ON l.id = p.id
                        WHERE p.max_date > %(date)s GROUP BY l.partner_id
                   ), customers AS (
                       SELECT partner_id,
                              jsonb_object_agg(day, figures) FILTER (WHERE day < %(date)s)
                                  AS past,
                              (array_agg(figures) FILTER (WHERE day = %(date)s))[1] AS now,
                              MIN(next_due) FILTER (WHERE day = %(date)s) + 1 AS next_due
                         FROM positions GROUP BY partner_id
                   ), dated AS (
                       SELECT partner_id, MIN(day) AS day FROM later GROUP BY partner_id
                   )
                   INSERT INTO dunning_ledger_position
                          (company_id, partner_ref, accounts, first, base_date, recompute_date,
                           past, now)
                   SELECT %(company)s, COALESCE(c.partner_id, d.partner_id), %(accounts)s,
                          %(first)s,
                          %(date)s, LEAST(c.next_due, d.day), COALESCE(c.past, '{}'::jsonb),
                          COALESCE(c.now, '[]'::jsonb)
                     FROM customers c FULL JOIN dated d ON d.partner_id = c.partner_id""",
                receivable=Kpi._receivable_line_sql(company),
                scope=scope,
                days=list(days),
                date=run_date,
                first=first,
                accounts=accounts,
                company=company.id,
            )
        )
