from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _mail_get_operation_for_mail_message_operation(self, message_operation):
        """Collectors post messages and log notes on the customers they can read, without the
        right to edit customer data (Odoo asks for write access to post on a contact). This
        also enables the chatter's Send message / Log note buttons (``canPostOnReadonly``)."""
        result = super()._mail_get_operation_for_mail_message_operation(message_operation)
        if message_operation == "create" and self.env.user.has_group(
            "dunning_b2b.group_dunning_user"
        ):
            return {
                partner: "read" if mode == "write" else mode for partner, mode in result.items()
            }
        return result
