from datetime import timedelta

from markupsafe import Markup

from odoo import api, models


class DunningProvision(models.Model):
    """The daily run's part: once a month, the collections manager is told when last
    month's provisions are not booked yet and something is to be provided or released."""

    _inherit = "dunning.provision"

    @api.model
    def _propose_booking(self, company, run_date, user, stats):
        """Daily step: on the first run of a month, a note to the company's collections
        manager with what last month's booking would provide and release. Only for a
        company whose provision accounts are set; once a month."""
        month_end = run_date.replace(day=1) - timedelta(days=1)
        month = month_end.strftime("%Y-%m")
        # sudo: the month last proposed is a system field of the company
        if company.sudo().dunning_provision_proposed_month == month or not (
            company.dunning_provision_allowance_account_id
            and company.dunning_provision_expense_account_id
        ):
            return
        # sudo: the engine reads the company's provisions and lines to propose the booking,
        # and marks the month as proposed (a system field of this company)
        Provision = self.sudo().with_company(company)
        company.sudo().dunning_provision_proposed_month = month
        if Provision._get_month_entry(company, month_end):
            return
        changes = Provision._compute_changes(company, month_end)[0]
        manager = company._dunning_get_manager()
        if not changes or not manager:
            return
        currency = company.currency_id
        text = self.env._(
            "Doubtful debt provisions of %(company)s for %(month)s are not booked: "
            "%(increase)s to provide and %(release)s to release on %(count)s line(s). Book "
            "them in Collections > Analysis > Book Provisions (month end %(date)s).",
            company=company.name,
            month=month,
            increase=currency.format(sum(c.change for c in changes if c.change > 0)),
            release=currency.format(-sum(c.change for c in changes if c.change < 0)),
            count=len(changes),
            date=month_end,
        )
        manager.partner_id.message_notify(
            partner_ids=manager.partner_id.ids,
            subject=self.env._("Book the doubtful debt provisions"),
            body=Markup("<p>%s</p>") % text,
        )
        stats["provisions_proposed"] = stats.get("provisions_proposed", 0) + 1
