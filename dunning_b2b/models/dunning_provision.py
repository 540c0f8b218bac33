from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, LockError, UserError
from odoo.fields import Domain

from ..engine import ProvisionItem, decide_provisions, net_by_partner
from ..tools import check_dunning_rights


class DunningProvision(models.Model):
    """What one receivable line is provided for as a doubtful debt after one monthly booking.

    Each booking writes a row for every line whose provision changes: the open amount then
    (company currency), the percentage and stage that applied, the provision after it and
    the change booked (an increase, or a release when the line was paid, settled or written
    off), with the posted entry. The line's latest row of a posted, unreversed entry is
    what is provided today (``is_current``); the next booking books only the difference.
    Written by the booking only (as the system), read by collections and invoicing users.
    """

    _name = "dunning.provision"
    _description = "Doubtful Debt Provision"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "move_line_id"

    date = fields.Date(string="Booked On", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, index=True
    )
    # A deleted line (its invoice reset to draft and deleted) leaves its rows, so that what
    # was provided for it is released at the next booking.
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Receivable Line",
        readonly=True,
        index=True,
        ondelete="set null",
    )
    move_id = fields.Many2one(
        "account.move", string="Invoice", readonly=True, index=True, ondelete="set null"
    )
    level_id = fields.Many2one("dunning.level", string="Stage", readonly=True, ondelete="set null")
    entry_id = fields.Many2one(
        "account.move",
        string="Provision Entry",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The posted entry that booked the change (none when the changes of a customer "
        "cancelled out).",
    )
    currency_id = fields.Many2one("res.currency", string="Invoice Currency", readonly=True)
    amount_residual_currency = fields.Monetary(
        string="Open (Invoice Currency)", currency_field="currency_id", readonly=True
    )
    amount_residual = fields.Monetary(
        string="Open Amount",
        currency_field="company_currency_id",
        readonly=True,
        help="What the line owed at the booking, in the company's currency.",
    )
    percent = fields.Float(string="Provision (%)", readonly=True)
    amount_provided = fields.Monetary(
        string="Provided",
        currency_field="company_currency_id",
        readonly=True,
        help="The line's provision after this booking, in the company's currency.",
    )
    amount = fields.Monetary(
        string="Booked",
        currency_field="company_currency_id",
        readonly=True,
        help="What this booking added (positive) or released (negative).",
    )
    is_current = fields.Boolean(
        string="Current",
        readonly=True,
        index=True,
        help="The line's latest provision: what is provided for it today.",
    )

    # ------------------------------------------------------------------ reading
    @api.model
    def _get_current(self, company):
        """{receivable line id: row} of what is provided today: each line's latest row whose
        entry is posted and not reversed (a row without entry stands). A row whose line was
        deleted is keyed by minus its own id."""
        rows = self.search([("company_id", "=", company.id), ("is_current", "=", True)])
        valid = rows.filtered(lambda r: r._is_booked())
        current = {row.move_line_id.id or -row.id: row for row in valid}
        lost = (rows - valid).move_line_id
        if lost:
            # Their latest entry was reversed or reset: what stands is their booking before.
            older = self.search(
                [("company_id", "=", company.id), ("move_line_id", "in", lost.ids),
                 ("is_current", "=", False)],
                order="date desc, id desc",
            )  # fmt: skip
            for row in older:
                if row.move_line_id.id not in current and row._is_booked():
                    current[row.move_line_id.id] = row
        return current

    def _is_booked(self):
        """Whether the row's entry stands: posted and not reversed (a row without entry,
        whose customer's changes cancelled out, stands)."""
        self.ensure_one()
        entry = self.entry_id
        return not entry or (
            entry.state == "posted"
            and not entry.reversal_move_ids.filtered(lambda m: m.state == "posted")
        )

    # ------------------------------------------------------------------ booking
    @api.model
    def _book(self, company, date):
        """Book the month's provisions of ``company`` at ``date`` in one posted entry: debit
        expense / credit allowance for what grew, the reverse for what was released.

        Checks first (a dunning manager, the company's settings, one booking a month, some
        change to book), then writes: nothing is posted on bad input.

        :return: the posted entry (account.move), or an empty recordset when the changes
            cancel out per customer
        """
        check_dunning_rights(self, "manager")
        if company not in self.env.companies:
            raise AccessError(
                self.env._(
                    "Book Provisions: you do not work in %(company)s. Select it in the company "
                    "switcher first.",
                    company=company.name,
                )
            )
        allowance, expense, journal = company._dunning_get_provision_settings()
        # sudo: the month's provision rows and entries of this company, read for the manager
        # who books (dunning managers need no accounting rights)
        Provision = self.sudo().with_company(company)
        try:
            # sudo: lock the company row, one booking at a time (a second one is refused)
            company.sudo().lock_for_update(allow_referencing=True)
        except LockError:
            raise UserError(
                self.env._(
                    "Book Provisions: someone is booking %(company)s's provisions right now. "
                    "Try again in a moment.",
                    company=company.name,
                )
            ) from None
        booked = Provision._get_month_entry(company, date)
        if booked:
            raise UserError(
                self.env._(
                    "Book Provisions: %(company)s's provisions for %(month)s are already booked "
                    "(%(entry)s). Reverse that entry to book the month again, or choose "
                    "another month end.",
                    company=company.name,
                    month=date.strftime("%Y-%m"),
                    entry=booked.display_name,
                )
            )
        changes, lines, current = Provision._compute_changes(company, date)
        currency = company.currency_id
        if not changes:
            raise UserError(
                self.env._(
                    "Book Provisions: nothing to book for %(company)s at %(date)s. The "
                    "provisions are up to date (set a Provision (%%) on the stages of the "
                    "dunning policy, or an age in Settings > Collections > Doubtful debt "
                    "provisions).",
                    company=company.name,
                    date=date,
                )
            )
        entry = Provision._post_entry(company, date, changes, allowance, expense, journal, currency)
        rows = Provision._write_rows(company, date, changes, lines, current, entry)
        rows._log_booking()
        return entry

    def _get_month_entry(self, company, date):
        """The posted, unreversed provision entry of ``company`` in ``date``'s month."""
        first = date.replace(day=1)
        rows = self.search(
            [
                ("company_id", "=", company.id),
                ("entry_id", "!=", False),
                ("date", ">=", first),
                ("date", "<=", fields.Date.end_of(date, "month")),
            ]
        )
        return rows.entry_id.filtered(
            lambda m: (
                m.state == "posted"
                and not m.reversal_move_ids.filtered(lambda r: r.state == "posted")
            )
        )[:1]

    def _compute_changes(self, company, date):
        """The open receivable lines of the company (the one selector) with their stage and
        age at ``date``, and what changes against what is provided today."""
        Line = self.env["dunning.line"]
        amls = self.env["account.move.line"].search(
            Line._get_open_line_domain(companies=company) & Domain("balance", ">", 0)
        )
        states = {
            state.move_line_id.id: state
            for state in Line.search([("move_line_id", "in", amls.ids)])
        }
        current = self._get_current(company)
        items = []
        for aml in amls:
            level = states[aml.id].level_id if aml.id in states else self.env["dunning.level"]
            due = aml.date_maturity or aml.date
            items.append(
                ProvisionItem(
                    line_id=aml.id,
                    partner_id=aml.partner_id.commercial_partner_id.id,
                    residual=aml.amount_residual,
                    stage_percent=level.provision_percent,
                    days_overdue=(date - due).days,
                )
            )
        previous = {
            line_id: (row.partner_id.id, row.amount_provided) for line_id, row in current.items()
        }
        changes = decide_provisions(
            items,
            previous,
            company.currency_id.round,
            age_days=company.dunning_provision_age_days,
            age_percent=company.dunning_provision_age_percent,
        )
        return changes, {aml.id: (aml, states.get(aml.id)) for aml in amls}, current

    def _post_entry(self, company, date, changes, allowance, expense, journal, currency):
        """One posted entry: per customer, its net change between expense and allowance."""
        partners = self.env["res.partner"].browse
        label = self.env._("Provision for doubtful debts %(month)s", month=date.strftime("%Y-%m"))
        move_lines = []
        for partner_id, net in net_by_partner(changes, currency.round).items():
            if currency.is_zero(net):
                continue
            name = f"{label} - {partners(partner_id).name}"
            for account, balance in ((expense, net), (allowance, -net)):
                move_lines.append(
                    fields.Command.create(
                        {
                            "name": name,
                            "account_id": account.id,
                            "partner_id": partner_id,
                            "balance": balance,
                        }
                    )
                )
        if not move_lines:
            return self.env["account.move"]
        entry = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "date": date,
                    "ref": label,
                    "line_ids": move_lines,
                }
            )
        )
        entry.action_post()
        return entry

    def _write_rows(self, company, date, changes, lines, current, entry):
        Line = self.env["account.move.line"]
        vals_list = []
        for change in changes:
            aml, state = lines.get(change.line_id, (None, None))
            previous = current.get(change.line_id)
            if aml is None:  # no longer open: paid, settled, written off or deleted
                aml = Line.browse(change.line_id) if change.line_id > 0 else Line
                level = previous.level_id if previous else False
            else:
                level = state.level_id if state else False
            vals_list.append(
                {
                    "date": date,
                    "company_id": company.id,
                    "partner_id": change.partner_id,
                    "move_line_id": aml.id,
                    "move_id": (aml.move_id or previous.move_id).id,
                    "level_id": level.id if level else False,
                    "entry_id": entry.id,
                    "currency_id": (aml.currency_id or previous.currency_id).id,
                    "amount_residual_currency": aml.amount_residual_currency,
                    "amount_residual": change.residual,
                    "percent": change.percent,
                    "amount_provided": change.provided,
                    "amount": change.change,
                    "is_current": True,
                }
            )
        # The lines' earlier rows are history from now on.
        earlier = self.search(
            [("move_line_id", "in", [c.line_id for c in changes if c.line_id > 0]),
             ("is_current", "=", True)]
        ) | self.browse([-c.line_id for c in changes if c.line_id < 0])  # fmt: skip
        earlier.write({"is_current": False})
        return self.create(vals_list)

    def _log_booking(self):
        """An event per line and a note on each customer and on the entry."""
        Event = self.env["dunning.event"]
        events = []
        for row in self:
            currency = row.company_currency_id
            events.append(
                {
                    "date": row.date,
                    "event_type": "provision",
                    "move_id": row.move_id.id,
                    "move_line_id": row.move_line_id.id,
                    "partner_id": row.partner_id.id,
                    "company_id": row.company_id.id,
                    "level_id": row.level_id.id,
                    "currency_id": row.currency_id.id,
                    "amount_residual": row.amount_residual_currency,
                    "user_id": self.env.uid,
                    "note": self.env._(
                        "Doubtful debt provision: %(percent)s%% of %(open)s = %(provided)s "
                        "(%(change)s booked).",
                        percent=round(row.percent, 2),
                        open=currency.format(row.amount_residual),
                        provided=currency.format(row.amount_provided),
                        change=currency.format(row.amount),
                    ),
                }
            )
        Event.create(events)
        for partner, rows in self.grouped("partner_id").items():
            currency = rows.company_currency_id[:1]
            partner._message_log(
                body=Markup("%s")
                % self.env._(
                    "Doubtful debt provision booked by %(user)s at %(date)s: %(change)s on "
                    "%(count)s line(s).",
                    user=self.env.user.name,
                    date=rows[0].date,
                    change=currency.format(sum(rows.mapped("amount"))),
                    count=len(rows),
                )
            )
        for entry in self.entry_id:
            entry._message_log(
                body=Markup("%s")
                % self.env._(
                    "Doubtful debt provisions booked by %(user)s from Collections.",
                    user=self.env.user.name,
                )
            )
