from odoo import fields, models


class DunningResolutionCommission(models.Model):
    """The commission posted for one payment collected on an agency or legal case: what the
    payment recovered on the case's lines (company currency), the rate and the posted bill
    or entry. Written by the system only; a payment's recovery is never commissioned twice
    (issue 14, agency)."""

    _name = "dunning.resolution.commission"
    _description = "Final Resolution Commission"
    _order = "date desc, id desc"
    _check_company_auto = True

    resolution_id = fields.Many2one(
        "dunning.resolution",
        string="Case",
        required=True,
        index=True,
        readonly=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    agency_id = fields.Many2one("res.partner", string="Agency / Law Firm", readonly=True)
    date = fields.Date(required=True, readonly=True)
    payment_line_id = fields.Many2one(
        "account.move.line",
        required=True,
        index=True,
        readonly=True,
        ondelete="restrict",
        help="The line of the payment (or bank statement line) that paid the case's lines.",
    )
    payment_move_id = fields.Many2one(
        related="payment_line_id.move_id", string="Payment", store=True
    )
    amount_base = fields.Monetary(
        string="Recovered",
        readonly=True,
        help="What this payment recovered on the case's lines since the last commission on "
        "it, in the company's currency.",
    )
    rate = fields.Float(string="Rate (%)", digits=(5, 2), readonly=True)
    amount = fields.Monetary(string="Commission", readonly=True)
    move_id = fields.Many2one(
        "account.move", string="Posted As", readonly=True, ondelete="restrict", index=True
    )
