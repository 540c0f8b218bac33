from odoo import fields, models


class DunningWorklistAssign(models.TransientModel):
    """Give the selected customers of the worklist a collector in their company."""

    _name = "dunning.worklist.assign"
    _description = "Assign a Collector"

    worklist_ids = fields.Many2many("dunning.worklist", string="Customers", required=True)
    collector_id = fields.Many2one("res.users", required=True, domain=[("share", "=", False)])

    def action_assign(self):
        self.ensure_one()
        self.worklist_ids._check_collector()
        for company in self.worklist_ids.company_id:
            rows = self.worklist_ids.filtered(lambda r, c=company: r.company_id == c)
            # sudo: collectors may not edit customers; the collector of the rows' company only
            rows.partner_id.sudo().with_company(company).write(
                {"dunning_collector_id": self.collector_id.id}
            )
        return {"type": "ir.actions.act_window_close"}
