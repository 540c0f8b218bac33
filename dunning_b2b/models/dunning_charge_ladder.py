from odoo import api, models


class DunningCharge(models.Model):
    """The ladder's part: charges invoiced automatically from the stage a policy chooses."""

    _inherit = "dunning.charge"

    @api.model
    def _charge_from_ladder(self, company, run_date, user, stats):
        """Daily step: lines that reached the stage a policy invoices charges at (or a later
        one) since their last charge are charged; key accounts get the charges waived."""
        policies = self.env["dunning.policy"].search(
            [("company_id", "=", company.id), ("charge_auto_level_id", "!=", False)]
        )
        levels = self.env["dunning.level"]
        for policy in policies:
            offset = policy.charge_auto_level_id.day_offset
            levels |= policy.level_ids.filtered(lambda lvl, o=offset: lvl.day_offset >= o)
        if not levels:
            return
        states = self.env["dunning.line"].search(
            [("company_id", "=", company.id), ("level_id", "in", levels.ids),
             ("is_open", "=", True)]
        )  # fmt: skip
        last = dict(
            # sudo: the last charge of each of the company's lines, for the engine's step
            self.sudo()._read_group(
                [("move_line_id", "in", states.move_line_id.ids)], ["move_line_id"], ["date:max"]
            )
        )
        todo = states.filtered(
            lambda s: (
                not last.get(s.move_line_id) or last[s.move_line_id] < (s.level_date or run_date)
            )
        ).move_line_id
        if not todo:
            return
        charges = self._charge(
            company, run_date, todo.partner_id.commercial_partner_id, lines=todo,
            waive_key_accounts=True,
        )  # fmt: skip
        stats["charges"] = stats.get("charges", 0) + len(charges)
