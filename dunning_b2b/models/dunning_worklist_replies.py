from odoo import api, fields, models

from .dunning_promise import dunning_today


class DunningWorklist(models.Model):
    """What the worklist shows of the customer's answers: its last reply (and the pause of
    reminders it set off) and the fate of its last reminder (delivered, opened, answered)."""

    _inherit = "dunning.worklist"

    reply_status = fields.Char(
        string="Reply",
        compute="_compute_reply_status",
        help="The customer's last reply to a reminder, and until when it pauses reminders.",
    )
    reminder_status = fields.Char(
        string="Last Reminder",
        compute="_compute_reminder_status",
        help="The customer's last reminder sent in this company: delivered, opened, answered.",
    )

    @api.depends("partner_id", "company_id")
    @api.depends_context("lang")
    def _compute_reply_status(self):
        replies = self.env["dunning.reply"]._get_last_replies(
            set(self.company_id.ids), set(self.partner_id.ids)
        )
        today = dunning_today(self.env)
        for row in self:
            reply = replies.get((row.partner_id.id, row.company_id.id))
            row.reply_status = reply._get_status(today) if reply else False

    @api.depends("partner_id", "company_id")
    @api.depends_context("lang", "tz")
    def _compute_reminder_status(self):
        last = self.env["dunning.message"]._get_last_sent(
            set(self.company_id.ids), set(self.partner_id.ids)
        )
        for row in self:
            message = last.get((row.partner_id.id, row.company_id.id))
            row.reminder_status = (
                f"{message.level_id.name}: {message.tracking_status}" if message else False
            )
