from markupsafe import Markup

from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(
        self, success_pids, success_emails, failure_reason=False, failure_type=None
    ):
        # While it sends, mail.mail._send marks the notifications "exception" for a moment
        # (against concurrent bounces); only what is left failed once a send attempt ends
        # is a failure. Read the notifications first: an auto-deleted mail takes its link.
        notifications = self.env["mail.notification"]
        # sudo: the reminders these very mails carry, whoever processes the mail queue
        reminders = (
            self.env["dunning.message"]
            .sudo()
            .search(
                [
                    ("mail_message_id", "in", self.mail_message_id.ids),
                    ("date_delivered", "=", False),
                ]
            )
            if self.mail_message_id
            else self.env["dunning.message"]
        )
        if failure_type:
            # sudo: the notifications of these very mails, whoever processes the mail queue
            notifications = notifications.sudo().search(
                [("mail_mail_id", "in", self.ids), ("notification_type", "=", "email")]
            )
        res = super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type
        )
        # Delivered: the server took it for at least one recipient.
        if reminders and (not failure_type or success_pids or success_emails):
            reminders._dunning_mark_delivered()
        failed = notifications.exists().filtered(lambda n: n.notification_status == "exception")
        if failed:
            failed._dunning_report_failures()
        return res


class MailNotification(models.Model):
    _inherit = "mail.notification"

    def write(self, vals):
        res = super().write(vals)
        # A bounce comes back through the mail gateway, after delivery.
        if vals.get("notification_status") == "bounce":
            self._dunning_report_failures()
        return res

    def _dunning_report_failures(self):
        """A dunning email that bounced or could not be sent is said on the invoices, in the
        audit trail and as a task for the collector, never left looking "queued"."""
        # sudo: the dunning messages of these notifications only, whoever processes the queue
        messages = (
            self.env["dunning.message"]
            .sudo()
            .search([("mail_message_id", "in", self.mail_message_id.ids)])
        )
        # sudo: notes on the message's invoices, in the message's company
        engine = self.env["dunning.engine"].sudo()
        for message in messages:
            failed = self.filtered(lambda n, m=message: n.mail_message_id == m.mail_message_id)
            text = self.env._(
                "Email not delivered to %(recipients)s: %(reason)s",
                recipients=", ".join(
                    failed.mapped(lambda n: n.res_partner_id.email or n.mail_email_address or "")
                ),
                reason=", ".join(
                    {n.failure_reason or n.failure_type or n.notification_status for n in failed}
                ),
            )
            # sudo: the audit trail is written by the system only, in the message's company
            self.env["dunning.event"].sudo()._create_bulk(
                message._prepare_event_vals("delivery_failed", text)
            )
            engine._log_notes(
                "account.move",
                {move.id: Markup("%s") % text for move in message.move_ids},
                engine._get_author(message.company_id),
            )
            # sudo: a task for the collector on the customer, whoever processes the queue
            message.partner_id.sudo().activity_schedule(
                "dunning_b2b.mail_activity_type_dunning_todo",
                summary=self.env._("%(stage)s: email not delivered", stage=message.level_id.name),
                note=Markup("<p>%s</p>") % text,
                user_id=(message.collector_id or self.env.user).id,
            )
