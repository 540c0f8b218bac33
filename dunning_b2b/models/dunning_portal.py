import base64
import math
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from .dunning_dispute_reason import DISPUTE_REASONS
from .dunning_promise import dunning_today

# What a buyer may attach to a dispute.
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024


class DunningPortal(models.AbstractModel):
    """What the buyer's page shows and does, for one customer in one company.

    The page (controllers/portal.py) authenticates the buyer by a link
    (``dunning.access``) or their portal login, then calls these methods on an environment
    that is sudo and restricted to that company (:meth:`_scope_env`): what they read is the
    customer's own open items through the one selector (``dunning.line``), and what they do
    goes through the same models, checks and events as in the back office.
    """

    _name = "dunning.portal"
    _description = "Customer Page"

    @api.model
    def _scope_env(self, company):
        """The environment of the page's work: sudo (the buyer is no internal user; the link
        or the portal login was checked by the caller) within ``company`` only."""
        # sudo: the buyer acts on their own customer's records, in this one company
        return self.sudo().with_company(company).with_context(allowed_company_ids=[company.id])

    # ------------------------------------------------------------------ reading
    @api.model
    def _get_page_values(self, partner, company):
        """The customer's open items, credits, promises and disputes in ``company``, with
        totals per currency (open, credits, net)."""
        self = self._scope_env(company)
        partner = partner.commercial_partner_id.with_env(self.env)
        today = dunning_today(self.env)
        items = self.env["dunning.line"]._get_open_items(company, today, partner_ids=partner.ids)
        disputes = self.env["dunning.dispute"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", company.id),
             ("state", "=", "open")], order="id",
        )  # fmt: skip
        promises = self.env["dunning.promise"].search(
            [("partner_id", "=", partner.id), ("company_id", "=", company.id),
             ("state", "=", "open")], order="promise_date, id",
        )  # fmt: skip
        disputed = {d.move_id.id: d for d in disputes}
        promised = {}
        for promise in promises:
            for move in promise.move_ids:
                promised.setdefault(move.id, promise)
        moves = self.env["account.move"].browse({item.move_id for item in items})
        currencies = self.env["res.currency"].browse({item.currency_id for item in items})
        rows, credits = [], []
        totals = defaultdict(lambda: {"open": 0.0, "overdue": 0.0, "credits": 0.0})
        for item in items:
            move = moves.browse(item.move_id)
            currency = currencies.browse(item.currency_id)
            row = {
                "line_id": item.line_id,
                "move": move,
                "name": item.move_name,
                "ref": item.ref or "",
                "invoice_date": item.invoice_date,
                "due_date": item.due_date,
                "days_overdue": (today - item.due_date).days if item.due_date else 0,
                "amount": abs(item.amount),
                "currency": currency,
                "dispute": disputed.get(item.move_id),
                "promise": promised.get(item.move_id),
            }
            if item.is_credit:
                credits.append(row)
                totals[currency]["credits"] += abs(item.amount)
            else:
                rows.append(row)
                totals[currency]["open"] += item.amount
                if row["days_overdue"] > 0:
                    totals[currency]["overdue"] += item.amount
        summary = [
            dict(
                values,
                currency=currency,
                net=currency.round(max(values["open"] - values["credits"], 0.0)),
            )
            for currency, values in sorted(totals.items(), key=lambda kv: kv[0].name)
        ]
        reasons = dict(self.env["dunning.dispute"]._fields["reason"]._description_selection(
            self.env))  # fmt: skip
        return {
            "partner": partner,
            "company": company,
            "today": today,
            "rows": rows,
            "credits": credits,
            "summary": summary,
            "disputes": disputes,
            "promises": promises,
            "reasons": [(key, reasons[key]) for key, __ in DISPUTE_REASONS],
        }

    @api.model
    def _get_selected_lines(self, partner, company, line_ids, credits=False):
        """The open debit items of the customer among ``line_ids`` (anything else is
        ignored: another customer's line, a paid one, a forged id)."""
        self = self._scope_env(company)
        ids = {int(i) for i in line_ids if str(i).isdigit()}
        if not ids:
            return []
        items = self.env["dunning.line"]._get_open_items(
            company, dunning_today(self.env), partner_ids=partner.commercial_partner_id.ids
        )
        return [item for item in items if item.line_id in ids and (credits or not item.is_credit)]

    @api.model
    def _has_open_items(self, partner, company):
        self = self._scope_env(company)
        return bool(
            self.env["dunning.line"]._get_open_items(
                company, dunning_today(self.env), partner_ids=partner.commercial_partner_id.ids
            )
        )

    @api.model
    def _get_contact(self, partner, company, access=None):
        """Who the buyer writes to: the reminder's collector, the customer's collector,
        else the company."""
        self = self._scope_env(company)
        user = self._get_collector(partner, company, access)
        contact = user.partner_id if user else company.partner_id
        return {
            "name": contact.name,
            "email": company.dunning_reply_to or contact.email or company.email,
            "phone": contact.phone or company.phone,
        }

    @api.model
    def _get_payment(self, partner, company, line_ids):
        """What paying the selected items online costs: their open amounts less the open
        credits of the customer in that currency (applied up to the items' total).

        :return: dict items, moves, currency, amount, credits (amount), credit_line_ids
        :raise UserError: nothing payable selected, several currencies, credits cover it
        """
        self = self._scope_env(company)
        items = self._get_selected_lines(partner, company, line_ids)
        if not items:
            raise UserError(self.env._("Select the invoices you want to pay."))
        currencies = self.env["res.currency"].browse({item.currency_id for item in items})
        if len(currencies) > 1:
            raise UserError(
                self.env._(
                    "The selected invoices are in %(currencies)s: pay the invoices of one "
                    "currency at a time.",
                    currencies=", ".join(currencies.mapped("name")),
                )
            )
        total = currencies.round(sum(item.amount for item in items))
        reserved = self._get_reserved_credit_ids(company)
        open_credits = [
            item
            for item in self.env["dunning.line"]._get_open_items(
                company, dunning_today(self.env), partner_ids=partner.commercial_partner_id.ids
            )
            if item.is_credit and item.currency_id == currencies.id and item.line_id not in reserved
        ]
        credits = currencies.round(min(sum(-item.amount for item in open_credits), total))
        amount = currencies.round(total - credits)
        if currencies.compare_amounts(amount, 0.0) <= 0:
            raise UserError(
                self.env._(
                    "Your open credits cover the selected invoices: there is nothing to pay. "
                    "We will apply them."
                )
            )
        return {
            "items": items,
            "moves": self.env["account.move"].browse(dict.fromkeys(i.move_id for i in items)),
            "currency": currencies,
            "total": total,
            "credits": credits,
            "amount": amount,
            "credit_line_ids": [item.line_id for item in open_credits] if credits else [],
        }

    @api.model
    def _get_reserved_credit_ids(self, company):
        """Credits already deducted by a payment of the page that is under way (pending or
        authorised, or started in the last hour): not deducted a second time."""
        recent = fields.Datetime.now() - timedelta(hours=1)
        transactions = self.env["payment.transaction"].search(
            [
                ("dunning_portal", "=", True),
                ("company_id", "=", company.id),
                "|",
                ("state", "in", ("pending", "authorized")),
                "&",
                ("state", "=", "draft"),
                ("create_date", ">=", recent),
            ]
        )
        return set(transactions.dunning_credit_line_ids.ids)

    @api.model
    def _get_statement_pdf(self, partner, company):
        """The customer's statement in ``company`` as PDF, in their language; not logged as
        a letter sent."""
        self = self._scope_env(company)
        partner = partner.commercial_partner_id
        report = self.env["ir.actions.report"].with_context(
            lang=partner.lang or self.env.lang,
            dunning_letter_no_log=True,
            dunning_letter_no_link=True,
        )
        pdf, __ = report._render_qweb_pdf("dunning_b2b.report_customer_statement", partner.ids)
        name = self.env._("Statement - %(customer)s.pdf", customer=partner.name)
        return pdf, name

    # ------------------------------------------------------------------ actions
    @api.model
    def _promise(self, access, partner, company, line_ids, promise_date, amount, note=""):
        """Record the buyer's promise for the selected items: a ``dunning.promise`` from the
        "portal" channel, checked exactly as one recorded in the back office.

        :raise UserError, ValidationError: what is wrong, nothing recorded
        """
        self = self._scope_env(company)
        items = self._get_selected_lines(partner, company, line_ids)
        if not items:
            raise UserError(self.env._("Select the invoices you promise to pay."))
        promise_date = self._parse_date(promise_date, self.env._("Payment date"))
        horizon = dunning_today(self.env) + timedelta(days=company.dunning_portal_promise_days)
        if promise_date > horizon:
            raise UserError(
                self.env._(
                    "Payment date: we can accept a promise up to %(date)s on this page. For a "
                    "later date, please contact us.",
                    date=format_date(self.env, horizon),
                )
            )
        amount = self._parse_amount(amount)
        moves = self.env["account.move"].browse(dict.fromkeys(item.move_id for item in items))
        if len(moves.currency_id) > 1:
            raise UserError(
                self.env._(
                    "The selected invoices are in %(currencies)s: promise the invoices of one "
                    "currency at a time.",
                    currencies=", ".join(moves.currency_id.mapped("name")),
                )
            )
        self._check_not_committed(partner, company, moves)
        if amount is None:
            amount = moves.currency_id.round(sum(item.amount for item in items))
        with self.env.cr.savepoint():
            promise = self.env["dunning.promise"].create(
                {
                    "partner_id": partner.commercial_partner_id.id,
                    "company_id": company.id,
                    "move_ids": [fields.Command.set(moves.ids)],
                    "amount": amount,
                    "promise_date": promise_date,
                    "channel": "portal",
                    "note": note or False,
                }
            )
        self._notify_collector(
            partner,
            company,
            self.env._(
                "The customer promised on their page to pay %(amount)s by %(date)s for "
                "%(invoices)s.",
                amount=promise.currency_id.format(promise.amount),
                date=format_date(self.env, promise.promise_date),
                invoices=", ".join(moves.mapped("name")),
            )
            + (Markup("<br/>%s") % note if note else ""),
            access,
        )
        return promise

    @api.model
    def _check_not_committed(self, partner, company, moves):
        """A promise from the page covers invoices without an open promise or dispute: the
        buyer cannot push a date back by promising again (a manager extends promises)."""
        promised = self.env["dunning.promise"].search(
            [("move_ids", "in", moves.ids), ("state", "=", "open")]
        )
        disputed = self.env["dunning.dispute"].search(
            [("move_id", "in", moves.ids), ("state", "=", "open")]
        )
        taken = promised.move_ids & moves | disputed.move_id
        if taken:
            raise UserError(
                self.env._(
                    "%(invoices)s: already promised or under review. To change a promise, "
                    "please contact us.",
                    invoices=", ".join(taken.mapped("name")),
                )
            )

    @api.model
    def _dispute(self, access, partner, company, line_ids, reason, comment, attachment=None):
        """Open a dispute for each selected invoice with the buyer's reason, comment and
        attachment; its owner is the one its reason calls for.

        :param attachment: (file name, content bytes) or None
        :raise UserError, ValidationError: what is wrong, nothing recorded
        """
        self = self._scope_env(company)
        items = self._get_selected_lines(partner, company, line_ids)
        if not items:
            raise UserError(self.env._("Select the invoice you dispute."))
        if reason not in dict(DISPUTE_REASONS):
            raise UserError(self.env._("Reason: choose what is wrong with the invoice."))
        comment = (comment or "").strip()
        if not comment:
            raise UserError(
                self.env._("Comment: tell us what is wrong, so that we can put it right.")
            )
        if attachment and len(attachment[1]) > MAX_ATTACHMENT_SIZE:
            raise UserError(self.env._("Attachment: the file is larger than 10 MB."))
        move_ids = list(dict.fromkeys(item.move_id for item in items))
        moves = self.env["account.move"].browse(move_ids)
        under_review = self.env["dunning.dispute"].search(
            [("move_id", "in", move_ids), ("state", "=", "open")]
        )
        if under_review:
            raise UserError(
                self.env._(
                    "%(invoices)s: we are already looking into a problem you reported. We will "
                    "come back to you; for anything else, please contact us.",
                    invoices=", ".join(under_review.move_id.mapped("name")),
                )
            )
        if moves.filtered(lambda move: move.move_type != "out_invoice"):
            raise UserError(self.env._("Select the invoice you dispute."))
        Reason = self.env["dunning.dispute.reason"]
        collector = self._get_collector(partner, company)
        with self.env.cr.savepoint():
            disputes = self.env["dunning.dispute"].create(
                [
                    {
                        "move_id": move.id,
                        "reason": reason,
                        "description": comment,
                        # The buyer cannot name an owner: the reason's, else the collector.
                        "owner_id": (Reason._get_default_owner(move, reason) or collector).id,
                    }
                    for move in moves
                ]
            )
            if attachment:
                name, content = attachment
                for dispute in disputes:
                    record = self.env["ir.attachment"].create(
                        {
                            "name": name,
                            "datas": base64.b64encode(content),
                            "res_model": "dunning.dispute",
                            "res_id": dispute.id,
                        }
                    )
                    dispute.message_post(
                        body=self.env._("Attached by the customer on their page."),
                        attachment_ids=record.ids,
                    )
        self._notify_collector(
            partner,
            company,
            self.env._(
                "The customer disputed %(invoices)s on their page (%(reason)s): %(comment)s",
                invoices=", ".join(disputes.move_id.mapped("name")),
                reason=dict(DISPUTE_REASONS)[reason],
                comment=comment,
            ),
            access,
        )
        return disputes

    @api.model
    def _parse_date(self, value, label):
        if not value:
            raise UserError(self.env._("%(field)s: enter the date.", field=label))
        try:
            return fields.Date.to_date(value)
        except (TypeError, ValueError):
            raise UserError(
                self.env._("%(field)s: enter a date such as 2026-12-31.", field=label)
            ) from None

    @api.model
    def _parse_amount(self, value):
        value = (value or "").strip().replace(" ", "").replace(",", ".")
        if not value:
            return None
        try:
            amount = float(value)
            if not math.isfinite(amount):
                raise ValueError(value)
            return amount
        except ValueError:
            raise UserError(
                self.env._("Amount: enter a number such as 1250.00, or leave it empty.")
            ) from None

    @api.model
    def _get_collector(self, partner, company, access=None):
        """The collector in charge: the reminder's, else the customer's in ``company``
        (customer, segment team, company default)."""
        self = self._scope_env(company)
        if access and access.message_id.collector_id:
            return access.message_id.collector_id
        partner = partner.commercial_partner_id
        return self.env["dunning.engine"]._get_collectors(company, partner)[partner.id]

    @api.model
    def _notify_collector(self, partner, company, text, access=None):
        """Say what the buyer did in the customer's chatter, to the collector in charge."""
        partner = partner.commercial_partner_id
        collector = self._get_collector(partner, company, access)
        partner.message_post(
            body=Markup("<p>%s</p>") % text if not isinstance(text, Markup) else text,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            partner_ids=collector.partner_id.ids,
        )
