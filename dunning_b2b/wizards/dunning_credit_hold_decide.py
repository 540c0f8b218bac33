from odoo import api, fields, models
from odoo.exceptions import UserError


class DunningCreditHoldDecide(models.TransientModel):
    """A manager's decision on a customer's credit hold: hold by hand, apply or reject a
    proposal, or lift a hold, with the reason that goes to the audit trail."""

    _name = "dunning.credit.hold.decide"
    _description = "Credit Hold Decision"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    hold_id = fields.Many2one("dunning.credit.hold", compute="_compute_hold_id", string="Open Hold")
    decision = fields.Selection(
        [
            ("set", "Put on credit hold"),
            ("apply", "Apply the proposed hold"),
            ("reject", "Reject the proposed hold"),
            ("lift", "Lift the credit hold"),
        ],
        required=True,
        default="set",
    )
    reason = fields.Char(help="Why: recorded in the customer's history and shown in the banner.")

    @api.depends("partner_id")
    @api.depends_context("company")
    def _compute_hold_id(self):
        for wizard in self:
            wizard.hold_id = self.env["dunning.credit.hold"]._get_open(
                wizard.partner_id.commercial_partner_id, self.env.company
            )[:1]

    def action_confirm(self):
        self.ensure_one()
        Hold = self.env["dunning.credit.hold"]
        Hold._check_dunning_manager()
        hold = self.hold_id
        if self.decision == "set":
            Hold._set_by_manager(self.partner_id, self.reason)
        elif self.decision == "lift":
            if not hold or hold.state != "active":
                raise UserError(
                    self.env._(
                        "%(customer)s is not on credit hold.",
                        customer=self.partner_id.display_name,
                    )
                )
            hold._lift_by_manager(self.reason)
        else:
            if not hold or hold.state != "proposed":
                raise UserError(
                    self.env._(
                        "%(customer)s has no credit hold proposal to decide.",
                        customer=self.partner_id.display_name,
                    )
                )
            if self.decision == "apply":
                hold.action_apply()
            else:
                hold.action_reject()
        return {"type": "ir.actions.act_window_close"}
