from odoo import models

from .account_move_line import _flatten_plan
from .dunning_resolution_agency import AGENCY_TYPES


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def _reconcile_plan(self, reconciliation_plan):
        """A payment matched with the lines of an open agency or legal case posts the firm's
        commission on what it recovered (issue 14, agency)."""
        result = super()._reconcile_plan(reconciliation_plan)
        lines = _flatten_plan(self.browse(), reconciliation_plan).filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        if lines:
            # sudo: whoever registers a payment posts the firm's commission, as the system,
            # for the cases of the lines' own companies
            cases = (
                self.env["dunning.resolution"]
                .sudo()
                .search(
                    [
                        ("state", "=", "open"),
                        ("resolution_type", "in", AGENCY_TYPES),
                        ("company_id", "in", lines.company_id.ids),
                        ("line_ids", "in", lines.ids),
                    ]
                )
            )
            cases._post_commissions(raise_errors=False)
        return result
