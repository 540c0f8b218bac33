from datetime import timedelta

from odoo.tests import freeze_time

from .common import RUN_DATE
from .conversations_common import ConversationCommon


class RepliesCommon(ConversationCommon):
    """ConversationCommon with helpers to answer a reminder by email, through Odoo's mail
    gateway (``mail.thread.message_process``), as real RFC 822 messages."""

    def _reply_email(self, message, body, msg_id, subject=None, headers="", sender=None):
        """A raw RFC 822 reply to the email of dunning message ``message``, sent where the
        reminder asked (its Reply-To)."""
        reminder = message.mail_message_id
        sender = sender or f'"{message.partner_id.name}" <{message.partner_id.email}>'
        extra = "".join(f"{line}\n" for line in headers.strip().splitlines()) if headers else ""
        return (
            f"From: {sender}\n"
            f"To: {reminder.reply_to or message.collector_id.email}\n"
            f"Subject: {subject or 'Re: ' + (reminder.subject or '')}\n"
            f"Message-ID: <{msg_id}@acme.test>\n"
            f"In-Reply-To: {reminder.message_id}\n"
            f"References: {reminder.message_id}\n"
            f"Date: Mon, 02 Mar 2026 10:00:00 +0000\n"
            f"{extra}"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n"
            "\n"
            f"{body}\n"
        )

    def _reply_email_with_attachment(self, message, body, msg_id, filename, content):
        """A multipart reply with a text part and an attachment."""
        reminder = message.mail_message_id
        return (
            f'From: "{message.partner_id.name}" <{message.partner_id.email}>\n'
            f"To: {reminder.reply_to or message.collector_id.email}\n"
            f"Subject: Re: {reminder.subject or ''}\n"
            f"Message-ID: <{msg_id}@acme.test>\n"
            f"In-Reply-To: {reminder.message_id}\n"
            f"References: {reminder.message_id}\n"
            "Date: Mon, 02 Mar 2026 10:00:00 +0000\n"
            "MIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="XXBOUNDARYXX"\n'
            "\n"
            "--XXBOUNDARYXX\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "\n"
            f"{body}\n"
            "--XXBOUNDARYXX\n"
            f'Content-Type: text/plain; name="{filename}"\n'
            f'Content-Disposition: attachment; filename="{filename}"\n'
            "\n"
            f"{content}\n"
            "--XXBOUNDARYXX--\n"
        )

    def _receive(self, raw, day=0):
        """The mail gateway receives ``raw`` ``day`` days after RUN_DATE."""
        with freeze_time(RUN_DATE + timedelta(days=day)):
            return self.env["mail.thread"].message_process(False, raw)

    def _reply_tasks(self, partner=None):
        reply_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_reply")
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "=", (partner or self.customer).id),
                    ("activity_type_id", "=", reply_type.id),
                ]
            )
        )

    def _replies(self, partner=None):
        return (
            self.env["dunning.reply"]
            .sudo()
            .search([("partner_id", "=", (partner or self.customer).id)])
        )
