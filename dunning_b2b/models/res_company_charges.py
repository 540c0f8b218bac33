from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    dunning_charge_product_id = fields.Many2one(
        "product.product",
        string="Late-Payment Charge Product",
        help="The product of the invoices that bill late-payment compensation and interest.",
    )
    dunning_charge_account_id = fields.Many2one(
        "account.account",
        string="Late-Payment Charge Income Account",
        check_company=True,
        domain="[('account_type', 'in', ('income', 'income_other'))]",
        help="The income account of late-payment compensation and interest.",
    )
