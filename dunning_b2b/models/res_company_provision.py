from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class ResCompany(models.Model):
    """The company's settings of the provision for doubtful debts (Settings > Collections >
    Doubtful debt provisions)."""

    _inherit = "res.company"

    dunning_provision_allowance_account_id = fields.Many2one(
        "account.account",
        string="Provision Allowance Account",
        help="Balance sheet account (contra-receivable) credited with the allowance for "
        "doubtful debts, e.g. 'Allowance for doubtful accounts'.",
    )
    dunning_provision_expense_account_id = fields.Many2one(
        "account.account",
        string="Provision Expense Account",
        help="Expense account debited when a provision is booked and credited when it is "
        "released, e.g. 'Bad debt expense' or 'Provision for doubtful debts'.",
    )
    dunning_provision_journal_id = fields.Many2one(
        "account.journal",
        string="Provision Journal",
        help="Journal of the monthly provision entries. Empty: the company's first "
        "miscellaneous journal.",
    )
    dunning_provision_age_days = fields.Integer(
        string="Provide From (days overdue)",
        help="Lines this many days past due are provided for at the age percentage, whatever "
        "their stage. 0: only the stages' percentages apply.",
    )
    dunning_provision_age_percent = fields.Float(
        string="Provision at That Age (%)",
        help="Percentage of the open amount provided for lines past the age above.",
    )
    dunning_provision_proposed_month = fields.Char(
        readonly=True,
        groups="base.group_system",
        help="The last month (YYYY-MM) whose booking the daily run proposed to the "
        "collections manager.",
    )

    @api.constrains("dunning_provision_age_days", "dunning_provision_age_percent")
    def _check_dunning_provision_age(self):
        for company in self:
            if company.dunning_provision_age_days < 0:
                raise ValidationError(
                    self.env._(
                        "Provide From (days overdue): %(days)s is negative. Enter 0 for no age "
                        "rule, or the number of days past due.",
                        days=company.dunning_provision_age_days,
                    )
                )
            if not 0.0 <= company.dunning_provision_age_percent <= 100.0:
                raise ValidationError(
                    self.env._(
                        "Provision at That Age (%%): %(percent)s is out of range. Enter a "
                        "percentage between 0 and 100.",
                        percent=company.dunning_provision_age_percent,
                    )
                )

    @api.constrains(
        "dunning_provision_allowance_account_id",
        "dunning_provision_expense_account_id",
        "dunning_provision_journal_id",
    )
    def _check_dunning_provision_accounts(self):
        for company in self:
            allowance = company.dunning_provision_allowance_account_id
            expense = company.dunning_provision_expense_account_id
            journal = company.dunning_provision_journal_id
            if allowance and allowance.internal_group not in ("asset", "liability"):
                raise ValidationError(
                    self.env._(
                        "Provision Allowance Account: %(account)s is not a balance sheet "
                        "account. Choose the allowance (contra-receivable) account.",
                        account=allowance.display_name,
                    )
                )
            if allowance and allowance.account_type in ("asset_receivable", "liability_payable"):
                raise ValidationError(
                    self.env._(
                        "Provision Allowance Account: %(account)s is a receivable or payable "
                        "account. Choose a separate allowance account.",
                        account=allowance.display_name,
                    )
                )
            if expense and expense.internal_group != "expense":
                raise ValidationError(
                    self.env._(
                        "Provision Expense Account: %(account)s is not an expense account. "
                        "Choose the bad debt or provision expense account.",
                        account=expense.display_name,
                    )
                )
            if journal and (journal.type != "general" or journal.company_id != company):
                raise ValidationError(
                    self.env._(
                        "Provision Journal: %(journal)s is not a miscellaneous journal of "
                        "%(company)s. Choose one, or leave it empty.",
                        journal=journal.display_name,
                        company=company.name,
                    )
                )

    def _dunning_get_provision_settings(self):
        """(allowance account, expense account, journal) of the company, or an error naming
        the setting that is missing."""
        self.ensure_one()
        missing = []
        if not self.dunning_provision_allowance_account_id:
            missing.append(self.env._("Provision Allowance Account"))
        if not self.dunning_provision_expense_account_id:
            missing.append(self.env._("Provision Expense Account"))
        journal = self.dunning_provision_journal_id or self.env["account.journal"].search(
            [*self.env["account.journal"]._check_company_domain(self), ("type", "=", "general")],
            limit=1,
        )
        if not journal:
            missing.append(self.env._("Provision Journal"))
        if missing:
            raise UserError(
                self.env._(
                    "%(settings)s: not set for %(company)s, so no provision can be booked. Set "
                    "it in Settings > Collections > Doubtful debt provisions.",
                    settings=", ".join(missing),
                    company=self.name,
                )
            )
        return (
            self.dunning_provision_allowance_account_id,
            self.dunning_provision_expense_account_id,
            journal,
        )
