from markupsafe import Markup

from odoo import models


class AccountMove(models.Model):
    """A charge invoice cancelled or deleted bills nothing: its charges are released, so
    that those days of interest and that compensation can be charged again (review finding:
    they stayed "invoiced" and were lost)."""

    _inherit = "account.move"

    def button_cancel(self):
        result = super().button_cancel()
        self._dunning_release_charges()
        return result

    def unlink(self):
        self._dunning_release_charges()
        return super().unlink()

    def _dunning_release_charges(self):
        # sudo: the charge records of these very invoices, written by the system only
        charges = (
            self.env["dunning.charge"]
            .sudo()
            .search([("invoice_id", "in", self.ids), ("state", "=", "charged")])
        )
        if not charges:
            return
        events = []
        for invoice, group in charges.grouped("invoice_id").items():
            text = self.env._(
                "Late-payment charges of %(invoice)s released: the invoice was cancelled by "
                "%(user)s; they are due again.",
                invoice=invoice.name or invoice.display_name,
                user=self.env.user.name,
            )
            # sudo: the trail on the customer and the late invoices
            group.partner_id.sudo()._message_log(body=Markup("%s") % text)
            group.move_id.sudo()._message_log_batch(
                dict.fromkeys(group.move_id.ids, Markup("%s") % text)
            )
            events += [
                {
                    "date": charge.date,
                    "event_type": "charge_cancelled",
                    "move_id": charge.move_id.id,
                    "move_line_id": charge.move_line_id.id,
                    "partner_id": charge.partner_id.id,
                    "company_id": charge.company_id.id,
                    "currency_id": charge.currency_id.id,
                    "amount_residual": charge.amount,
                    "user_id": self.env.user.id,
                    "note": text,
                }
                for charge in group
            ]
        # sudo: the audit trail is written by the system only
        self.env["dunning.event"].sudo().create(events)
        charges.unlink()
