from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.dunning_promise import dunning_today
from ..tools import check_dunning_rights


class DunningChargeDecide(models.TransientModel):
    """A manager's decision on a customer's late-payment charges: invoice what is due
    (compensation not yet charged, interest since the last charge) or waive it with a
    reason. Waived by default for key accounts."""

    _name = "dunning.charge.decide"
    _description = "Late-Payment Charges Decision"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    line_ids = fields.Many2many(
        "account.move.line",
        string="Receivable Lines",
        help="Charge these lines only (a case's lines). Empty: every overdue line.",
    )
    date = fields.Date(default=lambda self: dunning_today(self.env), readonly=True)
    preview_html = fields.Html(compute="_compute_preview", sanitize=False, string="Due")
    key_account = fields.Boolean(compute="_compute_key_account")
    decision = fields.Selection(
        [("charge", "Invoice the charges"), ("waive", "Waive the charges")],
        compute="_compute_decision",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
    )
    reason = fields.Char(help="Why the charges are waived: kept with them and in the history.")

    @api.depends("partner_id", "company_id")
    def _compute_key_account(self):
        for wizard in self:
            partner = wizard.partner_id.commercial_partner_id
            keys = (
                partner._get_dunning_key_accounts(wizard.company_id, wizard.date) if partner else {}
            )
            wizard.key_account = keys.get(partner.id, (0.0, False))[1]

    @api.depends("partner_id", "company_id")
    def _compute_decision(self):
        for wizard in self:
            wizard.decision = "waive" if wizard.key_account else "charge"

    @api.depends("partner_id", "company_id", "line_ids", "date")
    def _compute_preview(self):
        for wizard in self:
            rows = wizard._get_due()
            if not rows:
                wizard.preview_html = Markup("<p>%s</p>") % self.env._("Nothing is due.")
                continue
            items = Markup("").join(
                Markup("<li>%s: <strong>%s</strong></li>")
                % (
                    self.env["dunning.charge"]._get_charge_label(row),
                    row["currency"].format(row["amount"]),
                )
                for row in rows
            )
            wizard.preview_html = Markup("<ul>%s</ul>") % items

    def _get_due(self):
        self.ensure_one()
        if not self.partner_id or not self.company_id:
            return []
        due = self.env["dunning.charge"]._get_due_charges(
            self.company_id,
            self.date,
            self.partner_id.commercial_partner_id,
            lines=self.line_ids or None,
            strict=False,
        )
        return due.get(self.partner_id.commercial_partner_id.id, [])

    def action_confirm(self):
        self.ensure_one()
        check_dunning_rights(self.partner_id, "manager")
        if self.company_id not in self.env.companies:
            raise UserError(
                self.env._("Company: choose one of the companies you work in, then confirm.")
            )
        charges = self.env["dunning.charge"]._charge(
            self.company_id,
            self.date,
            self.partner_id.commercial_partner_id,
            lines=self.line_ids or None,
            waive=self.decision == "waive",
            reason=self.reason,
        )
        if not charges:
            raise UserError(
                self.env._(
                    "%(customer)s owes no late-payment charges today: everything due was "
                    "already charged or waived.",
                    customer=self.partner_id.display_name,
                )
            )
        # sudo: the invoices just made for this decision, shown if the user may read them
        invoices = charges.sudo().invoice_id
        if invoices and self.env["account.move"].has_access("read"):
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Charge Invoices"),
                "res_model": "account.move",
                "view_mode": "list,form",
                "domain": [("id", "in", invoices.ids)],
            }
        return {"type": "ir.actions.act_window_close"}
