from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from ..engine.items import OpenItem
from ..tools import amount_formatter

# The columns of the selector's query, in the order of OpenItem's fields.
ITEM_COLUMNS = (
    "line_id",
    "move_id",
    "partner_id",
    "company_id",
    "currency_id",
    "due_date",
    "amount",
    "amount_company",
    "move_name",
    "move_type",
    "ref",
    "invoice_date",
    "excluded",
)


class DunningLine(models.Model):
    """The dunning state of one receivable line: the stage it reached, when, for which due
    date, and why it is paused. The engine's own table, written in bulk by the engine, so
    that a run never rewrites ``account_move``.

    This model is also the one selector of "what is open": :meth:`_get_open_items_query`
    is the only place that states which receivable lines are open for dunning; the engine,
    the worklist, the KPIs, letters, holds, promises and the sale bridge all read it.
    """

    _name = "dunning.line"
    _description = "Dunning State of a Receivable Line"
    _order = "partner_id, due_date, id"
    _check_company_auto = True
    _rec_name = "move_line_id"

    move_line_id = fields.Many2one(
        "account.move.line",
        string="Receivable Line",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    move_id = fields.Many2one(
        "account.move",
        string="Document",
        required=True,
        readonly=True,
        ondelete="cascade",
        index=True,
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    level_id = fields.Many2one(
        "dunning.level",
        string="Dunning Stage",
        readonly=True,
        ondelete="restrict",
        index="btree_not_null",
    )
    level_date = fields.Date(string="Stage Reached On", readonly=True)
    due_date = fields.Date(
        readonly=True, help="The line's due date when the engine last placed it on the ladder."
    )
    cycle = fields.Integer(
        default=1,
        readonly=True,
        help="Starts at 1 and grows each time the line's dunning restarts (reset to draft, "
        "cancellation, reversal, a new due date): a stage is announced once per cycle.",
    )
    pause_reason = fields.Char(string="Paused", readonly=True)
    amount_residual = fields.Monetary(
        related="move_line_id.amount_residual_currency", string="Open Amount"
    )
    is_open = fields.Boolean(compute="_compute_is_open", search="_search_is_open")
    days_overdue = fields.Integer(compute="_compute_days_overdue")

    _line_once = models.UniqueIndex("(move_line_id)", "A receivable line has one dunning state.")

    @api.depends("move_line_id.reconciled", "move_line_id.parent_state")
    def _compute_is_open(self):
        for line in self:
            aml = line.move_line_id
            line.is_open = aml.parent_state == "posted" and not aml.reconciled

    def _search_is_open(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        domain = Domain("move_line_id", "any", self._get_open_line_domain())
        return domain if (operator == "in") == (True in value) else ~domain

    @api.depends("move_line_id.date_maturity")
    def _compute_days_overdue(self):
        today = fields.Date.context_today(self)
        for line in self:
            due = line.move_line_id.date_maturity
            line.days_overdue = (today - due).days if due else 0

    # ------------------------------------------------------------ selector
    @api.model
    def _get_open_line_domain(self, companies=None, partners=None):
        """The open receivable lines as a domain on ``account.move.line`` (for ORM searches
        and ``_read_group``; the SQL of :meth:`_get_open_items_query` states the same)."""
        domain = Domain(
            [
                ("parent_state", "=", "posted"),
                ("account_type", "=", "asset_receivable"),
                ("reconciled", "=", False),
                ("partner_id", "!=", False),
            ]
        )
        if companies is not None:
            domain &= Domain("company_id", "in", companies.ids)
        if partners is not None:
            domain &= Domain("partner_id.commercial_partner_id", "in", partners.ids)
        return domain

    @api.model
    def _get_open_items_query(
        self, companies, run_date=None, partner_ids=None, move_ids=None, credits=True
    ):
        """SQL selecting the open receivable items, one row per line, with the columns of
        :data:`ITEM_COLUMNS` (the fields of :class:`OpenItem`).

        Open: a posted line on a receivable account, not fully reconciled, with a customer.
        Debits (> 0) are what the customer owes: each instalment of an invoice with its own
        due date, debit notes, opening balances. Credits (< 0) are credit notes and payments
        not yet matched. Documents dated after ``run_date`` are left out.

        :param companies: res.company records
        :param run_date: leave out documents dated after it (default: none left out)
        :param partner_ids: restrict to these commercial partners
        :param move_ids: restrict the debits to these documents (credits stay, for netting)
        :param credits: include the open credits
        """
        self.env["account.move.line"].flush_model(
            [
                "move_id",
                "partner_id",
                "company_id",
                "currency_id",
                "date_maturity",
                "amount_residual",
                "amount_residual_currency",
                "reconciled",
                "parent_state",
                "account_id",
            ]
        )
        self.env["account.move"].flush_model(
            ["name", "move_type", "ref", "invoice_date", "date", "dunning_excluded"]
        )
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        clauses = [
            SQL("aml.company_id IN %s", tuple(companies.ids) or (0,)),
            SQL("aml.parent_state = 'posted'"),
            SQL("aml.reconciled IS NOT TRUE"),
            SQL("(aml.amount_residual != 0 OR aml.amount_residual_currency != 0)"),
        ]
        if run_date:
            clauses.append(SQL("COALESCE(m.invoice_date, m.date) <= %s", run_date))
        if partner_ids is not None:
            # As a sub-select on the line's own partner: the planner then walks the lines of
            # these partners by index instead of scanning every open line (77 ms -> 7 ms a
            # batch of 200 customers at 100,000 lines).
            clauses.append(
                SQL(
                    "aml.partner_id IN (SELECT id FROM res_partner"
                    " WHERE commercial_partner_id IN %s)",
                    tuple(partner_ids) or (0,),
                )
            )
        if move_ids is not None:
            clauses.append(
                SQL(
                    "(aml.move_id IN %s OR aml.amount_residual < 0)"
                    if credits
                    else "aml.move_id IN %s",
                    tuple(move_ids) or (0,),
                )
            )
        if not credits:
            clauses.append(SQL("aml.amount_residual > 0"))
        return SQL(
            """SELECT aml.id AS line_id, aml.move_id, p.commercial_partner_id AS partner_id,
                      aml.company_id, aml.currency_id, aml.date_maturity AS due_date,
                      aml.amount_residual_currency AS amount,
                      aml.amount_residual AS amount_company,
                      m.name AS move_name, m.move_type, m.ref,
                      COALESCE(m.invoice_date, m.date) AS invoice_date,
                      COALESCE(m.dunning_excluded, FALSE) AS excluded
                 FROM account_move_line aml
                 JOIN account_account acc
                   ON acc.id = aml.account_id AND acc.account_type = 'asset_receivable'
                 JOIN account_move m ON m.id = aml.move_id
                 JOIN res_partner p ON p.id = aml.partner_id
                WHERE %s""",
            SQL(" AND ").join(clauses),
        )

    @api.model
    def _get_open_items(
        self, companies, run_date=None, partner_ids=None, move_ids=None, credits=True
    ):
        """The open receivable items as :class:`OpenItem` values, by customer, due date and
        line (see :meth:`_get_open_items_query` for the parameters)."""
        query = self._get_open_items_query(companies, run_date, partner_ids, move_ids, credits)
        rows = self.env.execute_query(
            SQL("SELECT * FROM (%s) items ORDER BY partner_id, due_date, line_id", query)
        )
        return [OpenItem(*row) for row in rows]

    @api.model
    def _get_open_or_listed_ids(self, company, run_date, model):
        """Customers with an open receivable item in ``company``, or a row of ``model`` (a
        table of ours with one row per company and customer: worklist, KPI profiles).

        :return: set of customer ids
        """
        self.env[model].flush_model(["company_id", "partner_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT partner_id FROM (%s) items
                    UNION SELECT partner_id FROM %s WHERE company_id = %s""",
                self._get_open_items_query(company, run_date),
                SQL.identifier(self.env[model]._table),
                company.id,
            )
        )
        return {row[0] for row in rows}

    @api.model
    def _get_next_document_dates(self, company, run_date, partner_ids):
        """Per customer: the earliest date after ``run_date`` of a document with a receivable
        line (the open items and the history leave documents out until their date).

        :return: dict customer id -> date
        """
        return dict(
            self.env.execute_query(
                SQL(
                    """SELECT p.commercial_partner_id, MIN(COALESCE(m.invoice_date, m.date))
                         FROM account_move_line l
                         JOIN account_account a
                           ON a.id = l.account_id AND a.account_type = 'asset_receivable'
                         JOIN account_move m ON m.id = l.move_id
                         JOIN res_partner p ON p.id = l.partner_id
                        WHERE l.company_id = %s AND l.parent_state = 'posted'
                          AND COALESCE(m.invoice_date, m.date) > %s
                          AND p.commercial_partner_id = ANY(%s)
                     GROUP BY 1""",
                    company.id,
                    run_date,
                    list(partner_ids),
                )
            )
        )

    @api.model
    def _get_dated_customer_ids(self, company, since, run_date):
        """Customers with a document of a receivable line dated after ``since`` and up to
        ``run_date``: on ``run_date`` the open items and the history read it for the first
        time (a document posted ahead of its date was news before it counted).

        :return: set of customer ids
        """
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT p.commercial_partner_id
                     FROM account_move m
                     JOIN account_move_line l ON l.move_id = m.id
                     JOIN account_account a
                       ON a.id = l.account_id AND a.account_type = 'asset_receivable'
                     JOIN res_partner p ON p.id = l.partner_id
                    WHERE m.company_id = %s AND m.state = 'posted'
                      AND COALESCE(m.invoice_date, m.date) > %s
                      AND COALESCE(m.invoice_date, m.date) <= %s""",
                company.id,
                since,
                run_date,
            )
        )
        return {row[0] for row in rows}

    @api.model
    def _iter_open_items(self, company, run_date, size=None):
        """The open items of ``company``'s customers (credits included), one list per chunk
        of customers (``dunning.engine._get_chunk_size``): for the daily checks that read
        every customer, with memory bounded by the chunk."""
        size = size or self.env["dunning.engine"]._get_chunk_size()
        query = self._get_open_items_query(company, run_date)
        rows = self.env.execute_query(
            SQL("SELECT DISTINCT partner_id FROM (%s) items ORDER BY 1", query)
        )
        partner_ids = [row[0] for row in rows]
        for start in range(0, len(partner_ids), size):
            yield self._get_open_items(
                company, run_date, partner_ids=partner_ids[start : start + size]
            )

    @api.model
    def _get_instalments(self, line_ids):
        """Which instalment each receivable line is, among its document's receivable debits.

        :return: dict line id -> (number, count); documents with one line give (1, 1)
        """
        return {
            line_id: (n, total) for line_id, (_name, n, total) in self._get_names(line_ids).items()
        }

    @api.model
    def _get_names(self, line_ids):
        """Each line's document number and its place among the document's receivable debits.

        :return: dict line id -> (document number, instalment number, instalment count)
        """
        if not line_ids:
            return {}
        self.env["account.move.line"].flush_model(
            ["move_id", "account_id", "balance", "date_maturity"]
        )
        self.env["account.move"].flush_model(["name"])
        ids = list(line_ids)
        # Indexed look-ups only, numbered here: the lines' documents, then those documents'
        # receivable debits in due-date order (a window query over them let the planner
        # misjudge the join: seconds on a large ledger).
        documents = dict(
            self.env.execute_query(
                SQL("SELECT id, move_id FROM account_move_line WHERE id = ANY(%s)", ids)
            )
        )
        move_ids = list(set(documents.values()))
        names = dict(
            self.env.execute_query(
                SQL("SELECT id, name FROM account_move WHERE id = ANY(%s)", move_ids)
            )
        )
        debits = self.env.execute_query(
            SQL(
                """SELECT d.move_id, d.id FROM account_move_line d
                     JOIN account_account acc ON acc.id = d.account_id
                    WHERE d.move_id = ANY(%s)
                      AND acc.account_type = 'asset_receivable' AND d.balance > 0
                 ORDER BY d.move_id, d.date_maturity, d.id""",
                move_ids,
            )
        )
        places, counts = {}, defaultdict(int)
        for move_id, line_id in debits:
            counts[move_id] += 1
            places[line_id] = counts[move_id]
        return {
            line_id: (
                names.get(move_id) or "",
                places.get(line_id, 1),
                counts[move_id] if line_id in places else 1,
            )
            for line_id, move_id in documents.items()
        }

    @api.model
    def _invalidate_stages(self):
        """After the engine wrote this table in SQL: drop what was read from it, the stage of
        invoices and customers included."""
        self.invalidate_model()
        self.env["account.move"].invalidate_model(
            ["dunning_level_id", "dunning_date", "dunning_paused_reason"]
        )
        self.env["res.partner"].invalidate_model(["dunning_level_id"])

    @api.model
    def _get_highest_stage_query(self, column, level_ids=None, company_ids=None):
        """SQL selecting the documents (``column`` "move_id") or customers ("partner_id")
        whose highest stage among their open lines is one of ``level_ids`` (any stage when
        None): what their "Dunning Stage" shows, so that a filter finds what the list shows.
        """
        assert column in ("move_id", "partner_id")
        self.flush_model(["move_line_id", "move_id", "partner_id", "company_id", "level_id"])
        self.env["account.move.line"].flush_model(["parent_state", "reconciled"])
        where = [SQL("aml.parent_state = 'posted'"), SQL("NOT aml.reconciled")]
        if company_ids is not None:
            where.append(SQL("dl.company_id IN %s", tuple(company_ids) or (0,)))
        query = SQL(
            """SELECT dl.%(column)s AS res_id,
                      (array_agg(dl.level_id ORDER BY lv.day_offset DESC, lv.id DESC))[1] AS top
                 FROM dunning_line dl
                 JOIN dunning_level lv ON lv.id = dl.level_id
                 JOIN account_move_line aml ON aml.id = dl.move_line_id
                WHERE %(where)s
             GROUP BY dl.%(column)s""",
            column=SQL.identifier(column),
            where=SQL(" AND ").join(where),
        )
        if level_ids is None:
            return SQL("SELECT res_id FROM (%s) staged", query)
        return SQL(
            "SELECT res_id FROM (%s) staged WHERE top IN %s", query, tuple(level_ids) or (0,)
        )

    @api.model
    def _get_states(self, line_ids):
        """The stored state of lines: dict line id -> (state id, level id, due date, cycle,
        pause reason)."""
        if not line_ids:
            return {}
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                """SELECT move_line_id, id, level_id, due_date, cycle, pause_reason
                     FROM dunning_line WHERE move_line_id IN %s""",
                tuple(line_ids),
            )
        )
        return {row[0]: row[1:] for row in rows}

    # ------------------------------------------------------------- rendering
    @api.model
    def _get_line_labels(self, line_ids):
        """How each line is named to a person: "INV/2026/0042, instalment 1 of 2" for a
        document with several receivable lines, the document's number otherwise.

        :return: dict line id -> str
        """
        labels = {}
        for line_id, (name, number, count) in self._get_names(line_ids).items():
            labels[line_id] = (
                self.env._(
                    "%(document)s, instalment %(number)s of %(count)s",
                    document=name,
                    number=number,
                    count=count,
                )
                if count > 1
                else name
            )
        return labels

    @api.model
    def _get_html_list(self, line_ids, labels=None):
        """The lines as an HTML list for tasks and notes: "INV/2026/0042, instalment 1 of 2:
        $ 500.00 due 10/30/2026" (open amount in the line's currency, the line's due date).

        :param labels: the lines' labels (``_get_line_labels``), when looked up for a batch
        """
        return self._get_html_lister(line_ids, labels)(line_ids)

    @api.model
    def _get_html_lister(self, line_ids, labels=None):
        """A function ``line ids -> HTML list`` (see :meth:`_get_html_list`) for any subset of
        ``line_ids``: the lines, their labels and the language's formats are read once for a
        batch instead of once per list (one query per task was most of a large run's notes).
        """
        lines = self.env["account.move.line"].browse(line_ids)
        lines.fetch(["move_id", "amount_residual_currency", "currency_id", "date_maturity"])
        if labels is None or not set(line_ids) <= set(labels):
            labels = self._get_line_labels(line_ids)
        date_format = self.env["res.lang"]._get_data(code=self.env.lang or "en_US").date_format
        format_amount = amount_formatter(self.env)
        currencies = {currency.id: currency for currency in lines.currency_id}
        texts = {}
        for line in lines:
            due = line.date_maturity
            texts[line.id] = Markup("<li>%s</li>") % self.env._(
                "%(item)s: %(amount)s due %(due)s",
                item=labels[line.id],
                amount=format_amount(
                    abs(line.amount_residual_currency), currencies[line.currency_id.id]
                ),
                due=due.strftime(date_format) if due else "-",
            )

        def html_list(ids):
            return Markup("<ul>%s</ul>") % Markup("").join(texts[line_id] for line_id in ids)

        return html_list
