from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _mail_get_operation_for_mail_message_operation(self, message_operation):
        """Collectors post messages and log notes on the customers they chase, without the
        right to edit customer data (Odoo asks for write access to post on a contact). This
        also enables the chatter's Send message / Log note buttons (``canPostOnReadonly``).

        Only on customers dunned in the user's companies (a dunning line there): other
        contacts, employees and users keep Odoo's rule."""
        result = super()._mail_get_operation_for_mail_message_operation(message_operation)
        if message_operation != "create" or not self.env.user.has_group(
            "dunning_b2b.group_dunning_user"
        ):
            return result
        customers = self._get_dunned_customers()
        return {
            partner: "read" if mode == "write" and partner in customers else mode
            for partner, mode in result.items()
        }

    def _get_dunned_customers(self):
        """The partners of ``self`` that are customers with dunning lines in the user's
        companies, as the user may read them."""
        if not self:
            return self
        groups = self.env["dunning.line"]._read_group(
            [
                ("partner_id", "in", self.ids),
                ("company_id", "in", self.env.companies.ids),
            ],
            ["partner_id"],
        )
        return self.browse([partner.id for (partner,) in groups])
