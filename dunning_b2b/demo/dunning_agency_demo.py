from odoo import api, models


class DunningEngine(models.AbstractModel):
    _inherit = "dunning.engine"

    @api.model
    def _demo_agency_settings(self):
        """Demo data: the main company books agency commissions as vendor bills on its
        default expense account (issue 14, agency)."""
        company = self.env.ref("base.main_company")
        if company.dunning_commission_account_id:
            return
        account = company.expense_account_id or self.env["account.account"].search(
            [
                *self.env["account.account"]._check_company_domain(company),
                ("account_type", "=", "expense"),
            ],
            limit=1,
        )
        company.dunning_commission_account_id = account
