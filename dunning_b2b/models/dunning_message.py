from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import format_date

from ..engine.items import allocate_credits
from ..tools import amount_formatter
from .dunning_promise import dunning_today


class DunningMessage(models.Model):
    """One communication to one customer for one stage: the receivable lines it lists and
    its fate.

    Mail templates of the ladder render on this model, so a template sees the customer, the
    stage, the lines (each instalment with its due date and open amount), the customer's open
    credits, the net amount asked and the contact to write back to. Sending and delivery are
    in dunning_message_send.py, the phone tasks that follow an unanswered email in
    dunning_message_call.py.
    """

    _name = "dunning.message"
    _inherit = ["mail.thread", "mail.activity.mixin", "dunning.company.check"]
    _description = "Dunning Message"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    date = fields.Date(required=True, index=True, readonly=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        readonly=True,
        check_company=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda s: s.env.company
    )
    level_id = fields.Many2one(
        "dunning.level",
        string="Stage",
        required=True,
        readonly=True,
        ondelete="restrict",
        check_company=True,
    )
    move_ids = fields.Many2many(
        "account.move",
        "dunning_message_account_move_rel",
        "message_id",
        "move_id",
        string="Invoices",
        readonly=True,
        check_company=True,
    )
    line_ids = fields.Many2many(
        "account.move.line",
        "dunning_message_account_move_line_rel",
        "message_id",
        "line_id",
        string="Receivable Lines",
        readonly=True,
        check_company=True,
        help="The open receivable lines (instalments) the message announces.",
    )
    recipient_ids = fields.Many2many(
        "res.partner",
        "dunning_message_recipient_rel",
        "message_id",
        "partner_id",
        string="Recipients",
        readonly=True,
    )
    collector_id = fields.Many2one("res.users", readonly=True)
    state = fields.Selection(
        [
            ("draft", "To Review"),
            ("queued", "Queued"),
            ("cancel", "Cancelled"),
        ],
        string="Status",
        default="draft",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    mail_message_id = fields.Many2one("mail.message", string="Email", readonly=True)
    delivery_state = fields.Selection(
        [
            ("none", "Not sent"),
            ("pending", "Waiting"),
            ("sent", "Sent"),
            ("failed", "Failed"),
        ],
        compute="_compute_delivery_state",
    )
    amount_text = fields.Char(
        string="Total Due",
        compute="_compute_amount_text",
        help="The net amount asked, per currency: the open amounts of the listed lines less "
        "the customer's open credits in that currency.",
    )
    invoice_count = fields.Integer(compute="_compute_amount_text")
    payment_reference_text = fields.Char(
        string="Payment References", compute="_compute_amount_text"
    )
    invoice_table_html = fields.Html(
        string="Invoice Table",
        compute="_compute_invoice_table_html",
        sanitize=False,
        help="The lines of the message, the open credits and the net amount asked as a table, "
        "in the customer's language.",
    )
    payment_instructions = fields.Char(compute="_compute_contact")
    contact_name = fields.Char(compute="_compute_contact")
    contact_email = fields.Char(compute="_compute_contact")
    contact_phone = fields.Char(compute="_compute_contact")
    max_days_overdue = fields.Integer(
        string="Oldest (days overdue)", compute="_compute_amount_text"
    )

    @api.depends("partner_id", "level_id", "date")
    def _compute_name(self):
        for message in self:
            message.name = message._get_name(message.level_id, message.partner_id, message.date)

    @api.model
    def _get_name(self, level, partner, day):
        """Stage · customer · date. The run passes it on create: computed after the INSERT,
        it was one more UPDATE per message (1.5 s of a 100,000-line run)."""
        return " · ".join(filter(None, [level.name, partner.name, day and str(day)]))

    @api.depends("mail_message_id.notification_ids.notification_status")
    def _compute_delivery_state(self):
        for message in self:
            statuses = set(
                message.mail_message_id.notification_ids.filtered(
                    lambda n: n.notification_type == "email"
                ).mapped("notification_status")
            )
            if not message.mail_message_id:
                message.delivery_state = "none"
            elif statuses & {"exception", "bounce"}:
                message.delivery_state = "failed"
            elif statuses and statuses <= {"sent"}:
                message.delivery_state = "sent"
            else:
                message.delivery_state = "pending"

    @api.depends(
        "line_ids.amount_residual_currency",
        "move_ids.line_ids.amount_residual_currency",
        "date",
        "level_id.policy_id.minimum_amount",
    )
    @api.depends_context("dunning_render_today")
    def _compute_amount_text(self):
        format_amount = amount_formatter(self.env)
        data = self._get_render_data()
        for message in self:
            rows = data[message.id]["rows"]
            message.invoice_count = len({row["move"] for row in rows})
            message.payment_reference_text = ", ".join(
                dict.fromkeys(row["payment_reference"] for row in rows)
            )
            message.max_days_overdue = max([row["days"] for row in rows] or [0])
            message.amount_text = " + ".join(
                format_amount(total["net"], total["currency"])
                for total in data[message.id]["summary"]
            )

    @api.depends(
        "line_ids.amount_residual_currency",
        "move_ids.line_ids.amount_residual_currency",
        "date",
        "level_id.policy_id.minimum_amount",
    )
    @api.depends_context("lang", "dunning_render_today")
    def _compute_invoice_table_html(self):
        # A QWeb view is compiled once and cached, unlike an inline template: rendering the
        # table here keeps the mail templates themselves to plain placeholders.
        qweb = self.env["ir.qweb"]
        format_amount = amount_formatter(self.env)
        days = {}

        def format_day(value):
            # Lines share due dates: each date is formatted once per language.
            if value not in days:
                days[value] = format_date(self.env, value)
            return days[value]

        data = self._get_render_data()
        for message in self:
            message.invoice_table_html = qweb._render(
                "dunning_b2b.dunning_message_invoice_table",
                {
                    "message": message,
                    "rows": data[message.id]["rows"],
                    "credits": data[message.id]["credits"],
                    "summary": data[message.id]["summary"],
                    "disputed": data[message.id]["disputed"],
                    "promises": data[message.id]["promises"],
                    "charges": data[message.id].get("charges"),
                    "format_amount": format_amount,
                    "format_date": format_day,
                },
            )

    @api.depends("collector_id", "company_id", "line_ids.move_id.partner_bank_id")
    @api.depends_context("dunning_render_today")
    def _compute_contact(self):
        data = self._get_render_data()
        banks = {}  # the company's account per currency, looked up once
        for message in self:
            contact = message.get_contact()
            message.contact_name = contact.name
            message.contact_email = contact.email or ""
            message.contact_phone = contact.phone or ""
            # Templates written before payment_html tell the account in one sentence.
            rows = data[message.id]["rows"]
            Pay = self.env["dunning.payment.info"]
            bank = (
                Pay._get_bank_account(
                    message.company_id,
                    rows[0]["currency"],
                    self.env["account.move.line"].union(*(row["line"] for row in rows)),
                    cache=banks,
                )
                if rows
                else False
            )
            account = Pay._format_account(bank)[0] if bank else ""
            if bank and bank.bank_bic:
                account = self.env._(
                    "%(account)s (BIC %(bic)s)", account=account, bic=bank.bank_bic
                )
            message.payment_instructions = (
                self.env._(
                    "When you pay, please quote %(references)s and pay to the account %(account)s.",
                    references=message.payment_reference_text,
                    account=account,
                )
                if bank
                else self.env._(
                    "When you pay, please quote %(references)s.",
                    references=message.payment_reference_text,
                )
            )

    @api.constrains("recipient_ids", "partner_id")
    def _check_recipient_ids(self):
        for message in self:
            # sudo: the recipients' customer and address, to tell whether they are the
            # customer's own contacts (nothing of them is shown)
            customer = message.sudo().partner_id.commercial_partner_id
            wrong = message.sudo().recipient_ids.filtered(
                lambda r, c=customer: r.commercial_partner_id != c or not r.email
            )
            if wrong:
                raise ValidationError(
                    self.env._(
                        "Recipients: a reminder to %(customer)s goes to %(customer)s or its "
                        "contacts with an email address only; %(count)s of the recipients are "
                        "not. Remove them, or add an email address to the contact.",
                        customer=message.partner_id.display_name,
                        count=len(wrong),
                    )
                )

    @api.model
    def mail_allowed_qweb_expressions(self):
        # The placeholders of the dunning templates: plain fields, so templates render
        # without evaluating code and anyone allowed to edit templates may use them.
        return (
            *super().mail_allowed_qweb_expressions(),
            "object.company_id.name",
            "object.partner_id.name",
            "object.invoice_table_html",
            "object.amount_text",
            "object.max_days_overdue",
            "object.payment_reference_text",
            "object.payment_instructions",
            "object.contact_name",
            "object.contact_email",
            "object.contact_phone",
            "object.level_id.name",
            "object.partner_id.lang",
        )

    def _get_lines(self):
        """The receivable lines each message announces: ``line_ids``, or for messages written
        before lines were recorded, the receivable debits of their documents.

        :return: dict message id -> account.move.line records
        """
        lines = {message.id: message.line_ids for message in self}
        old = self.filtered(lambda message: not message.line_ids and message.move_ids)
        if old:
            by_move = (
                self.env["account.move.line"]
                .search(
                    Domain("move_id", "in", old.move_ids.ids)
                    & Domain("account_type", "=", "asset_receivable")
                    & Domain("balance", ">", 0)
                )
                .grouped("move_id")
            )
            Line = self.env["account.move.line"]
            for message in old:
                lines[message.id] = Line.union(
                    *(by_move.get(move, Line) for move in message.move_ids)
                )
        return lines

    def _get_render_data(self):
        """What each message shows, with the lines' open amounts of now: the rows of its
        lines still open (those below the policy's minimum amount left out), the customer's
        open credits in the same company and currencies, and per currency the total, the
        credits and the net amount asked.

        :return: dict message id -> {"rows", "credits", "summary"} (see dunning.line.render)
        """
        unreadable = self - self._get_renderable()
        if unreadable:
            data = (self - unreadable)._get_render_data()
            data.update(
                {
                    message.id: {
                        "rows": [],
                        "credits": [],
                        "summary": [],
                        "disputed": [],
                        "promises": [],
                    }
                    for message in unreadable
                }
            )
            return data
        # While a batch's emails are rendered (context ``dunning_render_once``: the ids of
        # the batch's messages), the three computed fields that read this data, for each of
        # the stages' templates, share one gathering per batch and language.
        batch = self.env.context.get("dunning_render_once")
        if not batch:
            return self._gather_render_data()
        key = (
            "dunning_b2b.render_data",
            self.env.lang,
            self.env.context.get("dunning_render_today"),
        )
        data = self.env.cr.cache.get(key)
        if data is None or not set(self.ids) <= data.keys():
            data = self.browse(sorted(set(batch) | set(self.ids)))._gather_render_data()
            self.env.cr.cache[key] = data
        return data

    def _get_renderable(self):
        """The messages whose figures and email are computed: saved messages the user may
        read, all of them for the system. A new record (an onchange) or a message of a
        company the user does not work in shows nothing: the email renders as the system,
        from the customers' data and open items."""
        if self.env.su:
            return self
        saved = self.filtered(lambda message: isinstance(message.id, int))
        return saved._filtered_access("read")

    def _get_render_date(self):
        """The day the message's figures (days overdue, open amounts, credits) are told on:
        its date; with the context ``dunning_render_today`` (the messages' views, the
        preview), today for a message still to review, which is dated the day it is sent."""
        self.ensure_one()
        if self.env.context.get("dunning_render_today") and self.state == "draft":
            return dunning_today(self.env)
        return self.date

    def _gather_render_data(self):
        Render = self.env["dunning.line.render"]
        lines = self._get_lines()
        every_line = self.env["account.move.line"].union(*lines.values())
        labels = Render._get_instalment_labels(every_line)
        partners = self.partner_id.commercial_partner_id
        # The customers' open items, read once: the credits listed and the credits applied.
        items = (
            self.env["dunning.line"]._get_open_items(self.company_id, partner_ids=partners.ids)
            if self
            else []
        )
        credit_lines = Render._get_credit_lines(items)
        allocations = allocate_credits(items)
        disputed, promised = self._get_commitments(partners)
        data = {}
        for message in self:
            minimum = message.level_id.policy_id.minimum_amount
            on_date = message._get_render_date()
            key = (message.partner_id.commercial_partner_id.id, message.company_id.id)
            # A line disputed since the message was prepared is not asked: it is listed
            # apart, under review.
            under_review = {row["move_id"] for row in disputed.get(key, [])}
            # ``filtered`` would read each message's lines apart: the batch's lines are
            # read together.
            asked = (
                lines[message.id]
                .filtered(lambda line, moves=under_review: line.move_id.id not in moves)
                .with_prefetch(every_line._prefetch_ids)
            )
            rows = Render._get_line_rows(asked, on_date, minimum, labels, allocations=allocations)
            credits = Render._get_credit_rows(
                credit_lines.get(key, self.env["account.move.line"]), rows, on_date, minimum
            )
            data[message.id] = {
                "rows": rows,
                "credits": credits,
                "summary": Render._get_summary(rows, credits),
                "disputed": disputed.get(key, []),
                "promises": [p for p in promised.get(key, []) if p["date"] >= on_date],
            }
        return data

    def _get_commitments(self, partners):
        """The customers' open disputes (under review, not demanded) and open promises, in
        the messages' companies, read once for all the messages.

        :return: two dicts (customer id, company id) -> list of rows: disputes (move_id,
            name, reason, amount, currency), promises (date, amount, currency, invoices)
        """
        domain = [
            ("partner_id", "in", partners.ids),
            ("company_id", "in", self.company_id.ids),
            ("state", "=", "open"),
        ]
        disputed, promised = {}, {}
        for dispute in self.env["dunning.dispute"].search(domain, order="id"):
            if dispute.currency_id.is_zero(dispute.amount_residual):
                continue  # paid meanwhile: nothing under review is open
            key = (dispute.partner_id.commercial_partner_id.id, dispute.company_id.id)
            disputed.setdefault(key, []).append(
                {
                    "move_id": dispute.move_id.id,
                    "name": dispute.move_id.name,
                    "reason": dispute._reason_label(),
                    "amount": dispute.amount_residual,
                    "currency": dispute.currency_id,
                }
            )
        for promise in self.env["dunning.promise"].search(domain, order="promise_date, id"):
            if promise.currency_id.is_zero(promise.amount_remaining):
                continue  # paid as promised: the check marks it kept
            key = (promise.partner_id.id, promise.company_id.id)
            promised.setdefault(key, []).append(
                {
                    "date": promise.extension_date or promise.promise_date,
                    # What is left to pay of the promise, not what was first promised.
                    "amount": promise.amount_remaining,
                    "currency": promise.currency_id,
                    "invoices": ", ".join(promise.move_ids.mapped("name")),
                }
            )
        return disputed, promised

    @api.private
    def get_contact(self):
        """Who the customer should answer: the collector, or else the company."""
        self.ensure_one()
        if self.collector_id:
            return self.collector_id.partner_id
        return self.company_id.partner_id
