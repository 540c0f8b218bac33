from odoo import fields, models

from ..models.dunning_dispute import DISPUTE_OUTCOMES


class DunningDisputeClose(models.TransientModel):
    """Resolve or reject a dispute, with what was decided."""

    _name = "dunning.dispute.close"
    _description = "Resolve or Reject a Dispute"

    dispute_id = fields.Many2one("dunning.dispute", required=True, ondelete="cascade")
    decision = fields.Selection(
        [("resolve", "Resolve"), ("reject", "Reject")], required=True, default="resolve"
    )
    outcome = fields.Selection(
        [item for item in DISPUTE_OUTCOMES if item[0] != "rejected"], default="credit_note"
    )
    note = fields.Text(string="Resolution", required=True)

    def action_confirm(self):
        self.ensure_one()
        self.dispute_id._close(self.decision, self.outcome, self.note)
        return {"type": "ir.actions.act_window_close"}
