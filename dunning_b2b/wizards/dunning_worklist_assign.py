from odoo import fields, models

from ..tools import check_collectors


class DunningWorklistAssign(models.TransientModel):
    """Give the selected customers of the worklist a collector in their company."""

    _name = "dunning.worklist.assign"
    _description = "Assign a Collector"

    worklist_ids = fields.Many2many("dunning.worklist", string="Customers", required=True)
    collector_id = fields.Many2one("res.users", required=True, domain=[("share", "=", False)])

    def action_assign(self):
        self.ensure_one()
        self.worklist_ids._check_collector()
        label = self._fields["collector_id"]._description_string(self.env)
        for company in self.worklist_ids.company_id:
            check_collectors(self.collector_id, company, label)
            rows = self.worklist_ids.filtered(lambda r, c=company: r.company_id == c)
            # sudo: collectors may not edit customers; the collector of the rows' company only
            rows.partner_id.sudo().with_company(company).write(
                {"dunning_collector_id": self.collector_id.id}
            )
        return {"type": "ir.actions.act_window_close"}
