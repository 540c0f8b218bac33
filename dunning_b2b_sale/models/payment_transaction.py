from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _check_amount_and_confirm_order(self):
        # An online payment confirms the order on the customer's behalf: a held customer's
        # order is then stopped and people are told instead of raising in the payment flow.
        confirmed = super(
            PaymentTransaction, self.with_context(dunning_b2b_online_confirmation=True)
        )._check_amount_and_confirm_order()
        return confirmed.filtered(lambda order: order.state == "sale")
