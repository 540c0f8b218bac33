from odoo import api, fields, models
from odoo.exceptions import ValidationError

COMMISSION_POSTINGS = [
    ("bill", "Vendor bill to the agency"),
    ("entry", "Journal entry"),
]


class ResCompany(models.Model):
    """How the commission of a collection agency or law firm is booked (issue 14, agency)."""

    _inherit = "res.company"

    dunning_commission_posting = fields.Selection(
        COMMISSION_POSTINGS,
        string="Agency Commission Posted As",
        default="bill",
        required=True,
        help="When the lines of an agency or legal case are paid while it is open, the "
        "commission on what was recovered is posted: as a vendor bill to the agency, or as a "
        "journal entry (expense against the agency's payable account).",
    )
    dunning_commission_account_id = fields.Many2one(
        "account.account",
        string="Agency Commission Expense Account",
        check_company=True,
        help="Expense account of the agencies' and law firms' commissions.",
    )
    dunning_commission_journal_id = fields.Many2one(
        "account.journal",
        string="Agency Commission Journal",
        check_company=True,
        help="Journal of the commission bills (a purchase journal) or entries (a "
        "miscellaneous journal). Empty: the company's first journal of that type.",
    )

    @api.constrains(
        "dunning_commission_posting",
        "dunning_commission_journal_id",
        "dunning_commission_account_id",
    )
    def _check_dunning_commission_journal(self):
        for company in self:
            account = company.dunning_commission_account_id
            if account and account.internal_group != "expense":
                raise ValidationError(
                    self.env._(
                        "Agency Commission Expense Account: %(account)s is not an expense "
                        "account. Choose an expense account.",
                        account=account.display_name,
                    )
                )
            journal = company.dunning_commission_journal_id
            if not journal:
                continue
            wanted = "purchase" if company.dunning_commission_posting == "bill" else "general"
            if journal.type != wanted:
                raise ValidationError(
                    self.env._(
                        "Agency Commission Journal: %(journal)s is not a %(type)s journal. "
                        "Choose a purchase journal for vendor bills, a miscellaneous journal "
                        "for journal entries.",
                        journal=journal.display_name,
                        type=self.env._("purchase")
                        if wanted == "purchase"
                        else self.env._("miscellaneous"),
                    )
                )

    def _dunning_commission_journal(self):
        """The journal commissions of this company are posted in."""
        self.ensure_one()
        if self.dunning_commission_journal_id:
            return self.dunning_commission_journal_id
        wanted = "purchase" if self.dunning_commission_posting == "bill" else "general"
        return self.env["account.journal"].search(
            [*self.env["account.journal"]._check_company_domain(self), ("type", "=", wanted)],
            limit=1,
        )
