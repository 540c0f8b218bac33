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
            events += group._log_trail("charge_cancelled", text)
        # sudo: the audit trail is written by the system only
        self.env["dunning.event"].sudo().create(events)
        charges.unlink()
