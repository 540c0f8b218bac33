from odoo import fields, models


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
