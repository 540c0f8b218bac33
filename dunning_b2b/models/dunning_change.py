import logging

import psycopg2

from odoo import api, fields, models
from odoo.tools import SQL

# Tables whose rows name a customer and a company: (table, customer column, company column).
# A change to a row journals its customer (the commercial partner) in its company.
CUSTOMER_TABLES = (
    ("account_move_line", "partner_id", "company_id"),
    # The document's own dunning fields (exclusion, pause, letter sent) and payment state.
    ("account_move", "partner_id", "company_id"),
    ("dunning_line", "partner_id", "company_id"),
    ("dunning_promise", "partner_id", "company_id"),
    ("dunning_dispute", "partner_id", "company_id"),
    ("dunning_credit_hold", "partner_id", "company_id"),
    ("dunning_message", "partner_id", "company_id"),
    ("dunning_event", "partner_id", "company_id"),
    ("dunning_resolution", "partner_id", "company_id"),
    ("dunning_reply", "partner_id", "company_id"),
)
# Columns whose update alone is no news: what the daily checks never read. A reminder's
# fate (delivered, opened, answered) is shown as it is read, never stored by the checks;
# journaling it made the day after a delivered queue recompute every emailed customer.
QUIET_COLUMNS = {
    "dunning_message": (
        "date_delivered",
        "date_opened",
        "open_count",
        "date_answered",
        "answer_type",
        "write_date",
        "write_uid",
    ),
}
# Tables whose changes can move every customer's figures: a change journals all customers
# (of the row's company when the table has one).
SETTING_TABLES = (
    ("res_company", "id"),
    ("dunning_policy", "company_id"),
    ("dunning_level", None),
    ("dunning_segment_rule", "company_id"),
    ("res_currency_rate", "company_id"),
    ("ir_default", None),
    ("ir_config_parameter", None),
    ("dunning_dispute_reason", None),
    ("mail_activity_type", None),
    ("res_groups_users_rel", None),
)
_logger = logging.getLogger(__name__)
# Key of the transaction-level advisory lock of the journal's cleaning.
VACUUM_LOCK = 7_326_118_002
# A session setting the daily checks set while they write what they derive from the
# journal (worklist rows, segments, lifted holds): their own writes are no news.
QUIET = "dunning.journal_quiet"
# Set while the ladder writes: its own writes are news for the daily checks, not for the
# ladder itself (the same day, it would decide the same).
LADDER = "dunning.journal_ladder"


