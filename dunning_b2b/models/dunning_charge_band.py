from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine.charges import Band, band_problem


class DunningChargeBand(models.Model):
    """A row of a policy's fixed compensation table: invoices of this currency from
    ``amount_from`` up to ``amount_to`` owe ``fee`` once (EU 2011/7/EU: 40 EUR from 0; UK:
    40 / 70 / 100 GBP below 1,000.00, up to 9,999.99, from 10,000.00)."""

    _name = "dunning.charge.band"
    _description = "Late-Payment Compensation Band"
    _order = "policy_id, currency_id, amount_from, id"
    _check_company_auto = True

    policy_id = fields.Many2one(
        "dunning.policy", required=True, index=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
        help="The bands apply to invoices in this currency; the fee is in it too.",
    )
    amount_from = fields.Monetary(
        string="Invoice Amount From", required=True, help="Invoice total, held in the band."
    )
    amount_to = fields.Monetary(
        string="Invoice Amount To",
        help="Invoice total, held in the band. Leave empty (0) on the last band: no upper limit.",
    )
    fee = fields.Monetary(string="Compensation", required=True)

    @api.constrains("amount_from", "amount_to", "fee", "currency_id", "policy_id")
    def _check_bands(self):
        for band in self:
            if band.amount_from < 0 or band.amount_to < 0 or band.fee < 0:
                raise ValidationError(
                    self.env._(
                        "Compensation bands of %(policy)s: Invoice Amount From, Invoice Amount "
                        "To and Compensation cannot be negative. Enter 0 or more.",
                        policy=band.policy_id.display_name,
                    )
                )
        if self.env.context.get("dunning_charge_tables_checked_by_policy"):
            return  # saved from the policy's form: checked once all its rows are written
        for policy in self.policy_id:
            self._check_tables(policy)

    def _check_tables(self, policy):
        for currency in policy.charge_band_ids.currency_id:
            self._check_table(policy, currency)

    def _check_table(self, policy, currency):
        rows = policy.charge_band_ids.filtered(lambda b: b.currency_id == currency).sorted(
            lambda b: (b.amount_from, b.id)
        )
        problem = band_problem(
            [Band(row.amount_from, row.amount_to or None, row.fee) for row in rows],
            currency.rounding,
        )
        if not problem:
            return
        first = rows[problem.first]
        second = rows[problem.second] if problem.second is not None else rows.browse()
        fmt = currency.format
        texts = {
            "order": self.env._(
                "Invoice Amount To: %(to)s is below Invoice Amount From %(start)s. Enter an "
                "end above the start, or leave it empty on the last band.",
                to=fmt(first.amount_to),
                start=fmt(first.amount_from),
            ),
            "start": self.env._(
                "Invoice Amount From: the first band starts at %(start)s; it must start at "
                "%(zero)s so that every invoice has a compensation.",
                start=fmt(first.amount_from),
                zero=fmt(0.0),
            ),
            "open": self.env._(
                "Invoice Amount To: only the last band has no upper limit (empty). Enter the "
                "end of the band from %(start)s, or remove the bands after it.",
                start=fmt(first.amount_from),
            )
            if second
            else self.env._(
                "Invoice Amount To: the last band (from %(start)s) must have no upper limit: "
                "leave it empty, so that larger invoices have a compensation too.",
                start=fmt(first.amount_from),
            ),
            "overlap": self.env._(
                "Invoice Amount From: the bands overlap. The band from %(start)s must start "
                "at %(expected)s, just above the end of the band before it (%(end)s).",
                start=fmt(second.amount_from),
                expected=fmt(first.amount_to + currency.rounding),
                end=fmt(first.amount_to),
            ),
            "gap": self.env._(
                "Invoice Amount From: there is a gap between the bands. The band from "
                "%(start)s must start at %(expected)s, just above the end of the band before "
                "it (%(end)s).",
                start=fmt(second.amount_from),
                expected=fmt(first.amount_to + currency.rounding),
                end=fmt(first.amount_to),
            ),
        }
        raise ValidationError(
            self.env._(
                "Compensation bands of %(policy)s in %(currency)s: %(problem)s",
                policy=policy.display_name,
                currency=currency.name,
                problem=texts[problem.kind],
            )
        )
