from datetime import timedelta

from odoo import api, fields, models

from ..models.dunning_promise import dunning_today
from ..tools import check_dunning_rights


def _last_month_end(today):
    return today.replace(day=1) - timedelta(days=1)


class DunningProvisionBook(models.TransientModel):
    """A dunning manager books the month's provisions for doubtful debts of a company: one
    posted entry for what grew and what was released since the last booking."""

    _name = "dunning.provision.book"
    _description = "Book Doubtful Debt Provisions"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, readonly=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(
        string="Month End",
        required=True,
        default=lambda self: _last_month_end(dunning_today(self.env)),
        help="Date of the entry: the last day of the month booked. One booking a month.",
    )
    amount_increase = fields.Monetary(string="To Provide", compute="_compute_preview")
    amount_release = fields.Monetary(string="To Release", compute="_compute_preview")
    line_count = fields.Integer(string="Lines Changing", compute="_compute_preview")

    @api.depends("company_id", "date")
    def _compute_preview(self):
        for wizard in self:
            wizard.amount_increase = wizard.amount_release = wizard.line_count = 0
            if not wizard.date or not self.env.user.has_group("dunning_b2b.group_dunning_manager"):
                continue
            # sudo: a preview of the booking for the manager (no accounting rights needed)
            Provision = self.env["dunning.provision"].sudo().with_company(wizard.company_id)
            changes = Provision._compute_changes(wizard.company_id, wizard.date)[0]
            wizard.amount_increase = sum(c.change for c in changes if c.change > 0)
            wizard.amount_release = -sum(c.change for c in changes if c.change < 0)
            wizard.line_count = len(changes)

    def action_book(self):
        """Post the month's provision entry and show it."""
        self.ensure_one()
        check_dunning_rights(self, "manager")
        entry = self.env["dunning.provision"]._book(self.company_id, self.date)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "dunning_b2b.dunning_provision_action"
        )
        action["domain"] = [("date", "=", self.date), ("company_id", "=", self.company_id.id)]
        action["context"] = {"search_default_group_partner": 1}
        if entry:
            action["name"] = self.env._("Provisions booked in %s", entry.name)
        return action
