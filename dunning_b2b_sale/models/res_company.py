from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    dunning_hold_sale_policy = fields.Selection(
        [
            ("block", "Block"),
            ("approval", "Require approval"),
            ("prepayment", "Allow with prepayment"),
        ],
        string="Orders of Held Customers",
        default="approval",
        required=True,
        help="Block: no order of a customer on credit hold is confirmed. Require approval: a "
        "collections manager approves each order. Allow with prepayment: the order is "
        "confirmed once a down payment is registered.",
    )
