from odoo import fields, models


class DunningCreditHold(models.Model):
    """A hold set when a customer's receivables are written off: lifted by a manager only
    (the daily run lifts stage and credit-limit holds, not this one)."""

    _inherit = "dunning.credit.hold"

    origin = fields.Selection(
        selection_add=[("write_off", "Written off")], ondelete={"write_off": "set default"}
    )
