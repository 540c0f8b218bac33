from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_date

from ..engine import AGING_BUCKETS, aging_totals
from ..engine.items import allocate_credits

LETTER_REPORTS = {
    "dunning_b2b.report_formal_notice": "formal_notice",
    "dunning_b2b.report_demand_letter": "demand",
    "dunning_b2b.report_customer_statement": "statement",
    "dunning_b2b.report_dunning_letter": None,  # the letter of each customer's stage
}


class ReportDunningLetter(models.AbstractModel):
    """Letters to a customer (commercial partner) in the current company: the formal notice
    and the demand letter list its overdue receivable lines (each instalment with its own due
    date and open amount), its open credits and the net amount asked per currency, a
    deadline and what happens after it; the statement lists every open item with aging.
    This report prints, for each customer, the letter its current stage calls for."""

    _name = "report.dunning_b2b.report_dunning_letter"
    _description = "Dunning Letter"

    _letter_kind = None

    @api.model
    def _check_letter_rights(self, partner_ids):
        """Letters and statements are collections documents: rendering one (which logs it
        as sent when printed) needs Collections / User access, whatever the route (print
        menu, /report/download, RPC). The superuser (the daily run) passes."""
        env = self.env
        if not env.su and not env.user.has_group("dunning_b2b.group_dunning_user"):
            raise AccessError(
                env._(
                    "Printing the %(letter)s needs Collections / User access. Ask a "
                    "collections manager.",
                    letter=self._description,
                )
            )
        env["res.partner"].browse(partner_ids).check_access("read")

    @api.model
    def _get_report_values(self, docids, data=None):
        # Opened from a message's preview, the web client passes the customers in data.
        docids = docids or (data or {}).get("partner_ids")
        self._check_letter_rights(docids or [])
        partners = self.env["res.partner"].browse(docids).commercial_partner_id
        company = self.env.company
        letter_date = fields.Date.to_date(
            self.env.context.get("dunning_letter_date")
        ) or fields.Date.context_today(self)
        # Values in the customer's language: the letter is written in it.
        letters = {}
        for partner in partners:
            report = self.with_context(lang=partner.lang or self.env.lang)
            values = report._get_letter_values(partner, company, letter_date)
            letters[partner.id] = dict(
                values,
                **report._get_letterhead_values(partner, company, values),
                portal_url=report._get_portal_url(partner, company),
            )
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            "company": company,
            "letters": letters,
        }

    @api.model
    def _get_portal_url(self, partner, company):
        """A new link to the customer's page for this letter; none for the statement the
        buyer downloads from that page."""
        if self.env.context.get("dunning_letter_no_link"):
            return None
        message = self.env["dunning.message"].browse(
            self.env.context.get("dunning_letter_message_id")
        )
        __, url = self.env["dunning.access"]._create_link(
            partner, company, message=message.exists() or None, origin="letter"
        )
        return url

    @api.model
    def _get_kind(self, partner, level):
        if self._letter_kind:
            return self._letter_kind
        if level and level.send_letter and level.letter_type:
            return level.letter_type
        return "formal_notice"

    @api.model
    def _get_open_lines(self, partner, company, letter_date):
        """The customer's open receivable debits and credits on the letter date, from the
        selector of open items; lines excluded from dunning are not claimed.

        :return: (debit lines, credit lines), account.move.line records by due date
        """
        items = self.env["dunning.line"]._get_open_items(
            company, run_date=letter_date, partner_ids=[partner.id]
        )
        Line = self.env["account.move.line"]
        debits = Line.browse([i.line_id for i in items if i.amount > 0 and not i.excluded])
        credits = Line.browse([i.line_id for i in items if i.amount < 0])
        return debits, credits

    @api.model
    def _get_minimum_amount(self, partner, company):
        """The tolerance of the policy the engine applies to this customer."""
        policies = self.env["dunning.engine"]._get_partner_policies(company, partner)
        return policies[partner.id].minimum_amount

    @api.model
    def _get_level(self, lines):
        """The highest stage the letter's lines reached (the engine's state of each line)."""
        states = self.env["dunning.line"]._get_states(lines.ids)
        levels = self.env["dunning.level"].browse(
            {state[1] for state in states.values() if state[1]}
        )
        return levels.sorted(lambda lvl: (lvl.day_offset, lvl.id))[-1:]

    @api.model
    def _get_letter_values(self, partner, company, letter_date):
        debits, credit_lines = self._get_open_lines(partner, company, letter_date)
        minimum = self._get_minimum_amount(partner, company)
        Render = self.env["dunning.line.render"]
        overdue = debits.filtered(
            lambda line: line.date_maturity and line.date_maturity < letter_date
        )
        # Invoices under open dispute are shown apart and not demanded, nor netted.
        disputes = self._get_open_disputes(partner, company, debits.move_id)
        disputed = (overdue or debits).filtered(lambda line: line.move_id in disputes.move_id)
        items = self.env["dunning.line"]._get_open_items(company, partner_ids=partner.ids)
        allocations = allocate_credits(
            [item for item in items if item.move_id not in disputes.move_id.ids]
        )
        lines = Render._get_line_rows(
            (overdue or debits) - disputed, letter_date, minimum, allocations=allocations
        )
        listed = self.env["account.move.line"].union(*(row["line"] for row in lines))
        level = self._get_level(listed | disputed)
        kind = self._get_kind(partner, level)
        if kind == "statement":
            return dict(
                self._get_statement_values(partner, company, letter_date), kind=kind, level=level
            )
        credits = Render._get_credit_rows(credit_lines, lines, letter_date, minimum)
        attempt_dates = self._get_attempt_dates(partner, company, listed, letter_date)
        # sudo: the contact is the customer's collector in this company (users, groups, defaults)
        collectors = self.env["dunning.engine"].sudo()._get_collectors(company, partner)
        deadline = letter_date + timedelta(days=company.dunning_letter_deadline_days)
        return {
            "kind": kind,
            "level": level,
            "date": letter_date,
            "deadline": deadline,
            "deadline_text": format_date(self.env, deadline),
            "lines": lines,
            "disputed": self._get_disputed_rows(disputed, disputes, letter_date),
            "promises": self._get_promise_rows(partner, company, letter_date),
            "credits": credits,
            "totals": Render._get_summary(lines, credits),
            "attempt_dates": attempt_dates,
            "attempt_text": ", ".join(format_date(self.env, day) for day in attempt_dates),
            "contact": collectors[partner.id].partner_id or company.partner_id,
        }

    @api.model
    def _get_letterhead_values(self, partner, company, values):
        """What frames every letter: the recipient's postal address (the customer's invoice
        address) for the envelope's window, the sender's return line, the letterhead's and
        the footer's lines, and the letter's reference."""
        address = partner.browse(partner.address_get(["invoice"])["invoice"])
        recipient = [partner.name]
        if address != partner and address.type != "invoice" and address.name:
            recipient.append(address.name)
        recipient += self._get_address_lines(address)
        sender = self._get_address_lines(company.partner_id)
        legal = []
        if company.vat:
            legal.append(self.env._("VAT: %(vat)s", vat=company.vat))
        if company.company_registry:
            legal.append(self.env._("Registration: %(number)s", number=company.company_registry))
        return {
            "recipient_lines": recipient,
            "sender_lines": sender,
            "return_line": " · ".join([company.name, *(sender[:-1] or sender)]),
            "contact_lines": [x for x in (company.phone, company.email, company.website) if x],
            "legal_lines": legal,
            "reference": self._get_reference(partner, values["kind"], values["date"]),
        }

    @api.model
    def _get_address_lines(self, address):
        """A postal address as printed on an envelope: street, street 2, zip and city,
        state, country."""
        city = " ".join(x for x in (address.zip, address.city) if x)
        return [
            x
            for x in (
                address.street,
                address.street2,
                city,
                address.state_id.name,
                address.country_id.name,
            )
            if x
        ]

    @api.model
    def _get_reference(self, partner, kind, letter_date):
        """The letter's reference, quoted back by the customer: kind, customer, date."""
        prefix = {"formal_notice": "FN", "demand": "DL", "statement": "ST"}.get(kind, "DN")
        return f"{prefix}/{partner.ref or partner.id}/{letter_date:%Y%m%d}"

    @api.model
    def _get_open_disputes(self, partner, company, moves):
        """The open disputes on ``moves`` of the customer in ``company``."""
        if not moves:
            return self.env["dunning.dispute"]
        return self.env["dunning.dispute"].search(
            [
                ("move_id", "in", moves.ids),
                ("company_id", "=", company.id),
                ("state", "=", "open"),
            ]
        )

    @api.model
    def _get_disputed_rows(self, lines, disputes, letter_date):
        """Rows of the lines under open dispute: listed for the record, never demanded."""
        Render = self.env["dunning.line.render"]
        labels = dict(
            self.env["dunning.dispute"]._fields["reason"]._description_selection(self.env)
        )
        reasons = {
            dispute.move_id: labels.get(dispute.reason, dispute.reason) for dispute in disputes
        }
        return [
            dict(row, reason=reasons.get(row["move"], ""))
            for row in Render._get_line_rows(lines, letter_date, labels={})
        ]

    @api.model
    def _get_promise_rows(self, partner, company, letter_date):
        """The customer's open promises to pay whose date has not passed: date, amount,
        invoices."""
        promises = self.env["dunning.promise"].search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("state", "=", "open"),
            ],
            order="promise_date, id",
        )
        rows = []
        for promise in promises:
            day = max(filter(None, (promise.promise_date, promise.extension_date)))
            if day < letter_date or promise.currency_id.is_zero(promise.amount_remaining):
                continue
            rows.append(
                {
                    "date": day,
                    "date_text": format_date(self.env, day),
                    # What is left to pay of the promise, not what was first promised.
                    "amount": promise.amount_remaining,
                    "currency": promise.currency_id,
                    "invoices": ", ".join(promise.move_ids.mapped("name")),
                }
            )
        return rows

    @api.model
    def _get_attempt_dates(self, partner, company, lines, letter_date):
        """The dates the customer was reminded (email, letter, call) of the lines of this
        letter, on or after their document's date: reminders about other documents, long
        paid, are not this letter's history. Events written before events carried their line
        count for every line of their document."""
        if not lines:
            return []
        events = self.env["dunning.event"].search_fetch(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("event_type", "in", ("email", "letter", "call")),
                ("date", "<", letter_date),
                ("move_id", "in", lines.move_id.ids),
            ],
            ["date", "move_id", "move_line_id"],
            order="date",
        )
        return sorted(
            {
                event.date
                for event in events
                if (not event.move_line_id or event.move_line_id in lines)
                and event.date >= (event.move_id.invoice_date or event.move_id.date)
            }
        )

    @api.model
    def _get_statement_values(self, partner, company, letter_date):
        """Every open receivable item (instalments, credit notes, unapplied payments), netted
        and aged per currency. A statement of account is complete: no minimum amount."""
        debits, credits = self._get_open_lines(partner, company, letter_date)
        Render = self.env["dunning.line.render"]
        labels = Render._get_instalment_labels(debits)
        by_currency = defaultdict(list)
        rows = Render._get_line_rows(debits, letter_date, labels=labels) + Render._get_line_rows(
            credits, letter_date, credits=True
        )
        for row in sorted(rows, key=lambda row: (row["due"], row["line"].id)):
            move = row["move"]
            if move.move_type == "out_refund":
                label = self.env._("Credit note")
            elif move.move_type == "out_invoice":
                label = self.env._("Invoice")
            elif move.origin_payment_id or move.statement_line_id:
                label = self.env._("Payment")
            else:
                label = self.env._("Other")
            by_currency[row["currency"]].append(
                dict(row, label=label, reference=move.name, date=row["line"].date)
            )
        sections = []
        for currency, items in sorted(by_currency.items(), key=lambda item: item[0].name):
            buckets, total = aging_totals([(item["amount"], item["days"]) for item in items])
            sections.append(
                {"currency": currency, "items": items, "buckets": buckets, "total": total}
            )
        return {
            "kind": "statement",
            "date": letter_date,
            "sections": sections,
            "bucket_names": AGING_BUCKETS,
        }

    @api.model
    def _log_letters(self, partners, report_name, via="printed", letter_date=None, message=None):
        """A "letter" event per invoice a letter lists (one per customer for statements),
        and the worklist no longer asks for the letter of that stage."""
        Report = self.env[f"report.{report_name}"]
        Report._check_letter_rights(partners.ids)
        company = self.env.company
        letter_date = letter_date or fields.Date.context_today(self)
        events = []
        for partner in partners.commercial_partner_id:
            values = Report._get_letter_values(partner, company, letter_date)
            kind_label = dict(
                self.env["dunning.level"]._fields["letter_type"]._description_selection(self.env)
            )[values["kind"]]
            if via == "email":
                note = self.env._("%(letter)s attached to the email", letter=kind_label)
            else:
                note = self.env._("%(letter)s printed", letter=kind_label)
            if values.get("deadline"):
                note += " · " + self.env._(
                    "deadline %(date)s", date=format_date(self.env, values["deadline"])
                )
            base = {
                "event_type": "letter",
                "date": letter_date,
                "partner_id": partner.id,
                "company_id": company.id,
                "level_id": values["level"].id,
                "message_id": message.id if message else False,
                "user_id": self.env.uid,
                "note": note,
            }
            if values["kind"] == "statement" or not values["lines"]:
                events.append(base)
                continue
            events += [
                dict(
                    base,
                    move_id=line["move"].id,
                    move_line_id=line["line"].id,
                    currency_id=line["currency"].id,
                    amount_residual=line["amount"],
                    days_overdue=line["days"],
                )
                for line in values["lines"]
            ]
        # sudo: the audit trail is written by the system only; these are this company's letters
        self.env["dunning.event"].sudo().create(events)
        # sudo: worklist rows are the engine's; only this company's rows of these customers
        rows = (
            self.env["dunning.worklist"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", partners.commercial_partner_id.ids),
                    ("company_id", "=", company.id),
                    ("letter_due", "=", True),
                ]
            )
        )
        rows.write({"letter_due": False})


class ReportFormalNotice(models.AbstractModel):
    _name = "report.dunning_b2b.report_formal_notice"
    _inherit = ["report.dunning_b2b.report_dunning_letter"]
    _description = "Formal Notice"

    _letter_kind = "formal_notice"


class ReportDemandLetter(models.AbstractModel):
    _name = "report.dunning_b2b.report_demand_letter"
    _inherit = ["report.dunning_b2b.report_dunning_letter"]
    _description = "Demand Letter"

    _letter_kind = "demand"


class ReportCustomerStatement(models.AbstractModel):
    _name = "report.dunning_b2b.report_customer_statement"
    _inherit = ["report.dunning_b2b.report_dunning_letter"]
    _description = "Customer Statement"

    _letter_kind = "statement"
