from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine.charges import Band, RatePeriod

TABLES = ("charge_band_ids", "charge_rate_ids")


class DunningPolicy(models.Model):
    """Late-payment charges of a policy: a fixed compensation per invoice from a table by
    currency and invoice amount, and statutory interest at a reference rate (set per
    half-year) plus a margin; shown in reminders from a stage, invoiced by a manager or
    automatically from a stage."""

    _inherit = "dunning.policy"

    charge_compensation = fields.Boolean(
        string="Fixed Compensation",
        help="Each overdue invoice owes once the compensation of its band (EU directive "
        "2011/7/EU: 40 EUR; UK: 40, 70 or 100 GBP by invoice amount).",
    )
    charge_band_ids = fields.One2many(
        "dunning.charge.band", "policy_id", string="Compensation Bands", copy=True
    )
    charge_interest = fields.Boolean(
        string="Statutory Interest",
        help="Interest on the open amount of each overdue line from its due date: reference "
        "rate of the period plus the margin, a year of 365 days.",
    )
    charge_interest_margin = fields.Float(
        string="Interest Margin (%)",
        default=8.0,
        digits=(16, 4),
        help="Added to the reference rate (EU and UK: 8 points).",
    )
    charge_rate_ids = fields.One2many(
        "dunning.reference.rate", "policy_id", string="Reference Rates", copy=True
    )
    charge_show_level_id = fields.Many2one(
        "dunning.level",
        string="Show Charges From",
        domain="[('policy_id', '=', id)]",
        check_company=True,
        help="Reminders and letters of this stage and later ones show the compensation and "
        "the interest accrued to their date. Empty: not shown.",
    )
    charge_auto_level_id = fields.Many2one(
        "dunning.level",
        string="Invoice Charges At",
        domain="[('policy_id', '=', id)]",
        check_company=True,
        help="When a line reaches this stage or a later one, the daily run invoices its "
        "charges (key accounts: recorded as waived). Empty: only when a manager decides.",
    )

    @api.constrains("charge_interest_margin")
    def _check_charge_interest_margin(self):
        for policy in self:
            if not 0 <= policy.charge_interest_margin <= 100:
                raise ValidationError(
                    self.env._(
                        "Interest Margin (%%): %(margin)s on %(policy)s must be between 0 and 100.",
                        margin=policy.charge_interest_margin,
                        policy=policy.display_name,
                    )
                )

    @api.constrains("charge_show_level_id", "charge_auto_level_id")
    def _check_charge_levels(self):
        for policy in self:
            wrong = (policy.charge_show_level_id | policy.charge_auto_level_id).filtered(
                lambda level, p=policy: level.policy_id != p
            )
            if wrong:
                raise ValidationError(
                    self.env._(
                        "Show Charges From / Invoice Charges At: choose a stage of %(policy)s.",
                        policy=policy.display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        if not any(set(TABLES) & set(vals) for vals in vals_list):
            return super().create(vals_list)
        policies = super(
            DunningPolicy, self.with_context(dunning_charge_tables_checked_by_policy=True)
        ).create(vals_list)
        policies.with_context(dunning_charge_tables_checked_by_policy=False)._check_charge_tables()
        return policies.with_env(self.env)

    def write(self, vals):
        if not set(TABLES) & set(vals):
            return super().write(vals)
        # The rows of a table are written one after the other: checked once all are.
        result = super(
            DunningPolicy, self.with_context(dunning_charge_tables_checked_by_policy=True)
        ).write(vals)
        self._check_charge_tables()
        return result

    def _check_charge_tables(self):
        for policy in self:
            self.env["dunning.charge.band"]._check_tables(policy)
            self.env["dunning.reference.rate"]._check_table(policy)

    # ------------------------------------------------------------ values for the engine
    def _get_charge_bands(self, currency):
        """The compensation bands of ``currency`` as engine values, sorted."""
        self.ensure_one()
        rows = self.charge_band_ids.filtered(lambda b: b.currency_id == currency)
        return [
            Band(row.amount_from, row.amount_to or None, row.fee)
            for row in rows.sorted(lambda b: (b.amount_from, b.id))
        ]

    def _get_rate_periods(self):
        """The reference rates as engine values, sorted by date."""
        self.ensure_one()
        return [
            RatePeriod(row.date_from, row.date_to or None, row.rate)
            for row in self.charge_rate_ids.sorted(lambda r: (r.date_from, r.id))
        ]

    def _shows_charges(self, level):
        """Whether a reminder or letter at ``level`` shows the charges."""
        self.ensure_one()
        start = self.charge_show_level_id
        return bool(
            start
            and level
            and (self.charge_compensation or self.charge_interest)
            and level.day_offset >= start.day_offset
        )
