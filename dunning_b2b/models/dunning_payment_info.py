"""How a customer pays: the company's bank account, the payment reference of each
document, and a scannable payment code where Odoo has one for that account and currency."""

import logging
import re

from werkzeug.exceptions import HTTPException

from odoo import api, models
from odoo.exceptions import UserError

from ..tools import amount_formatter

_logger = logging.getLogger(__name__)

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


class DunningPaymentInfo(models.AbstractModel):
    """Shared by the emails (dunning.message), the letters and the statements, so that all
    of them tell the same account, the same references and the same payment code.

    The payment code is Odoo's own: ``res.partner.bank.build_qr_code_base64`` tries the
    methods installed (the EPC/SEPA QR of ``account_qr_code_sepa`` for EUR on an IBAN, the
    Swiss QR of ``l10n_ch``, ...); with none installed or none eligible there is no code."""

    _name = "dunning.payment.info"
    _description = "How Customers Pay"

    @api.model
    def _get_items(self, lines):
        """``[(account.move.line, amount asked in its currency)]`` from what a document
        lists: move lines, rows of ``dunning.line.render`` (dicts with ``line`` and ``net``
        or ``amount``), or open items of the selector (``line_id`` and ``amount``)."""
        Line = self.env["account.move.line"]
        if isinstance(lines, models.BaseModel):
            return [(line, line.amount_residual_currency) for line in lines]
        items = []
        for item in lines or []:
            if isinstance(item, dict):
                line = item.get("line") or Line
                amount = item.get("net", item.get("amount", line.amount_residual_currency))
            else:
                line = Line.browse(item.line_id)
                amount = item.amount
            items.append((line, amount))
        return items

    @api.model
    def _get_bank_account(self, company, currency, lines=None, cache=None):
        """The company's account the customer pays into, in this currency where one is:
        the account set on the listed invoices (their journal's, Odoo's default), else the
        account of one of the company's bank journals, else one of the company's own bank
        accounts.

        :param cache: a dict kept by a caller rendering many documents: the company's own
            account per currency is looked up once
        """
        partner = company.partner_id

        def fits(bank):
            return not bank.currency_id or bank.currency_id == currency

        banks = (lines.move_id.partner_bank_id if lines else self.env["res.partner.bank"]).filtered(
            lambda bank: bank.partner_id == partner and fits(bank)
        )
        if banks:
            return banks[0]
        if cache is not None:
            key = ("bank", company.id, currency.id)
            if key not in cache:
                cache[key] = self._get_company_bank_account(company, currency)
            return cache[key]
        return self._get_company_bank_account(company, currency)

    @api.model
    def _get_company_bank_account(self, company, currency):
        """The company's own account for this currency (see ``_get_bank_account``)."""
        partner = company.partner_id

        def fits(bank):
            return not bank.currency_id or bank.currency_id == currency

        # sudo: the company's bank journals, to print their account on its own documents
        journals = (
            self.env["account.journal"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("type", "=", "bank"),
                    ("bank_account_id", "!=", False),
                ]
            )
        )
        journals = journals.sorted(
            lambda j: (
                (j.currency_id or company.currency_id) != currency,
                j.sequence,
                j.id,
            )
        )
        if journals and (journals[0].currency_id or company.currency_id) == currency:
            return journals[0].bank_account_id.sudo(False)
        own = partner.bank_ids.filtered(fits).sorted(lambda b: (b.currency_id != currency, b.id))
        if own:
            return own[0]
        return journals[:1].bank_account_id.sudo(False)

    @api.model
    def _format_account(self, bank):
        """The account number as people copy it: an IBAN in groups of four."""
        number = (bank.sanitized_acc_number or bank.acc_number or "").upper()
        if _IBAN.match(number):
            return " ".join(number[i : i + 4] for i in range(0, len(number), 4)), True
        return bank.acc_number or "", False

    @api.model
    def _get_qr_code(self, bank, amount, currency, partner, references):
        """A scannable payment code for paying ``amount`` into ``bank``: ``(data URI, name
        of the method)``, or ``(False, False)`` when no installed method fits."""
        if not bank or currency.compare_amounts(amount, 0.0) <= 0:
            return False, False
        free = ", ".join(references)[:140]
        structured = references[0] if len(references) == 1 else ""
        try:
            vals = bank._build_qr_code_vals(amount, free, structured, currency, partner)
            if not vals:
                return False, False
            image = bank._get_qr_code_base64(**vals)
        except (UserError, ValueError, HTTPException) as error:
            _logger.info("Dunning: no payment code for %s: %s", bank.display_name, error)
            return False, False
        methods = dict(bank.get_available_qr_methods_in_sequence())
        return image or False, methods.get(vals["qr_method"], "") if image else False

    @api.model
    def _get_payment_values(self, company, partner, lines, currency=None, cache=None):
        """What a document says about paying the amount it asks in ``currency`` (by default
        the currency of the listed lines, else the company's).

        :param lines: move lines, render rows or open items (see ``_get_items``)
        :param cache: see ``_get_bank_account``
        :return: dict with bank (res.partner.bank or empty), holder, account, is_iban, bic,
            bank_name, currency, amount (net asked, never below 0) and amount_text,
            references (list of dicts: name, reference, amount, amount_text), qr (data URI
            or False), qr_name
        """
        items = self._get_items(lines)
        Line = self.env["account.move.line"]
        if not currency:
            currencies = Line.union(*(line for line, _amount in items)).currency_id
            currency = currencies[:1] or company.currency_id
        items = [(line, amount) for line, amount in items if line.currency_id == currency]
        move_lines = Line.union(*(line for line, _amount in items))
        bank = self._get_bank_account(company, currency, move_lines, cache=cache)
        references = {}
        for line, amount in items:
            move = line.move_id
            if amount <= 0:
                continue
            reference = move.payment_reference or move.name
            entry = references.setdefault(
                reference, {"name": move.name, "reference": reference, "amount": 0.0}
            )
            entry["amount"] += amount
        total = currency.round(sum(amount for _line, amount in items))
        total = max(total, 0.0)
        account, is_iban = self._format_account(bank) if bank else ("", False)
        qr, qr_name = self._get_qr_code(
            bank, total, currency, partner.commercial_partner_id, list(references)
        )
        # The document is in the customer's language; its settings read once per run.
        format_amount = amount_formatter(self.with_context(lang=partner.lang or self.env.lang).env)
        for entry in references.values():
            entry["amount_text"] = format_amount(entry["amount"], currency)
        return {
            "bank": bank,
            "holder": (bank.acc_holder_name or company.name) if bank else company.name,
            "account": account,
            "is_iban": is_iban,
            "bic": bank.bank_bic or "" if bank else "",
            "bank_name": bank.bank_name or "" if bank else "",
            "currency": currency,
            "amount": total,
            "amount_text": format_amount(total, currency),
            "references": list(references.values()),
            "qr": qr,
            "qr_name": qr_name,
        }
