from odoo import fields, models


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

    def _create_payment(self, **extra_create_values):
        payment = super()._create_payment(**extra_create_values)
        credits = self.dunning_credit_line_ids.filtered(lambda line: not line.reconciled)
        invoices = self.invoice_ids.filtered(lambda move: move.state == "posted")
        if credits and invoices:
            account = payment.destination_account_id
            (credits + invoices.line_ids).filtered(
                lambda line: line.account_id == account and not line.reconciled
            ).reconcile()
        return payment
