from odoo import models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def reconcile(self):
        """A payment registered or matched with a customer's receivable lines (payment
        register, outstanding credit, bank reconciliation) re-evaluates that customer in that
        company at once: holds its lines no longer call for, tasks of the stages paid, its
        worklist row."""
        result = super().reconcile()
        self._dunning_reevaluate_paid()
        return result

    def remove_move_reconcile(self):
        """A payment unmatched: the customer's row and holds show the lines open again."""
        lines = self.matched_debit_ids.debit_move_id | self.matched_credit_ids.credit_move_id
        result = super().remove_move_reconcile()
        (self | lines)._dunning_reevaluate_paid()
        return result

    def _dunning_reevaluate_paid(self):
        """Re-evaluate the customers of the receivable lines among ``self`` (the engine's
        customers only), without the ladder: paying or unmatching moves no line forward."""
        receivable = self.filtered(
            lambda line: line.account_type == "asset_receivable" and line.partner_id
        )
        if not receivable or self.env.context.get("dunning_run_id"):
            return
        # Only customers the engine already placed on a ladder in that company.
        # sudo: whoever reconciles may not read the engine's line states.
        Line = self.env["dunning.line"].sudo()
        known = {
            (partner.id, company.id)
            for partner, company in Line._read_group(
                [
                    ("partner_id", "in", receivable.partner_id.commercial_partner_id.ids),
                    ("company_id", "in", receivable.company_id.ids),
                ],
                ["partner_id", "company_id"],
            )
        }
        lines = receivable.filtered(
            lambda line: (line.partner_id.commercial_partner_id.id, line.company_id.id) in known
        )
        if lines:
            self.env["dunning.engine"]._reevaluate(lines, ladder=False)
