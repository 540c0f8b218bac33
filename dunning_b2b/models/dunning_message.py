import logging
import re
from collections import defaultdict

from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date, html_normalize

from ..tools import amount_formatter

_logger = logging.getLogger(__name__)


def _compact(html):
    return re.sub(r"[\s;]", "", str(html or ""))


class DunningMessage(models.Model):
    """One communication to one customer for one stage: the invoices it lists and its fate.

    Mail templates of the ladder render on this model, so a template sees the customer, the
    stage, the invoices and the contact to write back to.
    """

    _name = "dunning.message"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "Dunning Message"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    date = fields.Date(required=True, index=True, readonly=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda s: s.env.company
    )
    level_id = fields.Many2one(
        "dunning.level", string="Stage", required=True, readonly=True, ondelete="restrict"
    )
    move_ids = fields.Many2many(
        "account.move",
        "dunning_message_account_move_rel",
        "message_id",
        "move_id",
        string="Invoices",
        readonly=True,
    )
    line_ids = fields.Many2many(
        "account.move.line",
        "dunning_message_account_move_line_rel",
        "message_id",
        "line_id",
        string="Receivable Lines",
        readonly=True,
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
        string="Total Due", compute="_compute_amount_text", help="Open amounts, per currency."
    )
    invoice_count = fields.Integer(compute="_compute_amount_text")
    payment_reference_text = fields.Char(
        string="Payment References", compute="_compute_amount_text"
    )
    invoice_table_html = fields.Html(
        string="Invoice Table",
        compute="_compute_invoice_table_html",
        sanitize=False,
        help="The invoices of the message as a table, in the customer's language.",
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
            message.name = " · ".join(
                filter(None, [message.level_id.name, message.partner_id.name, str(message.date)])
            )

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

    @api.depends("move_ids.amount_residual", "move_ids.currency_id", "date")
    def _compute_amount_text(self):
        format_amount = amount_formatter(self.env)
        for message in self:
            message.invoice_count = len(message.move_ids)
            message.payment_reference_text = ", ".join(
                move.payment_reference or move.name for move in message.move_ids
            )
            message.max_days_overdue = max(
                [message.get_days_overdue(move) for move in message.move_ids] or [0]
            )
            message.amount_text = " + ".join(
                format_amount(amount, currency) for currency, amount in message._get_totals()
            )

    @api.depends("move_ids", "date")
    @api.depends_context("lang")
    def _compute_invoice_table_html(self):
        # A QWeb view is compiled once and cached, unlike an inline template: rendering the
        # table here keeps the mail templates themselves to plain placeholders.
        qweb = self.env["ir.qweb"]
        format_amount = amount_formatter(self.env)
        days = {}

        def format_day(value):
            # Invoices share due dates: each date is formatted once per language.
            if value not in days:
                days[value] = format_date(self.env, value)
            return days[value]

        for message in self:
            message.invoice_table_html = qweb._render(
                "dunning_b2b.dunning_message_invoice_table",
                {
                    "message": message,
                    "format_amount": format_amount,
                    "format_date": format_day,
                },
            )

    @api.depends("collector_id", "company_id", "move_ids.partner_bank_id")
    def _compute_contact(self):
        for message in self:
            contact = message.get_contact()
            message.contact_name = contact.name
            message.contact_email = contact.email or ""
            message.contact_phone = contact.phone or ""
            bank = message.move_ids[:1].partner_bank_id
            message.payment_instructions = (
                self.env._(
                    "When you pay, please quote %(references)s and pay to the account %(account)s.",
                    references=message.payment_reference_text,
                    account=bank.acc_number,
                )
                if bank
                else self.env._(
                    "When you pay, please quote %(references)s.",
                    references=message.payment_reference_text,
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

    def _get_totals(self):
        """Open amount per currency, as a list of (currency, amount)."""
        self.ensure_one()
        totals = defaultdict(float)
        for move in self.move_ids:
            totals[move.currency_id] += move.amount_residual
        return sorted(totals.items(), key=lambda item: item[0].name)

    @api.private
    def get_days_overdue(self, move):
        """Days ``move`` is overdue on the message date, for templates."""
        self.ensure_one()
        if not move.invoice_date_due:
            return 0
        return (self.date - move.invoice_date_due).days

    @api.private
    def get_contact(self):
        """Who the customer should answer: the collector, or else the company."""
        self.ensure_one()
        if self.collector_id:
            return self.collector_id.partner_id
        return self.company_id.partner_id

    def action_send(self):
        """Send messages held for review (stages that are not automatic)."""
        if any(message.state != "draft" for message in self):
            raise UserError(self.env._("Only messages to review can be sent."))
        self.check_access("write")
        self.sudo()._send()
        return True

    def action_cancel(self):
        if any(message.state != "draft" for message in self):
            raise UserError(self.env._("Only messages to review can be cancelled."))
        self.check_access("write")
        events = []
        self.sudo().activity_ids.action_feedback(feedback=self.env._("Message cancelled."))
        for message in self:
            message.sudo().state = "cancel"
            events += message._prepare_event_vals("note", self.env._("Message cancelled."))
        self.env["dunning.event"].sudo().create(events)
        return True

    def _prepare_event_vals(self, event_type, note, user=None, date=None):
        """One event per invoice of the message."""
        self.ensure_one()
        return [
            {
                "event_type": event_type,
                "date": date or fields.Date.context_today(self),
                "move_id": move.id,
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "level_id": self.level_id.id,
                "message_id": self.id,
                "currency_id": move.currency_id.id,
                "amount_residual": move.amount_residual,
                "days_overdue": self.get_days_overdue(move),
                "user_id": (user or self.env.user).id,
                "note": note,
            }
            for move in self.move_ids
        ]

    def _send(self, user=None, date=None):
        """Render each message in its customer's language and queue it as an email.

        Each email is a message in the customer's chatter and an outgoing mail.mail with
        delivery notifications, created in bulk; the mail queue delivers them after the
        transaction commits, so a run that fails never sends anything. A message that cannot
        be rendered is left to review with an error event and a task; the others go on.
        Called as sudo by the engine and by :meth:`action_send` after their own access checks.

        :return: the messages queued
        """
        rendered, errors = self._render_emails()
        events = []
        for message, error in errors.items():
            _logger.warning("Dunning message %s could not be prepared: %s", message.id, error)
            events += message._prepare_event_vals(
                "error",
                self.env._("The email could not be prepared: %(error)s", error=error),
                user,
                date,
            )
            message._schedule_failure_activity(error)
        sent = self.filtered(lambda m: m.id in rendered)
        mails = sent._create_mails(rendered)
        logs = {}
        for message, mail in zip(sent, mails, strict=True):
            message.mail_message_id = mail.mail_message_id
            recipients = ", ".join(message.recipient_ids.mapped("email_formatted"))
            text = self.env._("Sent to %(recipients)s", recipients=recipients)
            events += message._prepare_event_vals("email", text, user, date)
            for move in message.move_ids:
                logs[move.id] = Markup("%s <b>%s</b><br/>%s") % (
                    self.env._("Dunning email:"),
                    message.level_id.name,
                    text,
                )
        sent.state = "queued"
        # The review tasks of sent messages are done.
        sent.activity_ids.action_feedback(feedback=self.env._("Message sent."))
        self.env["dunning.engine"]._log_notes(
            "account.move", logs, self.env["dunning.engine"]._get_author(self.company_id[:1])
        )
        self.env["dunning.event"]._create_bulk(events)
        return sent

    def _render_emails(self):
        """Subject and body of each message; one rendering pass per template and language.

        :return: ({message id: {"subject", "body_html"}}, {message: error})
        """
        rendered, errors = {}, {}
        for template, messages in self.grouped(lambda m: m.level_id.mail_template_id).items():
            try:
                with self.env.cr.savepoint():
                    rendered.update(
                        template._generate_template(messages.ids, ("subject", "body_html"))
                    )
                continue
            except Exception:  # noqa: BLE001 - find which customers fail, one by one below
                _logger.info("Dunning: rendering %s in bulk failed, one by one", template.name)
            for message in messages:
                try:
                    with self.env.cr.savepoint():
                        rendered.update(
                            template._generate_template(message.ids, ("subject", "body_html"))
                        )
                except Exception as error:  # noqa: BLE001 - reported on the message
                    errors[message] = error
        return rendered, errors

    def _create_mails(self, rendered):
        """One chatter message + outgoing mail.mail + notifications per message, in bulk.

        Two per-message costs of ``mail.message.create`` are taken out, which were most of a
        large run (bench/README.md): the reply-to address is computed once per sender for
        all the batch's customers, and the chatter copy of a body that the chatter's own
        sanitizer would leave unchanged is written after the create instead of being
        sanitized once more. Whether it would is checked once per template and language: the
        renderer escapes every value, so the bodies of one template differ only in text. A
        template whose markup the chatter would strip (styles, unknown tags) goes through
        the ORM, sanitized as ``message_post`` would. ``body_html``, the email itself, is
        what Odoo sends, never sanitized by the chatter's rules either.
        """
        comment = self.env.ref("mail.mt_comment")
        senders = {
            message.id: (
                message.company_id.email_formatted or message.get_contact().email_formatted,
                message.get_contact().id,
            )
            for message in self
        }
        reply_to = {}
        for (email_from, author_id), messages in self.grouped(lambda m: senders[m.id]).items():
            addresses = messages.partner_id.sudo()._notify_get_reply_to(
                default=email_from, author_id=author_id
            )
            reply_to.update({message.id: addresses[message.partner_id.id] for message in messages})
        bodies = {message.id: rendered[message.id]["body_html"] or "" for message in self}
        Message = self.env["mail.message"]
        body_field = Message._fields["body"]
        clean_templates, clean = {}, {}
        for message in self:
            key = (message.level_id.mail_template_id.id, message.partner_id.lang)
            if key not in clean_templates:
                body = bodies[message.id]
                # Compared without spaces and semicolons: the sanitizer rewrites the
                # spacing of style attributes; anything it removes still shows.
                sanitized = body_field.convert_to_cache(body, Message)
                clean_templates[key] = _compact(sanitized) == _compact(html_normalize(body))
            clean[message.id] = clean_templates[key]
        mails = self.env["mail.mail"].create(
            [
                {
                    "model": "res.partner",
                    "res_id": message.partner_id.id,
                    "record_name": message.partner_id.display_name,
                    "message_type": "comment",
                    "subtype_id": comment.id,
                    "subject": rendered[message.id]["subject"],
                    "body": "" if clean[message.id] else bodies[message.id],
                    "body_html": bodies[message.id],
                    "author_id": senders[message.id][1],
                    "email_from": senders[message.id][0],
                    "reply_to": reply_to[message.id],
                    "partner_ids": [Command.set(message.recipient_ids.ids)],
                    "recipient_ids": [Command.set(message.recipient_ids.ids)],
                    "is_notification": True,
                    "auto_delete": False,
                    "state": "outgoing",
                }
                for message in self
            ]
        )
        written = [
            (mail.mail_message_id.id, str(bodies[message.id]))
            for message, mail in zip(self, mails, strict=True)
            if clean[message.id]
        ]
        if written:
            Message.flush_model()
            self.env.cr.execute(
                SQL(
                    """UPDATE mail_message m SET body = v.body
                         FROM unnest(%s::int[], %s::text[]) AS v(id, body)
                        WHERE m.id = v.id""",
                    [message_id for message_id, _body in written],
                    [body for _message_id, body in written],
                )
            )
            mails.mail_message_id.invalidate_recordset(["body"])
            mails.invalidate_recordset(["body"])
        self._attach_letters(mails)
        self.env["mail.notification"].create(
            [
                {
                    "mail_message_id": mail.mail_message_id.id,
                    "mail_mail_id": mail.id,
                    "res_partner_id": partner.id,
                    "author_id": mail.author_id.id,
                    "notification_type": "email",
                    "notification_status": "ready",
                    "is_read": True,
                }
                for message, mail in zip(self, mails, strict=True)
                for partner in message.recipient_ids
            ]
        )
        return mails

    def _get_letter_report(self):
        """The report of the stage's letter, or None when the stage sends no letter."""
        self.ensure_one()
        level = self.level_id
        if not (level.send_letter or level.attach_letter) or self.env.context.get(
            "dunning_no_letter"
        ):
            return None
        return {
            "formal_notice": "dunning_b2b.report_formal_notice",
            "demand": "dunning_b2b.report_demand_letter",
            "statement": "dunning_b2b.report_customer_statement",
        }.get(level.letter_type or "formal_notice")

    def _attach_letters(self, mails):
        """The stage's letter as a PDF attachment of its email, where the stage asks for it.

        One wkhtmltopdf call per letter (about a second each): a stage that attaches letters
        on a large first run is slow; printing them in batch for the post is not.
        """
        for message, mail in zip(self, mails, strict=True):
            if not message.level_id.attach_letter:
                continue
            attachments = message._get_letter_attachments()
            if attachments:
                records = self.env["ir.attachment"].create(
                    [
                        {
                            "name": name,
                            "raw": content,
                            "res_model": "res.partner",
                            "res_id": message.partner_id.id,
                        }
                        for name, content in attachments
                    ]
                )
                mail.attachment_ids = [Command.set(records.ids)]

    def _get_letter_attachments(self):
        """The stage's letter as PDF, in the customer's language, dated like the message;
        writes the "letter" events. ``[(file name, content)]`` for ``message_post``."""
        report_name = self._get_letter_report()
        if not report_name:
            return []
        Report = self.env["ir.actions.report"].with_company(self.company_id)
        Report = Report.with_context(
            lang=self.partner_id.lang or self.env.lang,
            dunning_letter_date=self.date,
            dunning_letter_no_log=True,
        )
        content, report_type = Report._render_qweb_pdf(report_name, self.partner_id.ids)
        label = dict(self.level_id._fields["letter_type"]._description_selection(self.env))[
            self.level_id.letter_type or "formal_notice"
        ]
        self.env[f"report.{report_name}"].with_company(self.company_id)._log_letters(
            self.partner_id, report_name, via="email", letter_date=self.date, message=self
        )
        filename = f"{label} - {self.partner_id.name}.{report_type}"
        return [(filename, content)]

    def _schedule_failure_activity(self, error):
        self.ensure_one()
        self.partner_id.activity_schedule(
            "dunning_b2b.mail_activity_type_dunning_todo",
            summary=self.env._("%(stage)s: the email could not be sent", stage=self.level_id.name),
            note=Markup("<p>%s</p><p>%s</p>")
            % (
                self.env._("Check the template and the customer's data, then send it again:"),
                str(error),
            ),
            user_id=(self.collector_id or self.env.user).id,
        )

    # ---------------------------------------------------------- phone tasks
    @api.model
    def _get_call_task_rows(self, company, run_date):
        """(message id, move id) of emails sent ``call_delay`` days ago or more, at a stage
        with a phone task, whose invoice is still at that stage and unpaid, with no reply
        (call, response, promise, dispute) from the customer since, and no phone task yet."""
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                """SELECT msg.id, m.id
                     FROM dunning_message msg
                     JOIN dunning_level l ON l.id = msg.level_id
                     JOIN dunning_message_account_move_rel rel ON rel.message_id = msg.id
                     JOIN account_move m ON m.id = rel.move_id
                    WHERE msg.company_id = %(company)s
                      AND msg.state = 'queued'
                      AND l.call_delay > 0
                      AND msg.date + l.call_delay <= %(date)s
                      AND m.dunning_level_id = msg.level_id
                      AND m.state = 'posted'
                      AND m.payment_state = 'not_paid'
                      AND NOT COALESCE(m.dunning_excluded, FALSE)
                      AND NOT EXISTS (
                          SELECT 1 FROM dunning_event e
                           WHERE e.message_id = msg.id AND e.event_type = 'call_task')
                      AND NOT EXISTS (
                          SELECT 1 FROM dunning_event e
                           WHERE e.partner_id = msg.partner_id
                             AND e.company_id = msg.company_id
                             AND e.event_type IN %(replies)s
                             AND e.date >= msg.date)
                 ORDER BY msg.id, m.id""",
                company=company.id,
                date=run_date,
                replies=("call", "response", "promise", "dispute"),
            )
        )

    @api.model
    def _create_call_tasks(self, company, run_date, user, stats):
        """Daily check: a phone task for the collector on each message nobody answered."""
        rows = self._get_call_task_rows(company, run_date)
        if not rows:
            return
        moves = self.env["account.move"].browse({move_id for _msg, move_id in rows})
        paused = moves._get_dunning_pause_reasons(run_date)
        by_message = defaultdict(list)
        for message_id, move_id in rows:
            if move_id not in paused:
                by_message[message_id].append(move_id)
        if not by_message:
            return
        messages = self.browse(list(by_message))
        collectors = self.env["dunning.engine"]._get_collectors(company, messages.partner_id)
        activity_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_call")
        Move = self.env["account.move"]
        activities = []
        events = []
        for message in messages:
            group_moves = Move.browse(by_message[message.id])
            partner = message.partner_id
            collector = collectors[partner.id] or message.collector_id
            lines = group_moves._get_dunning_html_list()
            note = Markup("<p>%s</p>%s%s") % (
                self.env._(
                    "No reply and no payment since the %(stage)s email of %(date)s: phone the "
                    "buyer, ask whether anything prevents payment and log the answer.",
                    stage=message.level_id.name,
                    date=format_date(self.env, message.date),
                ),
                lines,
                partner._dunning_phone_note(),
            )
            activities.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_id": partner.id,
                    "activity_type_id": activity_type.id,
                    "summary": self.env._(
                        "%(stage)s: phone %(customer)s",
                        stage=message.level_id.name,
                        customer=partner.name,
                    ),
                    "note": note,
                    "user_id": (collector or self.env.user).id,
                    "date_deadline": run_date,
                }
            )
            text = self.env._(
                "No reply %(days)s days after the email: phone task for %(user)s.",
                days=(run_date - message.date).days,
                user=(collector or self.env.user).name,
            )
            for move in group_moves:
                events.append(
                    {
                        "event_type": "call_task",
                        "date": run_date,
                        "move_id": move.id,
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "level_id": message.level_id.id,
                        "message_id": message.id,
                        "currency_id": move.currency_id.id,
                        "amount_residual": move.amount_residual,
                        "days_overdue": message.get_days_overdue(move)
                        + (run_date - message.date).days,
                        "user_id": user.id,
                        "note": text,
                    }
                )
        self.env["dunning.engine"]._create_activities(activities)
        self.env["dunning.event"].create(events)
        stats["call_tasks"] += len(activities)
        stats["activities"] += len(activities)
