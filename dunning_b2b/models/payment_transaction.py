from odoo import fields, models

from .dunning_promise import dunning_today


class PaymentTransaction(models.Model):
    """A payment from the buyer's page asks for the selected invoices less the customer's
    open credits: once paid, those credits are matched with the invoices too, so that the
    invoices are settled by the payment and the credits together."""

    _inherit = "payment.transaction"

    dunning_credit_line_ids = fields.Many2many(
        "account.move.line",
        "payment_transaction_dunning_credit_rel",
        "transaction_id",
        "line_id",
        string="Credits Applied",
        readonly=True,
        help="The customer's open credits the buyer's page netted from the amount paid.",
    )
    dunning_portal = fields.Boolean(
        string="From the Customer Page", readonly=True, help="Paid on the buyer's page."
    )

    def _create_payment(self, **extra_create_values):
        payment = super()._create_payment(**extra_create_values)
        credits = self.dunning_credit_line_ids.filtered(lambda line: not line.reconciled)
        invoices = self.invoice_ids.filtered(lambda move: move.state == "posted")
        if credits and invoices:
            account = payment.destination_account_id
            (credits + invoices.line_ids).filtered(
                lambda line: line.account_id == account and not line.reconciled
            ).reconcile()
        if self.dunning_portal and invoices:
            self._dunning_log_payment(invoices)
        return payment

    def _dunning_log_payment(self, invoices):
        """The payment made on the buyer's page, in the audit trail of each invoice it paid
        and told to the collector."""
        company = invoices.company_id[:1]
        partner = invoices.commercial_partner_id[:1]
        note = self.env._(
            "Paid online on the customer page: %(amount)s (%(reference)s).",
            amount=self.currency_id.format(self.amount),
            reference=self.reference,
        )
        # sudo: the audit trail of the invoices this transaction paid, in their company
        self.env["dunning.event"].sudo()._create_bulk(
            [
                {
                    "date": dunning_today(self.env),
                    "event_type": "online_payment",
                    "move_id": invoice.id,
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "currency_id": invoice.currency_id.id,
                    "amount_residual": invoice.amount_residual,
                    "user_id": self.env.user.id,
                    "note": note,
                }
                for invoice in invoices
            ]
        )
        self.env["dunning.portal"]._notify_collector(partner, company, note)
