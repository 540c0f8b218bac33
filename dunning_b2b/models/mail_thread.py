import logging

from odoo import api, models

_logger = logging.getLogger(__name__)


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        """Once the gateway filed an incoming email (a reply to a reminder lands in the
        customer's chatter), collections act on replies to dunning reminders: see
        ``dunning.reply``. The raw email is read here for its headers (automatic replies)."""
        thread_id = super()._message_route_process(message, message_dict, routes)
        if any(route[0] == "res.partner" for route in routes or ()):
            try:
                with self.env.cr.savepoint():
                    self.env["dunning.reply"]._process_email(message, message_dict)
            except Exception:  # the email stays filed; the collector reads it in the chatter
                _logger.exception(
                    "Dunning: reply %s could not be recorded", message_dict.get("message_id")
                )
        return thread_id
