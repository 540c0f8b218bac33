import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import format_date, html2plaintext
from odoo.tools.mail import email_normalize, unfold_references

from ..engine import is_automatic_reply, reply_pause_until
from .dunning_promise import dunning_today

_logger = logging.getLogger(__name__)

# Characters of a reply quoted in the notes on the invoices.
QUOTE_LENGTH = 1500


class DunningReply(models.Model):
    """A customer's reply to a reminder email, received through the mail gateway.

    Odoo files the reply in the customer's chatter (it answers the reminder posted there);
    this record is what collections make of it: the invoices the reminder listed get a note,
    the collector a task, and the customer's automatic reminders in the reminder's company
    pause until ``pause_until`` (read by ``account.move._get_dunning_pause_reasons``). Written
    by the system only; automatic replies (out of office) make none.
    """

    _name = "dunning.reply"
    _description = "Customer Reply to a Reminder"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda s: s.env.company
    )
    message_id = fields.Many2one(
        "dunning.message",
        string="Reminder",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        check_company=True,
    )
    mail_message_id = fields.Many2one(
        "mail.message", string="Reply", ondelete="set null", readonly=True
    )
    date = fields.Datetime(string="Received", required=True, readonly=True)
    reply_date = fields.Date(string="Received On", required=True, readonly=True, index=True)
    pause_until = fields.Date(
        string="Reminders Paused Until",
        readonly=True,
        help="The customer's automatic reminders in this company are paused through this "
        "day (the policy's Pause after a Reply); empty: no pause.",
    )
    email_from = fields.Char(string="From", readonly=True)
    subject = fields.Char(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "Customer replies are recorded by the mail gateway when a customer answers "
                    "a reminder; they cannot be created by hand."
                )
            )
        return super().create(vals_list)

    # ------------------------------------------------------------------ gateway
    @api.model
    def _process_email(self, email_message, msg_dict):
        """An email the gateway just filed: when it answers a dunning reminder and a person
        wrote it, record the reply and act on it (see the class). Automatic replies and
        emails answering anything else are left to Odoo.

        :param email_message: the raw ``email.message.EmailMessage``, headers included
        :param msg_dict: what ``mail.thread.message_parse`` read from it
        """
        reminder = self._find_reminder(msg_dict)
        if not reminder:
            return self.browse()
        subject = msg_dict.get("subject") or ""
        headers = {}
        for name in set(email_message.keys()):
            headers[name] = [str(value) for value in email_message.get_all(name, [])]
        sender = email_normalize(msg_dict.get("email_from") or "") or ""
        if is_automatic_reply(headers, subject, sender):
            _logger.info(
                "Automatic reply %s to dunning message %s: nothing paused",
                msg_dict.get("message_id"),
                reminder.id,
            )
            return self.browse()
        # sudo: the email the gateway just posted, found by its own Message-ID
        reply = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("message_id", "=", msg_dict.get("message_id")),
                    ("model", "=", "res.partner"),
                ],
                limit=1,
            )
        )
        if not reply or (reply.author_id and not reply.author_id.partner_share):
            return self.browse()  # not filed on a customer, or one of us answering
        if not self._is_from_customer(reminder, reply, sender):
            _logger.info(
                "Email %s cites dunning message %s but is not from its customer: nothing paused",
                msg_dict.get("message_id"),
                reminder.id,
            )
            return self.browse()
        return self._record_reply(reminder, reply)

    @api.model
    def _is_from_customer(self, reminder, reply, sender):
        """Whether ``reply`` answers ``reminder`` from its customer: filed on that customer,
        and sent by one of its contacts or from an address the reminder went to. Anyone else
        citing a reminder (a forwarded thread, a stranger) pauses nothing."""
        customer = reminder.partner_id.commercial_partner_id
        # sudo: the customer's own records, to compare with the email just filed
        filed_on = self.env["res.partner"].sudo().browse(reply.res_id).commercial_partner_id
        if filed_on != customer:
            return False
        if reply.author_id and reply.author_id.commercial_partner_id == customer:
            return True
        # sudo: the addresses the reminder was sent to
        recipients = reminder.sudo().recipient_ids.mapped("email_normalized")
        return bool(sender) and sender in recipients

    @api.model
    def _find_reminder(self, msg_dict):
        """The dunning message an email answers: the one whose email is its parent or among
        its references (the latest, should it cite several)."""
        references = unfold_references(msg_dict.get("references") or "")
        references += unfold_references(msg_dict.get("in_reply_to") or "")
        ids = [ref.strip() for ref in references if ref.strip()][-32:]
        domain = Domain.FALSE
        if ids:
            domain |= Domain("mail_message_id.message_id", "in", ids)
        if msg_dict.get("parent_id"):
            domain |= Domain("mail_message_id", "=", msg_dict["parent_id"])
        if domain.is_false():
            return self.env["dunning.message"]
        # sudo: the gateway's user may not read collections; the reminder is found by the
        # Message-ID the customer's email answers, and stays in its own company
        return self.env["dunning.message"].sudo().search(domain, order="id desc", limit=1)

    @api.model
    def _record_reply(self, reminder, reply):
        """Record ``reply`` (a mail.message on the customer) to ``reminder`` and act on it:
        notes on the reminder's invoices, the collector's task, the pause, the event, the
        answered reminders and the customer's worklist row."""
        company = reminder.company_id
        partner = reminder.partner_id.commercial_partner_id
        # sudo: the system records the reply, in the reminder's company
        engine = self.env["dunning.engine"].sudo().with_company(company)
        policy = engine._get_partner_policies(company, partner)[partner.id]
        today = dunning_today(self.env)
        until = reply_pause_until(today, policy.reply_pause_days)
        # sudo: replies are written by the system only, in the reminder's company
        record = (
            self.sudo()
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "message_id": reminder.id,
                    "mail_message_id": reply.id,
                    "date": fields.Datetime.now(),
                    "reply_date": today,
                    "pause_until": until,
                    "email_from": reply.email_from,
                    "subject": reply.subject,
                }
            )
        )
        text = record._get_summary()
        # sudo: the audit trail is the system's, in the reminder's company
        self.env["dunning.event"].sudo()._create_bulk(
            reminder.sudo()._prepare_event_vals("reply", text, self.env.ref("base.user_root"))
        )
        engine._log_notes(
            "account.move",
            {move.id: record._get_invoice_note(reminder) for move in reminder.move_ids},
            reply.author_id or engine._get_author(company),
        )
        record._schedule_task(reminder, text)
        # sudo: the system marks the reminders the customer answered
        self.env["dunning.message"].sudo()._dunning_mark_answered(
            partner, company, "replied", record.date
        )
        self.env["dunning.engine"]._reevaluate(record)
        return record

    def _get_summary(self):
        self.ensure_one()
        if self.pause_until:
            return self.env._(
                "Replied on %(date)s, reminders paused until %(until)s",
                date=format_date(self.env, self.reply_date),
                until=format_date(self.env, self.pause_until),
            )
        return self.env._("Replied on %(date)s", date=format_date(self.env, self.reply_date))

    def _get_invoice_note(self, reminder):
        """The note on an invoice the reminder listed: who replied, to which reminder, the
        reply's text (shortened), its attachments, and a link to the reply."""
        self.ensure_one()
        reply = self.mail_message_id
        text = html2plaintext(reply.body or "").strip()
        if len(text) > QUOTE_LENGTH:
            text = text[:QUOTE_LENGTH].rstrip() + "…"
        note = Markup("<b>%s</b> %s<br/>") % (
            self.env._("Customer replied"),
            self.env._(
                "to the reminder %(stage)s of %(date)s, from %(sender)s.",
                stage=reminder.level_id.name,
                date=format_date(self.env, reminder.date),
                sender=self.email_from or reply.author_id.display_name or "",
            ),
        )
        if text:
            note += Markup("<blockquote>%s</blockquote>") % text
        if reply.attachment_ids:
            note += Markup("%s %s<br/>") % (
                self.env._("Attachments:"),
                Markup(", ").join(
                    Markup('<a href="/web/content/%s?download=true">%s</a>')
                    % (attachment.id, attachment.name)
                    for attachment in reply.attachment_ids
                ),
            )
        note += Markup('<a href="/mail/message/%s">%s</a>') % (
            reply.id,
            self.env._("Open the reply in the customer's chatter"),
        )
        if self.pause_until:
            note += Markup("<br/>%s") % self.env._(
                "Reminders paused until %(until)s.", until=format_date(self.env, self.pause_until)
            )
        return note

    def _schedule_task(self, reminder, text):
        """The collector's task "Customer replied": one open task per customer and company,
        a second reply finds it open and adds none."""
        self.ensure_one()
        company, partner = self.company_id, self.partner_id
        reply_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_reply")
        # sudo: the system's tasks on the customer, in the reminder's company only
        Activity = self.env["mail.activity"].sudo().with_company(company)
        if Activity._dunning_get_partner_tasks(company, partner, reply_type):
            return
        user = reminder.collector_id
        if not user:
            # sudo: who is in charge of the customer in this company
            engine = self.env["dunning.engine"].sudo().with_company(company)
            user = engine._get_collectors(company, partner)[partner.id]
        # sudo: a task on the customer, whoever's email the gateway processes
        partner.sudo().with_company(company).activity_schedule(
            "dunning_b2b.mail_activity_type_dunning_reply",
            summary=self.env._("Customer replied to %(stage)s", stage=reminder.level_id.name),
            note=Markup("<p>%s</p>") % text,
            user_id=(user or self.env.ref("base.user_root")).id,
            dunning_company_id=company.id,
        )

    # ------------------------------------------------------------------ reading
    @api.model
    def _get_last_replies(self, company_ids, partner_ids):
        """The latest reply of each customer in each company.

        :return: dict (partner id, company id) -> dunning.reply
        """
        if not company_ids or not partner_ids:
            return {}
        replies = self.search(
            [("company_id", "in", list(company_ids)), ("partner_id", "in", list(partner_ids))],
            order="date desc, id desc",
        )
        last = {}
        for reply in replies:
            last.setdefault((reply.partner_id.id, reply.company_id.id), reply)
        return last

    def _get_status(self, today):
        """ "Replied on …, reminders paused until …" while the pause lasts, else "Replied on
        …"."""
        self.ensure_one()
        if self.pause_until and self.pause_until >= today:
            return self._get_summary()
        return self.env._("Replied on %(date)s", date=format_date(self.env, self.reply_date))
