from markupsafe import Markup

from odoo import api, models
from odoo.tools import format_date


class DunningDispute(models.Model):
    """The daily check of open disputes: the escalation contact of each dispute past its
    deadline is told, once."""

    _inherit = "dunning.dispute"

    @api.model
    def _check_deadlines(self, company, run_date, user, stats):
        """Daily check: tell the escalation contact of each dispute past its deadline, once."""
        disputes = self.search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "open"),
                ("deadline", "<", run_date),
                ("escalation_date", "=", False),
            ]
        )
        Reason = self.env["dunning.dispute.reason"]
        notified = {}
        for dispute in disputes:
            recipients = Reason._get_escalation_users(company, dispute.reason)
            notified[dispute.id] = recipients
            if not recipients:
                continue
            dispute.message_notify(
                partner_ids=recipients.partner_id.ids,
                subject=self.env._(
                    "Dispute past its deadline: %(dispute)s", dispute=dispute.display_name
                ),
                body=Markup("<p>%s</p>")
                % self.env._(
                    "The %(reason)s dispute of %(customer)s on %(invoice)s (%(amount)s due), "
                    "owned by %(owner)s, was due for resolution on %(deadline)s and is still "
                    "open. The invoice's dunning stays paused until it is resolved.",
                    reason=dispute._reason_label(),
                    customer=dispute.partner_id.name,
                    invoice=dispute.move_id.name,
                    amount=dispute.currency_id.format(dispute.amount_residual),
                    owner=dispute.owner_id.name,
                    deadline=format_date(self.env, dispute.deadline),
                ),
                email_layout_xmlid="mail.mail_notification_light",
            )
        disputes.write({"escalation_date": run_date})
        disputes._log_dunning(
            "dispute_overdue",
            lambda d: self.env._(
                "Dispute past its deadline of %(deadline)s: %(people)s notified.",
                deadline=format_date(self.env, d.deadline),
                people=", ".join(notified[d.id].mapped("name")) or self.env._("nobody"),
            ),
            user=user,
            date=run_date,
        )
        stats["disputes_escalated"] += len(disputes)
