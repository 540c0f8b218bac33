from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

from ..engine.charges import RatePeriod, period_problem


class DunningReferenceRate(models.Model):
    """The reference rate of a policy's statutory interest for a period, set per half-year
    (e.g. the ECB's main refinancing rate on 1 January and 1 July, the Bank of England's base
    rate); the annual rate charged is this rate plus the policy's margin."""

    _name = "dunning.reference.rate"
    _description = "Reference Interest Rate"
    _order = "policy_id, date_from, id"
    _check_company_auto = True

    policy_id = fields.Many2one(
        "dunning.policy", required=True, index=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    date_from = fields.Date(string="Valid From", required=True)
    date_to = fields.Date(
        string="Valid Until", help="Leave empty on the latest rate: until changed."
    )
    rate = fields.Float(string="Reference Rate (%)", digits=(16, 4), required=True)

    @api.constrains("date_from", "date_to", "rate", "policy_id")
    def _check_periods(self):
        for rate in self:
            if rate.rate < 0:
                raise ValidationError(
                    self.env._(
                        "Reference Rate (%%): %(rate)s on %(policy)s is negative. Enter 0 or more.",
                        rate=rate.rate,
                        policy=rate.policy_id.display_name,
                    )
                )
        if self.env.context.get("dunning_charge_tables_checked_by_policy"):
            return  # saved from the policy's form: checked once all its rows are written
        for policy in self.policy_id:
            self._check_table(policy)

    def _check_table(self, policy):
        rows = policy.charge_rate_ids.sorted(lambda r: (r.date_from, r.id))
        problem = period_problem([RatePeriod(r.date_from, r.date_to or None, r.rate) for r in rows])
        if not problem:
            return
        first = rows[problem.first]
        second = rows[problem.second] if problem.second is not None else rows.browse()
        day = lambda value: format_date(self.env, value)  # noqa: E731
        texts = {
            "order": self.env._(
                "Valid Until: the rate from %(start)s ends on %(end)s, before it starts. Enter an "
                "end after the start.",
                start=day(first.date_from),
                end=day(first.date_to),
            ),
            "open": self.env._(
                "Valid Until: only the latest rate may be left without an end; enter the end of "
                "the rate from %(start)s (the day before %(next)s).",
                start=day(first.date_from),
                next=day(second.date_from),
            ),
            "overlap": self.env._(
                "Valid From: the rates overlap. The rate from %(start)s must start on the day "
                "after %(end)s, the end of the rate before it.",
                start=day(second.date_from),
                end=day(first.date_to),
            ),
            "gap": self.env._(
                "Valid From: there is a gap between the rates. The rate from %(start)s must "
                "start on the day after %(end)s, the end of the rate before it.",
                start=day(second.date_from),
                end=day(first.date_to),
            ),
        }
        raise ValidationError(
            self.env._(
                "Reference rates of %(policy)s: %(problem)s",
                policy=policy.display_name,
                problem=texts[problem.kind],
            )
        )
