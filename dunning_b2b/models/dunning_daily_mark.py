from odoo import api, fields, models
from odoo.tools import SQL

# The records the daily checks read (dunning.engine._get_daily_steps): the ledger, the
# collections records and the engine's line states, the customers and the configuration.
INPUT_MODELS = (
    "account.move",
    "account.move.line",
    "account.partial.reconcile",
    "res.partner",
    "res.company",
    "res.users",
    "res.currency.rate",
    "ir.config_parameter",
    "mail.activity",
    "dunning.policy",
    "dunning.level",
    "dunning.segment.rule",
    "dunning.event",
    "dunning.message",
    "dunning.promise",
    "dunning.dispute",
    "dunning.credit.hold",
    "dunning.line",
    "dunning.dispute.reason",
    "account.account",
    "res.currency",
    "mail.activity.type",
    # Company-dependent fields fall back to defaults (a default credit limit, policy...).
    "ir.default",
)
# Relation tables read besides those of the dunning models: who the managers are.
INPUT_RELATIONS = ("res_groups_users_rel",)


class DunningDailyMark(models.Model):
    """When each company's daily checks last ran to the end, and the state of what they read
    then. A second run on the same day whose inputs are exactly as they were after the first
    one's checks does not run them again: they would write what they wrote."""

    _name = "dunning.daily.mark"
    _description = "Dunning Daily Checks Done"
    _rec_name = "company_id"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    run_date = fields.Date(required=True)
    # Row counts of tables of every company: for the engine alone.
    fingerprint = fields.Char(required=True, groups="base.group_system")

    _company_uniq = models.Constraint(
        "unique(company_id)", "A company has one mark of its daily checks."
    )

    @api.model
    def _get_input_tables(self):
        """The tables the daily checks read: those of :data:`INPUT_MODELS`, the many2many
        tables of the dunning models (lines and documents of messages, holds, promises) and
        :data:`INPUT_RELATIONS`; not the relations other addons add to customers or users
        (Discuss memberships change whenever someone reads a channel). Extend
        :meth:`_get_input_models` when a step reads another model."""
        tables = set(INPUT_RELATIONS)
        for name in self._get_input_models():
            Model = self.env[name]
            tables.add(Model._table)
            tables.update(
                field.relation
                for field in Model._fields.values()
                if field.type == "many2many"
                and field.store
                and field.relation.startswith("dunning")
            )
        return sorted(tables)

    @api.model
    def _get_input_models(self):
        return list(INPUT_MODELS)

    @api.model
    def _get_fingerprint(self):
        """The state of the daily checks' inputs: per table, its row count and a digest of
        where each row version lives and which transaction wrote it. Any insert, update or
        delete changes it, from the ORM or in SQL, in this transaction or another one
        (PostgreSQL writes a new row version for every update); a few hundred milliseconds
        on a 100,000-line ledger."""
        self.env.flush_all()
        parts = [
            SQL(
                "SELECT %s, COUNT(*)::text || '/' || "
                "COALESCE(SUM(hashtext(ctid::text || '/' || xmin::text)::bigint), 0)::text "
                "FROM %s",
                table,
                SQL.identifier(table),
            )
            for table in self._get_input_tables()
        ]
        rows = self.env.execute_query(SQL(" UNION ALL ").join(parts))
        return ";".join(f"{table}:{state}" for table, state in sorted(rows))

    @api.model
    def _is_current(self, company, run_date, fingerprint):
        """Whether ``company``'s checks already ran on ``run_date`` on these very inputs."""
        mark = self.search([("company_id", "=", company.id)], limit=1)
        return bool(mark and mark.run_date == run_date and mark.fingerprint == fingerprint)

    @api.model
    def _record(self, companies, run_date, fingerprint):
        """Remember that the checks of ``companies`` ran on ``run_date`` and left their inputs
        in the state ``fingerprint``; a company without a mark is checked again."""
        marks = self.search([("company_id", "in", companies.ids)])
        marks.write({"run_date": run_date, "fingerprint": fingerprint})
        self.create(
            [
                {"company_id": company.id, "run_date": run_date, "fingerprint": fingerprint}
                for company in companies - marks.company_id
            ]
        )
