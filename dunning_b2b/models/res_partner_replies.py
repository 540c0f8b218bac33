from odoo import api, fields, models
from odoo.tools import format_date

from .dunning_promise import dunning_today


class ResPartner(models.Model):
    """What the customer's form shows of its answers in the current company: its last reply
    to a reminder (and the pause it set off), and the fate of its last reminder."""

    _inherit = "res.partner"

    dunning_reply_status = fields.Char(
        string="Last Reply",
        compute="_compute_dunning_reply_status",
        groups="base.group_user",
        help="The customer's last reply to a reminder in this company, and until when it "
        "pauses the automatic reminders.",
    )
    dunning_reminder_status = fields.Char(
        string="Last Reminder",
        compute="_compute_dunning_reply_status",
        groups="base.group_user",
        help="The last reminder sent in this company: delivered, opened, answered.",
    )

    @api.depends_context("company", "lang", "tz")
    def _compute_dunning_reply_status(self):
        company = self.env.company
        customers = self.commercial_partner_id
        # sudo: a line of text about the customer's own reminders and replies in the current
        # company, shown to internal users who may not read collections records
        replies = (
            self.env["dunning.reply"].sudo()._get_last_replies({company.id}, set(customers.ids))
        )
        reminders = (
            self.env["dunning.message"].sudo()._get_last_sent({company.id}, set(customers.ids))
        )
        today = dunning_today(self.env)
        for partner in self:
            key = (partner.commercial_partner_id.id, company.id)
            reply = replies.get(key)
            message = reminders.get(key)
            partner.dunning_reply_status = reply._get_status(today) if reply else False
            partner.dunning_reminder_status = (
                f"{message.level_id.name} ({format_date(self.env, message.date)}): "
                f"{message.tracking_status}"
                if message
                else False
            )
