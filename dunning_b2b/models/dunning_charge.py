from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import LockError, UserError
from odoo.fields import Command
from odoo.tools import format_date

from ..engine.charges import MissingRate, band_fee, interest_on_balance

CHARGE_TYPES = [("compensation", "Fixed compensation"), ("interest", "Interest")]


class DunningCharge(models.Model):
    """What was charged (or waived) for a late receivable line: the fixed compensation of
    its invoice (once per invoice) or interest on its open amount up to a date (the next
    charge starts from there). Written by the system when a manager or the ladder charges;
    read-only to everyone else. The unique indexes make a second charge of the same
    invoice's compensation, or of interest from the same day, fail."""

    _name = "dunning.charge"
    _description = "Late-Payment Charge"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "move_id"

    move_line_id = fields.Many2one(
        "account.move.line",
        string="Receivable Line",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    move_id = fields.Many2one(
        "account.move", string="Late Invoice", required=True, readonly=True, index=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    charge_type = fields.Selection(CHARGE_TYPES, string="Charge", required=True, readonly=True)
    state = fields.Selection(
        [("charged", "Invoiced"), ("waived", "Waived")], required=True, readonly=True
    )
    amount = fields.Monetary(readonly=True, help="In the late invoice's currency.")
    base_amount = fields.Monetary(string="Interest On", readonly=True)
    date = fields.Date(string="Decided On", required=True, readonly=True)
    interest_from = fields.Date(readonly=True, help="Interest counted from the day after.")
    interest_to = fields.Date(readonly=True, help="Interest counted up to this day included.")
    days = fields.Integer(readonly=True)
    rate = fields.Char(string="Annual Rate", readonly=True)
    invoice_id = fields.Many2one(
        "account.move", string="Charge Invoice", readonly=True, index="btree_not_null"
    )
    reason = fields.Char(string="Waiver Reason", readonly=True)
    user_id = fields.Many2one("res.users", string="Decided By", readonly=True)

    _compensation_once = models.UniqueIndex(
        "(move_id) WHERE charge_type = 'compensation'",
        "The compensation of this invoice was already charged or waived.",
    )
    _interest_once = models.UniqueIndex(
        "(move_line_id, interest_from) WHERE charge_type = 'interest'",
        "Interest of this line from this day was already charged or waived.",
    )

    # ------------------------------------------------------------------ what is due
    @api.model
    def _get_due_charges(
        self, company, on_date, partners, lines=None, strict=True, charged_before=None
    ):
        """The charges not yet charged nor waived of ``partners``' overdue lines in
        ``company`` on ``on_date``: the compensation of each invoice not charged yet, and
        interest on each line's open amount from its due date (or the end of the last
        interest charged) to ``on_date``. Lines under dispute or excluded, and the charge
        invoices themselves, owe nothing.

        :param lines: account.move.line records to restrict to (None: all)
        :param strict: raise when a reference rate is missing (else skip that interest)
        :param charged_before: count only the charges decided before this day (what a
            reminder of that day showed, whenever it is looked at again)
        :return: dict commercial partner id -> list of dicts (partner_id, line, move,
            currency, charge_type, amount, base, date_from, date_to, days, rate, policy)
        """
        items = [
            item
            for item in self.env["dunning.line"]._get_open_items(
                company, partner_ids=partners.commercial_partner_id.ids, credits=False
            )
            if not item.is_credit
            and not item.excluded
            and item.move_type == "out_invoice"
            and item.due_date
            and item.due_date < on_date
            and (lines is None or item.line_id in lines.ids)
        ]
        if not items:
            return {}
        # sudo: the charge records and disputes of these lines, to know what is owed
        Charge = self.sudo()
        move_ids = {item.move_id for item in items}
        line_ids = [item.line_id for item in items]
        charge_invoices = set(Charge.search([("invoice_id", "in", list(move_ids))]).invoice_id.ids)
        disputed = set(
            self.env["dunning.dispute"]
            .sudo()
            .search([("move_id", "in", list(move_ids)), ("state", "=", "open")])
            .move_id.ids
        )
        before = [("date", "<", charged_before)] if charged_before else []
        compensated = set(
            Charge.search(
                [("move_id", "in", list(move_ids)), ("charge_type", "=", "compensation"),
                 *before]
            ).move_id.ids
        )  # fmt: skip
        interest_to = {
            line.id: day
            for line, day in Charge._read_group(
                [("move_line_id", "in", line_ids), ("charge_type", "=", "interest"), *before],
                ["move_line_id"],
                ["interest_to:max"],
            )
        }
        payments = self._get_payments(line_ids)
        Partner = self.env["res.partner"]
        policies = self.env["dunning.engine"]._get_partner_policies(
            company, Partner.browse({item.partner_id for item in items})
        )
        Line = self.env["account.move.line"]
        result = defaultdict(list)
        for item in items:
            if item.move_id in charge_invoices or item.move_id in disputed:
                continue
            policy = policies[item.partner_id]
            line = Line.browse(item.line_id)
            move = line.move_id
            currency = self.env["res.currency"].browse(item.currency_id)
            base = {
                "partner_id": item.partner_id,
                "line": line,
                "move": move,
                "currency": currency,
                "policy": policy,
            }
            if policy.charge_compensation and move.id not in compensated:
                compensated.add(move.id)  # once per invoice, on its first open line
                fee = self._get_compensation_fee(policy, move, currency, on_date)
                if not currency.is_zero(fee):
                    result[item.partner_id].append(
                        dict(base, charge_type="compensation", amount=fee, base=move.amount_total)
                    )
            if policy.charge_interest:
                start = max(item.due_date, interest_to.get(item.line_id) or item.due_date)
                try:
                    amount, parts, opening = interest_on_balance(
                        item.amount,
                        payments.get(item.line_id, []),
                        start,
                        on_date,
                        policy._get_rate_periods(),
                        policy.charge_interest_margin,
                        currency.rounding,
                    )
                except MissingRate as error:
                    if not strict:
                        continue
                    raise UserError(
                        self.env._(
                            "Reference Rates of policy %(policy)s: no rate holds %(day)s "
                            "(interest of %(invoice)s). Add the reference rate of that "
                            "half-year on the policy's Late-Payment Charges tab.",
                            policy=policy.display_name,
                            day=format_date(self.env, error.day),
                            invoice=move.name,
                        )
                    ) from error
                if currency.compare_amounts(amount, 0) > 0:
                    result[item.partner_id].append(
                        dict(
                            base,
                            charge_type="interest",
                            amount=amount,
                            base=opening,
                            date_from=start,
                            date_to=on_date,
                            days=sum(part.days for part in parts),
                            rate=" / ".join(dict.fromkeys(f"{part.rate:g} %" for part in parts)),
                        )
                    )
        return dict(result)

    @api.model
    def _get_payments(self, line_ids):
        """What was paid (or credited) on each receivable line and when: the partial
        reconciliations of the lines, in the line's currency.

        :return: dict line id -> list of (date, amount)
        """
        # sudo: the reconciliations of these receivable lines (dates and amounts only)
        partials = (
            self.env["account.partial.reconcile"].sudo().search([("debit_move_id", "in", line_ids)])
        )
        result = defaultdict(list)
        for partial in partials:
            result[partial.debit_move_id.id].append(
                (partial.max_date, partial.debit_amount_currency)
            )
        return result

    @api.model
    def _get_compensation_fee(self, policy, move, currency, on_date):
        """The fixed compensation of ``move`` in its ``currency``: from the bands of that
        currency, else from the company currency's bands (the invoice total and the fee
        converted at the rate of ``on_date``)."""
        bands = policy._get_charge_bands(currency)
        if bands:
            return band_fee(bands, move.amount_total, currency.rounding)
        company_currency = move.company_id.currency_id
        bands = policy._get_charge_bands(company_currency)
        if not bands or currency == company_currency:
            return 0.0
        fee = band_fee(bands, abs(move.amount_total_signed), company_currency.rounding)
        return company_currency._convert(fee, currency, move.company_id, on_date)

    # ------------------------------------------------------------------ charging
    @api.model
    def _charge(self, company, on_date, partners, lines=None, waive=False, reason=None,
                waive_key_accounts=False):  # fmt: skip
        """Charge or waive what ``partners`` owe in ``company`` on ``on_date`` (see
        :meth:`_get_due_charges`): one posted customer invoice per customer and currency on
        the company's charge product and income account, and a record per line of what was
        charged; waived charges are recorded with ``reason``, so never charged later.

        :param waive_key_accounts: waive (reason: key account) for key accounts
        :return: the dunning.charge records created
        """
        if waive and not (reason or "").strip():
            raise UserError(
                self.env._("Reason: say why the charges are waived, then confirm again.")
            )
        due = self._get_due_charges(company, on_date, partners, lines=lines)
        if not due:
            return self.browse()
        # Two managers (or a manager and the daily run) charging the same lines at once: the
        # second is refused until the first is done, then finds what the first charged (and
        # the unique indexes refuse anything charged twice).
        try:
            self.env["account.move.line"].browse(
                [p["line"].id for props in due.values() for p in props]
            ).lock_for_update(allow_referencing=True)
        except LockError as error:
            raise UserError(
                self.env._(
                    "These invoices' late-payment charges are being decided by someone else "
                    "right now. Try again in a moment."
                )
            ) from error
        self.env.invalidate_all()
        due = self._get_due_charges(company, on_date, partners, lines=lines)
        keys = (
            partners.commercial_partner_id._get_dunning_key_accounts(company, on_date)
            if waive_key_accounts and not waive
            else {}
        )
        key_reason = self.env._("Key account: charges waived by default.")
        vals_list = []
        for partner_id, proposals in due.items():
            is_key = keys.get(partner_id, (0.0, False))[1]
            if waive or is_key:
                why = reason if waive else key_reason
                vals_list += [
                    self._prepare_charge_vals(p, on_date, "waived", why) for p in proposals
                ]
                continue
            self._check_charge_settings(company)
            by_currency = defaultdict(list)
            for proposal in proposals:
                by_currency[proposal["currency"]].append(proposal)
            for currency, group in by_currency.items():
                invoice = self._create_charge_invoice(company, partner_id, currency, group, on_date)
                vals_list += [
                    dict(self._prepare_charge_vals(p, on_date, "charged"), invoice_id=invoice.id)
                    for p in group
                ]
        # sudo: what was charged is recorded by the system only (read-only to users)
        charges = self.sudo().create(vals_list)
        charges._log_charges()
        return charges.sudo(False)

    def _prepare_charge_vals(self, proposal, on_date, state, reason=None):
        return {
            "move_line_id": proposal["line"].id,
            "move_id": proposal["move"].id,
            "partner_id": proposal["partner_id"],
            "company_id": proposal["move"].company_id.id,
            "currency_id": proposal["currency"].id,
            "charge_type": proposal["charge_type"],
            "state": state,
            "amount": proposal["amount"],
            "base_amount": proposal["base"],
            "date": on_date,
            "interest_from": proposal.get("date_from"),
            "interest_to": proposal.get("date_to"),
            "days": proposal.get("days", 0),
            "rate": proposal.get("rate"),
            "reason": reason,
            "user_id": self.env.user.id,
        }

    @api.model
    def _check_charge_settings(self, company):
        if not company.dunning_charge_product_id or not company.dunning_charge_account_id:
            raise UserError(
                self.env._(
                    "Late-Payment Charge Product and Income Account: set both in Settings > "
                    "Invoicing > Collections for %(company)s, then charge again. Nothing was "
                    "charged.",
                    company=company.name,
                )
            )

    @api.model
    def _create_charge_invoice(self, company, partner_id, currency, proposals, on_date):
        """A posted customer invoice of the charges ``proposals`` (one currency)."""
        product = company.dunning_charge_product_id
        account = company.dunning_charge_account_id
        # sudo: the charge invoice is the system's, made for the manager's decision (the
        # manager need not be an invoicing user); in the customer's company only
        invoice = (
            self.env["account.move"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner_id,
                    "company_id": company.id,
                    "currency_id": currency.id,
                    "invoice_date": on_date,
                    "invoice_payment_term_id": False,
                    "invoice_date_due": on_date,
                    "invoice_origin": ", ".join(dict.fromkeys(p["move"].name for p in proposals)),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": self._get_charge_label(proposal),
                                "quantity": 1,
                                "price_unit": proposal["amount"],
                                "account_id": account.id,
                                "tax_ids": [Command.clear()],
                            }
                        )
                        for proposal in proposals
                    ],
                }
            )
        )
        invoice.action_post()
        return invoice

    @api.model
    def _get_charge_label(self, proposal):
        if proposal["charge_type"] == "compensation":
            return self.env._(
                "Fixed compensation for late payment of %(invoice)s",
                invoice=proposal["move"].name,
            )
        return self.env._(
            "Late-payment interest on %(invoice)s: %(base)s for %(days)s days from %(start)s "
            "to %(end)s at %(rate)s a year",
            invoice=proposal["move"].name,
            base=proposal["currency"].format(proposal["base"]),
            days=proposal["days"],
            start=format_date(self.env, proposal["date_from"]),
            end=format_date(self.env, proposal["date_to"]),
            rate=proposal["rate"],
        )

    def _log_charges(self):
        """An event per charge and a chatter line on the customer and the late invoices."""
        events = []
        for (_partner, state), charges in self.grouped(lambda c: (c.partner_id, c.state)).items():
            totals = ", ".join(
                currency.format(sum(group.mapped("amount")))
                for currency, group in charges.grouped("currency_id").items()
            )
            if state == "waived":
                text = self.env._(
                    "Late-payment charges of %(total)s waived by %(user)s: %(reason)s",
                    total=totals,
                    user=self.env.user.name,
                    reason=charges[0].reason,
                )
            else:
                text = self.env._(
                    "Late-payment charges of %(total)s invoiced by %(user)s on %(invoices)s.",
                    total=totals,
                    user=self.env.user.name,
                    invoices=", ".join(charges.invoice_id.mapped("name")),
                )
            events += charges._log_trail("charge_waived" if state == "waived" else "charge", text)
        # sudo: the audit trail is written by the system only, in the charges' company
        self.env["dunning.event"].sudo().create(events)

    def _log_trail(self, event_type, text):
        """A chatter line on the customers and the late invoices of these charges; returns
        the events of the charges (``event_type``, ``text``), for the caller to create at
        once."""
        body = Markup("%s") % text
        # sudo: the trail of the charges, on their customers and late invoices
        self.partner_id.sudo()._message_log_batch(dict.fromkeys(self.partner_id.ids, body))
        self.move_id.sudo()._message_log_batch(dict.fromkeys(self.move_id.ids, body))
        return [
            {
                "date": charge.date,
                "event_type": event_type,
                "move_id": charge.move_id.id,
                "move_line_id": charge.move_line_id.id,
                "partner_id": charge.partner_id.id,
                "company_id": charge.company_id.id,
                "currency_id": charge.currency_id.id,
                "amount_residual": charge.amount,
                "user_id": self.env.user.id,
                "note": text,
            }
            for charge in self
        ]

    # ------------------------------------------------------------------ shown in reminders
    @api.model
    def _get_display(self, company, on_date, partner, lines):
        """What a reminder or letter of ``partner`` dated ``on_date`` listing ``lines``
        shows: per invoice, the compensation and the interest accrued to that date and not
        charged yet, and the total per currency.

        :return: {"rows": [{name, compensation, interest, days, rate, currency}],
            "totals": [{currency, amount}]}, or None when nothing is due
        """
        partner = partner.commercial_partner_id
        due = self._get_due_charges(
            company, on_date, partner, lines=lines, strict=False, charged_before=on_date
        )
        proposals = due.get(partner.id, [])
        if not proposals:
            return None
        rows = {}
        for proposal in proposals:
            row = rows.setdefault(
                proposal["move"].id,
                {
                    "name": proposal["move"].name,
                    "compensation": 0.0,
                    "interest": 0.0,
                    "days": 0,
                    "rate": "",
                    "currency": proposal["currency"],
                },
            )
            row[proposal["charge_type"]] += proposal["amount"]
            if proposal["charge_type"] == "interest":
                row["days"] = max(row["days"], proposal["days"])
                row["rate"] = proposal["rate"]
        totals = defaultdict(float)
        for row in rows.values():
            totals[row["currency"]] += row["compensation"] + row["interest"]
        return {
            "rows": list(rows.values()),
            "totals": [
                {"currency": currency, "amount": currency.round(amount)}
                for currency, amount in totals.items()
            ],
        }
