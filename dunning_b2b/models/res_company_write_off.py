from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """Where settlements and write-offs are posted, and from what amount a write-off needs a
    second dunning manager's approval (the bad debt account is ``dunning_bad_debt_account_id``,
    shared with the KPIs)."""

    _inherit = "res.company"

    dunning_write_off_journal_id = fields.Many2one(
        "account.journal",
        string="Write-off Journal",
        domain="[('type', '=', 'general'), ('company_id', '=', id)]",
        help="Journal of the write-off entries of settlements and write-offs. Empty: the "
        "company's miscellaneous journal.",
    )
    dunning_write_off_threshold = fields.Monetary(
        string="Write-off Approval Above",
        currency_field="currency_id",
        help="A write-off of more than this amount (company currency) waits for the approval "
        "of a second dunning manager, not the one who asked. 0: no second approval.",
    )

    def _dunning_get_write_off_journal(self):
        """The journal write-offs are posted in: the configured one, else the company's first
        miscellaneous journal."""
        self.ensure_one()
        return self.dunning_write_off_journal_id or self.env["account.journal"].search(
            [("company_id", "=", self.id), ("type", "=", "general")], order="sequence, id", limit=1
        )

    @api.constrains(
        "dunning_bad_debt_account_id", "dunning_write_off_threshold", "dunning_charge_account_id"
    )
    def _check_write_off_settings(self):
        """Settings that would post a write-off or a charge somewhere else than meant are
        refused (a receivable "bad debt" account only moves the debt)."""
        for company in self:
            account = company.dunning_bad_debt_account_id
            if account and (
                account.account_type not in ("expense", "expense_other")
                or (account.company_ids and company not in account.company_ids)
            ):
                raise ValidationError(
                    self.env._(
                        "Bad Debt Account: %(account)s is no expense account of %(company)s. "
                        "Choose the expense account bad debts are booked to.",
                        account=account.display_name,
                        company=company.name,
                    )
                )
            if company.currency_id.compare_amounts(company.dunning_write_off_threshold, 0) < 0:
                raise ValidationError(
                    self.env._(
                        "Write-off Approval Above: enter 0 (no second approval) or a positive "
                        "amount."
                    )
                )
            income = company.dunning_charge_account_id
            if income and income.account_type not in ("income", "income_other"):
                raise ValidationError(
                    self.env._(
                        "Late-Payment Charge Income Account: %(account)s is no income account. "
                        "Choose the income account of late-payment charges.",
                        account=income.display_name,
                    )
                )
