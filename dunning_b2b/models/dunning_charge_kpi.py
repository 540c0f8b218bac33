from odoo import api, fields, models


class DunningCharge(models.Model):
    """What late-payment charges bring in: billed, collected and waived, in the company's
    currency, for the collections KPIs (Analysis → Late-Payment Charges)."""

    _inherit = "dunning.charge"

    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    amount_billed = fields.Monetary(
        string="Billed",
        compute="_compute_kpi_amounts",
        store=True,
        currency_field="company_currency_id",
        help="Invoiced to the customer, in the company's currency at the day it was decided.",
    )
    amount_collected = fields.Monetary(
        string="Collected",
        compute="_compute_kpi_amounts",
        store=True,
        currency_field="company_currency_id",
        help="What the customer paid of it: its share of what is paid of the charge invoice.",
    )
    amount_waived = fields.Monetary(
        string="Waived",
        compute="_compute_kpi_amounts",
        store=True,
        currency_field="company_currency_id",
    )

    @api.depends(
        "amount", "state", "currency_id", "date", "invoice_id.amount_residual",
        "invoice_id.amount_total", "invoice_id.state",
    )  # fmt: skip
    def _compute_kpi_amounts(self):
        for charge in self:
            company_currency = charge.company_id.currency_id
            amount = charge.currency_id._convert(
                charge.amount, company_currency, charge.company_id, charge.date
            )
            billed = amount if charge.state == "charged" else 0.0
            invoice = charge.invoice_id
            paid_share = 0.0
            if billed and invoice.state == "posted" and invoice.amount_total:
                paid_share = 1.0 - invoice.amount_residual / invoice.amount_total
            charge.amount_billed = billed
            charge.amount_collected = company_currency.round(billed * paid_share)
            charge.amount_waived = amount if charge.state == "waived" else 0.0
