from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import format_date

from ..engine import AGING_BUCKETS, aging_totals

LETTER_REPORTS = {
    "dunning_b2b.report_formal_notice": "formal_notice",
    "dunning_b2b.report_demand_letter": "demand",
    "dunning_b2b.report_customer_statement": "statement",
    "dunning_b2b.report_dunning_letter": None,  # the letter of each customer's stage
}


class ReportDunningLetter(models.AbstractModel):
    """Letters to a customer (commercial partner) in the current company: the formal notice
    and the demand letter list its overdue invoices, a deadline and what happens after it;
    the statement lists every open item with aging. This report prints, for each customer,
    the letter its current stage calls for."""

    _name = "report.dunning_b2b.report_dunning_letter"
    _description = "Dunning Letter"

    _letter_kind = None

    @api.model
    def _get_report_values(self, docids, data=None):
        partners = self.env["res.partner"].browse(docids).commercial_partner_id
        company = self.env.company
        letter_date = self.env.context.get("dunning_letter_date") or fields.Date.context_today(self)
        # Values in the customer's language: the letter is written in it.
        letters = {
            partner.id: self.with_context(lang=partner.lang or self.env.lang)._get_letter_values(
                partner, company, letter_date
            )
            for partner in partners
        }
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            "company": company,
            "letters": letters,
        }

    @api.model
    def _get_kind(self, partner, level):
        if self._letter_kind:
            return self._letter_kind
        if level and level.send_letter and level.letter_type:
            return level.letter_type
        return "formal_notice"

    @api.model
    def _get_open_moves(self, partner, company):
        return self.env["account.move"].search(
            self.env["res.partner"]._get_dunning_open_domain(partner, company),
            order="invoice_date_due, id",
        )

    @api.model
    def _get_letter_values(self, partner, company, letter_date):
        moves = self._get_open_moves(partner, company)
        level = moves.dunning_level_id.sorted(lambda lvl: (lvl.day_offset, lvl.id))[-1:]
        kind = self._get_kind(partner, level)
        if kind == "statement":
            return dict(
                self._get_statement_values(partner, company, letter_date), kind=kind, level=level
            )
        overdue = moves.filtered(lambda m: m.invoice_date_due and m.invoice_date_due < letter_date)
        lines = [
            {
                "move": move,
                "days": (letter_date - move.invoice_date_due).days if move.invoice_date_due else 0,
                "amount": move.amount_residual,
                "currency": move.currency_id,
            }
            for move in (overdue or moves)
        ]
        totals = defaultdict(float)
        for line in lines:
            totals[line["currency"]] += line["amount"]
        attempts = self.env["dunning.event"].search_fetch(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("event_type", "in", ("email", "letter", "call")),
                ("date", "<", letter_date),
            ],
            ["date", "event_type"],
            order="date",
        )
        collectors = self.env["dunning.engine"].sudo()._get_collectors(company, partner)
        return {
            "kind": kind,
            "level": level,
            "date": letter_date,
            "deadline": letter_date + timedelta(days=company.dunning_letter_deadline_days),
            "lines": lines,
            "totals": sorted(totals.items(), key=lambda item: item[0].name),
            "attempt_dates": sorted(set(attempts.mapped("date"))),
            "attempt_text": ", ".join(
                format_date(self.env, day) for day in sorted(set(attempts.mapped("date")))
            ),
            "contact": collectors[partner.id].partner_id or company.partner_id,
        }

    @api.model
    def _get_statement_values(self, partner, company, letter_date):
        """Every open receivable item (invoices, credit notes, unapplied payments), netted
        and aged per currency."""
        lines = self.env["account.move.line"].search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "child_of", partner.id),
                ("parent_state", "=", "posted"),
                ("account_type", "=", "asset_receivable"),
                ("reconciled", "=", False),
                ("amount_residual", "!=", 0),
            ],
            order="date_maturity, date, id",
        )
        by_currency = defaultdict(list)
        for line in lines:
            currency = line.currency_id or company.currency_id
            due = line.date_maturity or line.date
            move = line.move_id
            if move.move_type == "out_refund":
                label = self.env._("Credit note")
            elif move.move_type == "out_invoice":
                label = self.env._("Invoice")
            elif move.origin_payment_id or move.statement_line_id:
                label = self.env._("Payment")
            else:
                label = self.env._("Other")
            by_currency[currency].append(
                {
                    "line": line,
                    "label": label,
                    "reference": move.name,
                    "ref": move.ref or "",
                    "date": line.date,
                    "due": due,
                    "days": (letter_date - due).days,
                    "amount": line.amount_residual_currency
                    if line.currency_id and line.currency_id != company.currency_id
                    else line.amount_residual,
                }
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
        company = self.env.company
        letter_date = letter_date or fields.Date.context_today(self)
        Report = self.env[f"report.{report_name}"]
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
                    currency_id=line["currency"].id,
                    amount_residual=line["amount"],
                    days_overdue=line["days"],
                )
                for line in values["lines"]
            ]
        self.env["dunning.event"].sudo().create(events)
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
