from odoo import models


def _flatten_plan(lines, plan):
    """Every line of a reconciliation plan (recordsets nested in lists or tuples, as
    ``account.move.line._reconcile_plan`` takes them; empty items skipped)."""
    ids = []
    stack = [plan]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif item:
            ids.extend(item.ids)
    return lines.browse(dict.fromkeys(ids))


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def _reconcile_plan(self, reconciliation_plan):
        """Lines matched (payment register, outstanding credit, bank statement, a bulk plan)
        re-evaluate their customers in their company: holds their lines no longer call for,
        tasks of the stages paid, their worklist rows."""
        result = super()._reconcile_plan(reconciliation_plan)
        lines = _flatten_plan(self.browse(), reconciliation_plan)
        if not self.env.context.get("dunning_run_id"):
            self.env["dunning.message"]._dunning_mark_paid(lines)
        lines._dunning_reevaluate_paid()
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
        pairs = {
            (line.partner_id.commercial_partner_id.id, line.company_id.id) for line in receivable
        } & known
        if pairs:
            # sudo: the queue is the system's; it holds only these lines' customers and
            # companies
            self.env["dunning.reevaluate.queue"].sudo()._reevaluate_paid(pairs)


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def unlink(self):
        """A payment unmatched (Unreconcile on the invoice's payment widget, or Unreconcile on
        the lines): the customer's row and holds show the lines open again."""
        lines = self.debit_move_id | self.credit_move_id
        result = super().unlink()
        lines.exists()._dunning_reevaluate_paid()
        return result
