import logging
import re

from markupsafe import Markup

from odoo import Command, api, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html_normalize

from ..tools import check_state_create, check_state_write
from .dunning_promise import dunning_today

_logger = logging.getLogger(__name__)


def _compact(html):
    return re.sub(r"[\s;]", "", str(html or ""))


class DunningMessage(models.Model):
    """Sending a message: review, rendering in the customer's language, the outgoing mail
    written in bulk, the stage's letter attached, and the audit trail of what was sent."""

    _inherit = "dunning.message"

    @api.model
    def _get_guarded_fields(self):
        """Whether and when a message went out: written by the run and the buttons only."""
        how = self.env._("use the Send or Cancel button.")
        return dict.fromkeys(("state", "date", "mail_message_id"), how)

    @api.model
    def _get_locked_fields(self):
        """What a message announces, to whom it belongs: set when it is prepared."""
        how = self.env._(
            "it is set when the message is prepared (Run dunning now, or Send stage message "
            "on the worklist); Cancel this message and send the stage message again."
        )
        names = ("partner_id", "company_id", "level_id", "line_ids", "move_ids", "collector_id")
        return dict.fromkeys(names, how)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "Dunning messages are prepared by the dunning run (Run dunning now) or by "
                    "the worklist's Send stage message button, not created by hand: use one "
                    "of them."
                )
            )
        guarded = self._get_guarded_fields()
        del guarded["date"]  # a new message has its date
        check_state_create(self, vals_list, guarded, {"state": "draft"})
        return super().create(vals_list)

    def write(self, vals):
        check_state_write(self, vals, self._get_guarded_fields() | self._get_locked_fields())
        if "recipient_ids" in vals and not self.env.su and any(m.state != "draft" for m in self):
            raise UserError(
                self.env._(
                    "Recipients: only a message to review can change its recipients; this one "
                    "was sent or cancelled."
                )
            )
        return super().write(vals)

    def action_send(self):
        """Send messages held for review (stages that are not automatic). A message is dated
        the day it is sent: its figures (days overdue, open amounts, credits) are those of
        that day, not of the day it was prepared."""
        if any(message.state != "draft" for message in self):
            raise UserError(self.env._("Only messages to review can be sent."))
        self.check_access("write")
        today = dunning_today(self.env)
        # sudo: the collector's right to send was checked above; the date is the engine's.
        messages = self.sudo()
        messages.filtered(lambda message: message.date != today).date = today
        messages._send(date=today)
        return True

    def action_cancel(self):
        if any(message.state != "draft" for message in self):
            raise UserError(self.env._("Only messages to review can be cancelled."))
        self.check_access("write")
        # sudo: write right checked above; these messages' tasks, state and events as system
        self.sudo().activity_ids.action_feedback(feedback=self.env._("Message cancelled."))
        self.sudo().state = "cancel"
        self.env["dunning.event"].sudo().create(
            self._prepare_event_vals("note", self.env._("Message cancelled."))
        )
        return True

    def _prepare_event_vals(self, event_type, note, user=None, date=None):
        """One event per receivable line the messages announce, with the line's open amount
        and days overdue on the message date.

        :param note: the events' note, or a dict message id -> note
        """
        lines = self._get_lines()
        states = self.env["dunning.line"]._get_states(
            [line_id for message_lines in lines.values() for line_id in message_lines.ids]
        )
        return [
            {
                "event_type": event_type,
                "date": date or dunning_today(self.env),
                "move_id": line.move_id.id,
                "move_line_id": line.id,
                "cycle": states[line.id][3] if line.id in states else None,
                "partner_id": message.partner_id.id,
                "company_id": message.company_id.id,
                "level_id": message.level_id.id,
                "message_id": message.id,
                "currency_id": line.currency_id.id,
                "amount_residual": line.amount_residual_currency,
                "days_overdue": (message.date - line.date_maturity).days
                if line.date_maturity
                else 0,
                "user_id": (user or self.env.user).id,
                "note": note[message.id] if isinstance(note, dict) else note,
            }
            for message in self
            for line in lines[message.id]
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
        # Each email carries a new link to the customer's page (dunning.access).
        rendered, errors = self.with_context(dunning_portal_links=True)._render_emails()
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
        texts = {}
        for message, mail in zip(sent, mails, strict=True):
            message.mail_message_id = mail.mail_message_id
            recipients = ", ".join(message.recipient_ids.mapped("email_formatted"))
            texts[message.id] = self.env._("Sent to %(recipients)s", recipients=recipients)
            for move in message.move_ids:
                logs[move.id] = Markup("%s <b>%s</b><br/>%s") % (
                    self.env._("Dunning email:"),
                    message.level_id.name,
                    texts[message.id],
                )
        events += sent._prepare_event_vals("email", texts, user, date)
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
        self = self.with_context(dunning_render_once=tuple(self.ids))
        try:
            self._render_templates(rendered, errors)
        finally:
            for key in [k for k in self.env.cr.cache if k[:1] == ("dunning_b2b.render_data",)]:
                del self.env.cr.cache[key]
        return rendered, errors

    def _render_templates(self, rendered, errors):
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

    def _create_mails(self, rendered):
        """One chatter message + outgoing mail.mail + notifications per message, in bulk
        (``dunning.bulk._create_mails``).

        Replies go to the collections address of Settings, else the collector; without
        either, to the chatter's default, computed once per sender for the batch. Payment
        QR codes become inline attachments (``_inline_images``). The chatter copy is the
        body as the chatter's sanitizer stores it; the renderer escapes every value, so the
        bodies of one template differ only in text and whether the sanitizer changes them
        is checked once per template and language (a body it would change, with styles or
        unknown tags, is sanitized like ``message_post`` does).
        ``body_html``, the email itself, is what Odoo sends, never sanitized by the chatter's
        rules either.
        """
        senders = {
            message.id: (message._get_email_from(), message.get_contact().id) for message in self
        }
        # Answers go to the collections address of Settings or the collector; without
        # either, to the chatter's default address (the company's catchall).
        reply_to = {message.id: message._get_reply_to() for message in self}
        default = self.filtered(lambda m: not reply_to[m.id])
        for (email_from, author_id), messages in default.grouped(lambda m: senders[m.id]).items():
            # sudo: reply-to addresses of the messages' own customers
            addresses = messages.partner_id.sudo()._notify_get_reply_to(
                default=email_from, author_id=author_id
            )
            reply_to.update({message.id: addresses[message.partner_id.id] for message in messages})
        bodies, chatter_bodies, images = self._inline_images(
            {message.id: rendered[message.id]["body_html"] or "" for message in self}
        )
        Message = self.env["mail.message"]
        body_field = Message._fields["body"]
        clean_templates, chatter = {}, {}
        for message in self:
            key = (message.level_id.mail_template_id.id, message.partner_id.lang)
            body = chatter_bodies[message.id]
            if key not in clean_templates:
                # Compared without spaces and semicolons: the sanitizer rewrites the
                # spacing of style attributes; anything it removes still shows.
                sanitized = body_field.convert_to_cache(body, Message)
                clean_templates[key] = _compact(sanitized) == _compact(html_normalize(body))
            chatter[message.id] = (
                str(body) if clean_templates[key] else body_field.convert_to_cache(body, Message)
            )
        mails = self.env["dunning.bulk"]._create_mails(
            [
                {
                    "model": "res.partner",
                    "res_id": message.partner_id.id,
                    "subject": rendered[message.id]["subject"],
                    "body": chatter[message.id],
                    "body_html": bodies[message.id],
                    "author_id": senders[message.id][1],
                    "email_from": senders[message.id][0],
                    "reply_to": reply_to[message.id],
                    "recipient_ids": message.recipient_ids.ids,
                    "record_company_id": message.company_id.id,
                    "record_alias_domain_id": message.company_id.alias_domain_id.id,
                }
                for message in self
            ]
        )
        for message, mail in zip(self, mails, strict=True):
            if images[message.id]:
                mail.attachment_ids = [Command.link(image.id) for image in images[message.id]]
        self._attach_letters(mails)
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
                mail.attachment_ids = [Command.link(record.id) for record in records]

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
            dunning_letter_message_id=self.id,
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