class DunningChange(models.Model):
    """The change journal: which customer, in which company, has data the daily checks read
    that changed since they last looked. Written by PostgreSQL triggers the engine installs
    (one statement-level trigger per table and operation, so one INSERT per statement
    whatever the number of rows): the ledger is written by the ORM, the reconciliation, bank
    imports and plain SQL alike, and a trigger sees all of them. An entry without customer
    stands for every customer (a setting changed), without company for every company.

    The daily checks read the entries after their company's last mark
    (``dunning.daily.mark.change_id``) and work on those customers only."""

    _name = "dunning.change"
    _description = "Dunning Change Journal"
    _log_access = False
    _order = "id"

    # Plain ids, not relations: NULL stands for every company or customer, and the triggers
    # insert rows without a foreign-key check each.
    company_ref = fields.Integer(string="Company", index=True, readonly=True)
    partner_ref = fields.Integer(string="Customer", readonly=True)

    def init(self):
        # The writing transaction: the entries of a transaction that was still running when
        # the checks last read the journal are read next time, whatever their id.
        self.env.cr.execute(
            "ALTER TABLE dunning_change "
            "ADD COLUMN IF NOT EXISTS xid xid8 NOT NULL DEFAULT pg_current_xact_id()"
        )
        self.env.cr.execute(
            SQL(
                "ALTER TABLE dunning_change ADD COLUMN IF NOT EXISTS by_ladder boolean "
                "NOT NULL DEFAULT (COALESCE(current_setting(%s, true), '') = '1')",
                LADDER,
            )
        )
        for table, partner, company in CUSTOMER_TABLES:
            self._install_trigger(
                table,
                self._customer_rows_sql(partner, company),
                quiet_columns=QUIET_COLUMNS.get(table, ()),
            )
        for table, company in SETTING_TABLES:
            company_sql = SQL.identifier(company) if company else SQL("NULL::int")
            self._install_trigger(
                table, SQL("SELECT DISTINCT %s, NULL::int FROM dunning_rows", company_sql)
            )
        self._install_trigger(
            "res_partner", self._partner_rows_sql(), old_rows_sql=self._partner_old_rows_sql()
        )
        self._install_trigger("mail_activity", self._activity_rows_sql())
        self._install_user_triggers()

    @api.model
    def _customer_rows_sql(self, partner, company):
        return SQL(
            """SELECT DISTINCT r.%s, COALESCE(p.commercial_partner_id, r.%s)
                 FROM dunning_rows r JOIN res_partner p ON p.id = r.%s""",
            SQL.identifier(company),
            SQL.identifier(partner),
            SQL.identifier(partner),
        )

    @api.model
    def _partner_rows_sql(self):
        # The customer's own settings (collector, policy, credit limit, pinned segment) and
        # its contacts' (recipients): every company.
        return SQL(
            """SELECT DISTINCT NULL::int, COALESCE(r.commercial_partner_id, r.id)
                 FROM dunning_rows r"""
        )

    @api.model
    def _partner_old_rows_sql(self):
        # A deleted contact or customer, and the customer a contact left (moved to another
        # parent company): its figures lose the contact's lines.
        return SQL(
            """SELECT DISTINCT NULL::int, COALESCE(r.commercial_partner_id, r.id)
                 FROM dunning_rows r LEFT JOIN res_partner p ON p.id = r.id
                WHERE p.id IS NULL OR p.commercial_partner_id IS DISTINCT FROM
                                      r.commercial_partner_id"""
        )

    @api.model
    def _install_user_triggers(self):
        """Users archived or restored, made portal users or internal again, or given or
        taken a company: who may collect changes (the company's fallback collector, the
        segments' teams), for every customer of every company, of the company for company
        access. Other user writes (preferences, signatures, logins) are no news."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """CREATE OR REPLACE FUNCTION dunning_journal_res_users_access()
                   RETURNS trigger LANGUAGE plpgsql AS $$
                   BEGIN
                       IF current_setting(%s, true) = '1' THEN RETURN NULL; END IF;
                       INSERT INTO dunning_change (company_ref, partner_ref)
                       SELECT NULL::int, NULL::int
                        WHERE EXISTS (SELECT 1 FROM dunning_rows r
                                        JOIN dunning_old_rows o ON o.id = r.id
                                       WHERE r.active IS DISTINCT FROM o.active
                                          OR r.share IS DISTINCT FROM o.share);
                       RETURN NULL;
                   END $$""",
                QUIET,
            )
        )
        cr.execute("DROP TRIGGER IF EXISTS dunning_journal_access ON res_users")
        cr.execute(
            """CREATE TRIGGER dunning_journal_access AFTER UPDATE ON res_users
               REFERENCING OLD TABLE AS dunning_old_rows NEW TABLE AS dunning_rows
               FOR EACH STATEMENT EXECUTE FUNCTION dunning_journal_res_users_access()"""
        )
        self._install_trigger(
            "res_company_users_rel", SQL("SELECT DISTINCT cid, NULL::int FROM dunning_rows")
        )

    @api.model
    def _activity_rows_sql(self):
        return SQL(
            # Tasks on invoices, customers, messages to review and final resolution cases
            # (the worklist's next action reads all four).
            """SELECT DISTINCT COALESCE(r.dunning_company_id, m.company_id, dm.company_id,
                                        dr.company_id),
                               COALESCE(m.commercial_partner_id, p.commercial_partner_id,
                                        mp.commercial_partner_id, dr.partner_id)
                 FROM dunning_rows r
            LEFT JOIN account_move m ON r.res_model = 'account.move' AND m.id = r.res_id
            LEFT JOIN res_partner p ON r.res_model = 'res.partner' AND p.id = r.res_id
            LEFT JOIN dunning_message dm ON r.res_model = 'dunning.message' AND dm.id = r.res_id
            LEFT JOIN res_partner mp ON mp.id = dm.partner_id
            LEFT JOIN dunning_resolution dr
                   ON r.res_model = 'dunning.resolution' AND dr.id = r.res_id
                WHERE r.res_model IN ('account.move', 'res.partner', 'dunning.message',
                                      'dunning.resolution')"""
        )

    @api.model
    def _install_trigger(self, table, rows_sql, old_rows_sql=None, quiet_columns=()):
        """A function per table and side (new rows, old rows) and statement-level triggers:
        after an insert (new rows), an update (new rows; old ones too in the ledger, where a
        line can change customer, and where ``old_rows_sql`` is given: it then reads the old
        rows of updates and deletes) and a delete (old rows). Each names its rows
        ``dunning_rows``. With ``quiet_columns``, an update journals only the rows where
        another column changed (the update's trigger then reads both sides)."""
        cr = self.env.cr
        sides = [("", "dunning_rows"), ("_old", "dunning_old_rows")]
        if quiet_columns:
            quiet = SQL("%s::text[]", list(quiet_columns))
            changed = SQL(
                """(SELECT n.* FROM dunning_new_rows n JOIN dunning_old_rows o ON o.id = n.id
                     WHERE to_jsonb(n) - %s IS DISTINCT FROM to_jsonb(o) - %s)""",
                quiet,
                quiet,
            )
            sides.append(("_update", cr.mogrify(changed.code, changed.params).decode()))
        for suffix, rows_name in sides:
            side_sql = old_rows_sql if suffix == "_old" and old_rows_sql else rows_sql
            # The body is a literal: the transition table is named in its text.
            body = SQL(
                """BEGIN
                       IF current_setting(%s, true) = '1' THEN RETURN NULL; END IF;
                       INSERT INTO dunning_change (company_ref, partner_ref)
                       SELECT * FROM (%s) changed;
                       RETURN NULL;
                   END""",
                QUIET,
                side_sql,
            )
            text = cr.mogrify(body.code, body.params).decode()
            cr.execute(
                SQL(
                    "CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS %s",
                    SQL.identifier(f"dunning_journal_{table}{suffix}"),
                    text.replace("dunning_rows", rows_name),
                )
            )
        for operation, side, suffix in (
            ("INSERT", "NEW", ""),
            ("UPDATE", "NEW", ""),
            ("UPDATE", "OLD", "_old"),
            ("DELETE", "OLD", "_old"),
        ):
            name = SQL.identifier(f"dunning_journal_{operation.lower()}{suffix}")
            cr.execute(SQL("DROP TRIGGER IF EXISTS %s ON %s", name, SQL.identifier(table)))
            if operation == "UPDATE" and suffix and table != "account_move_line":
                if not old_rows_sql:
                    continue
            if operation == "UPDATE" and not suffix and quiet_columns:
                cr.execute(
                    SQL(
                        "CREATE TRIGGER %s AFTER UPDATE ON %s REFERENCING OLD TABLE AS "
                        "dunning_old_rows NEW TABLE AS dunning_new_rows "
                        "FOR EACH STATEMENT EXECUTE FUNCTION %s()",
                        name,
                        SQL.identifier(table),
                        SQL.identifier(f"dunning_journal_{table}_update"),
                    )
                )
                continue
            cr.execute(
                SQL(
                    "CREATE TRIGGER %s AFTER %s ON %s REFERENCING %s TABLE AS %s "
                    "FOR EACH STATEMENT EXECUTE FUNCTION %s()",
                    name,
                    SQL(operation),
                    SQL.identifier(table),
                    SQL(side),
                    SQL.identifier("dunning_rows" if side == "NEW" else "dunning_old_rows"),
                    SQL.identifier(f"dunning_journal_{table}{suffix}"),
                )
            )

    @api.model
    def _drop_triggers(self):
        """Remove the journal's triggers and their functions from the database (the
        addon's uninstallation): left behind, they would write to a table that no longer
        exists, and every posting, payment or user change would fail."""
        cr = self.env.cr
        cr.execute(
            r"""SELECT tgname, tgrelid::regclass::text FROM pg_trigger
                 WHERE tgname LIKE 'dunning\_journal\_%' AND NOT tgisinternal"""
        )
        for name, table in cr.fetchall():
            cr.execute(SQL("DROP TRIGGER IF EXISTS %s ON %s", SQL.identifier(name), SQL(table)))
        cr.execute(
            r"""SELECT oid::regprocedure::text FROM pg_proc
                 WHERE proname LIKE 'dunning\_journal\_%'"""
        )
        for (function,) in cr.fetchall():
            cr.execute(SQL("DROP FUNCTION IF EXISTS %s", SQL(function)))

    # ------------------------------------------------------------- reading
    @api.model
    def _get_position(self):
        """Where the journal stands for this transaction: its last entry and the other
        transactions still running (whose entries may have lower ids and appear later)."""
        self.env.flush_all()
        row = self.env.execute_query(
            SQL(
                """SELECT COALESCE(MAX(id), 0),
                          (SELECT array_agg(x)::text FROM pg_snapshot_xip(pg_current_snapshot()) x)
                     FROM dunning_change"""
            )
        )[0]
        return {"change_id": row[0], "change_running": row[1]}

    @api.model
    def _read_changes(self, company, mark, ladder=False):
        """Customers of ``company`` journaled since ``mark`` (a ``dunning.daily.mark``) and
        whether every customer is (a setting changed). ``ladder``: since the ladder's mark,
        leaving out what the ladder wrote itself."""
        if ladder:
            since, running = mark.ladder_change_id, mark.ladder_running
        else:
            since, running = mark.change_id, mark.change_running
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT partner_ref FROM dunning_change
                    WHERE (id > %s OR xid = ANY(%s::xid8[]))
                      AND (company_ref = %s OR company_ref IS NULL) AND %s""",
                since,
                running or "{}",
                company.id,
                SQL("NOT by_ladder") if ladder else SQL("TRUE"),
            )
        )
        partner_ids = {row[0] for row in rows}
        return partner_ids - {None}, None in partner_ids

    @api.model
    def _ladder_writes(self, on=True):
        """Mark (or stop marking) this transaction's entries as the ladder's own."""
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT set_config(%s, %s, true)", LADDER, "1" if on else "0"))

    @api.model
    def _journal(self, company, partner_ids):
        """Journal customers by hand (not as the ladder's writes): a customer the ladder
        failed on is tried again by the next run of the day."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO dunning_change (company_ref, partner_ref, by_ladder)
                   SELECT %s, unnest(%s::int[]), false""",
                company.id,
                list(partner_ids),
            )
        )

    @api.model
    def _quiet(self, quiet=True):
        """Stop (or resume) journaling this transaction's own writes."""
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT set_config(%s, %s, true)", QUIET, "1" if quiet else "0"))

    @api.model
    def _vacuum(self):
        """Forget the entries every company's checks and ladder have read. A company
        without a mark reads none (its first run checks every customer): it keeps nothing.
        One worker at a time, and never at the cost of its batch: a worker that finds
        another one at it, or whose snapshot is older than the other's delete, leaves it for
        the next close."""
        try:
            with self.env.cr.savepoint():
                if not self.env.execute_query(
                    SQL("SELECT pg_try_advisory_xact_lock(%s)", VACUUM_LOCK)
                )[0][0]:
                    return
                self.env.cr.execute(
                    SQL(
                        """DELETE FROM dunning_change
                            WHERE id <= (SELECT COALESCE(MIN(LEAST(change_id, ladder_change_id)), 0)
                                           FROM dunning_daily_mark)
                              AND NOT EXISTS (
                                  SELECT 1 FROM dunning_daily_mark m
                                   WHERE dunning_change.xid = ANY(m.change_running::xid8[])
                                      OR dunning_change.xid = ANY(m.ladder_running::xid8[]))"""
                    )
                )
        except psycopg2.errors.SerializationFailure:
            _logger.info("Change journal: another worker is cleaning it; left to the next close")
