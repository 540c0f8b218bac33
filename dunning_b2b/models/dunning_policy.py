from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..engine import Stage


class DunningPolicy(models.Model):
    _name = "dunning.policy"
    _description = "Dunning Policy"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    level_ids = fields.One2many("dunning.level", "policy_id", string="Stages", copy=True)
    level_count = fields.Integer(compute="_compute_level_count", string="Number of Stages")
    description = fields.Text(translate=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    minimum_amount = fields.Monetary(
        currency_field="currency_id",
        default=5.0,
        help="Tolerance, in the company's currency: a customer whose net amount due (open "
        "credits taken off) is below it is not dunned, and an item whose open amount is "
        "below it is not listed (a few cents left after a payment are never chased).",
    )

    reply_pause_days = fields.Integer(
        string="Pause after a Reply (days)",
        default=5,
        help="When a customer replies to a reminder email (a person, not an out-of-office "
        "message), its automatic reminders in this company pause for this many days after "
        "the reply, so that the collector can answer first. 0: no pause.",
    )

    _name_company_uniq = models.Constraint(
        "UNIQUE(name, company_id)",
        "A dunning policy with this name already exists in this company.",
    )

    @api.depends("level_ids")
    def _compute_level_count(self):
        for policy in self:
            policy.level_count = len(policy.level_ids)

    @api.constrains("minimum_amount")
    def _check_minimum_amount(self):
        for policy in self:
            if policy.minimum_amount < 0:
                raise ValidationError(
                    self.env._(
                        "Minimum Amount: %(amount)s on policy %(policy)s is negative. Enter 0 "
                        "or more.",
                        amount=policy.minimum_amount,
                        policy=policy.display_name,
                    )
                )

    @api.constrains("reply_pause_days")
    def _check_reply_pause_days(self):
        for policy in self:
            if policy.reply_pause_days < 0:
                raise ValidationError(
                    self.env._(
                        "Pause after a Reply: %(days)s days on policy %(policy)s is negative. "
                        "Enter 0 (no pause) or more days.",
                        days=policy.reply_pause_days,
                        policy=policy.display_name,
                    )
                )

    @api.constrains("company_id")
    def _check_company_id(self):
        for policy in self:
            # sudo: companies the user cannot read that use it as default block it too
            defaults = (
                self.env["res.company"].sudo().search([("dunning_policy_id", "=", policy.id)])
            )
            if defaults - policy.company_id:
                raise ValidationError(
                    self.env._(
                        "Company: policy %(policy)s is the default of %(companies)s and cannot "
                        "move to %(company)s. Choose another default policy for those "
                        "companies first.",
                        policy=policy.display_name,
                        companies=", ".join((defaults - policy.company_id).mapped("name")),
                        company=policy.company_id.name,
                    )
                )

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        if "name" not in (default or {}):
            for policy, vals in zip(self, vals_list, strict=True):
                vals["name"] = self.env._("%(name)s (copy)", name=policy.name)
        return vals_list

    def _get_stages(self):
        """The policy's active stages as engine values, ordered by their day offset."""
        self.ensure_one()
        return [
            Stage(level.id, level.day_offset)
            for level in self.level_ids.sorted(lambda lvl: (lvl.day_offset, lvl.id))
        ]
