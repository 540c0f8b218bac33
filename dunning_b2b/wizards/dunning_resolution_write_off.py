from odoo import api, fields, models
from odoo.exceptions import UserError


class DunningResolutionWriteOff(models.TransientModel):
    """A dunning manager writes off a customer's open receivable lines: from a write-off
    case (its lines), or from the customer (a write-off case is created for the lines
    chosen). Above the company's threshold the write-off waits for a second manager."""

    _name = "dunning.resolution.write.off"
    _description = "Write Off Receivables"

    resolution_id = fields.Many2one("dunning.resolution", string="Case", readonly=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        compute="_compute_partner_id",
        store=True,
        precompute=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    line_ids = fields.Many2many(
        "account.move.line",
        "dunning_resolution_write_off_line_rel",
        "wizard_id",
        "line_id",
        string="Receivable Lines",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
        precompute=True,
    )
    amount = fields.Monetary(
        string="To Write Off",
        compute="_compute_amount",
        help="What the lines still owe, in the company's currency.",
    )
    needs_approval = fields.Boolean(compute="_compute_amount")
    reason = fields.Char(
        help="Why the lines are written off: in the entry, the case's history and the hold."
    )

    @api.depends("resolution_id")
    def _compute_partner_id(self):
        for wizard in self:
            case = wizard.resolution_id
            if case:
                wizard.partner_id = case.partner_id
                wizard.company_id = case.company_id
            else:
                wizard.partner_id = (
                    wizard.partner_id.commercial_partner_id or self._default_partner()
                )
                wizard.company_id = wizard.company_id or self.env.company

    @api.model
    def _default_partner(self):
        context = self.env.context
        if context.get("active_model") == "res.partner" and context.get("active_id"):
            return self.env["res.partner"].browse(context["active_id"]).commercial_partner_id
        return self.env["res.partner"]

    @api.depends("resolution_id", "partner_id", "company_id")
    def _compute_line_ids(self):
        Resolution = self.env["dunning.resolution"]
        for wizard in self:
            if wizard.resolution_id:
                wizard.line_ids = wizard.resolution_id._get_open_lines()
            elif wizard.partner_id and wizard.company_id:
                wizard.line_ids = self.env["account.move.line"].search(
                    Resolution._get_write_off_lines_domain(
                        wizard.partner_id.commercial_partner_id, wizard.company_id
                    )
                )
            else:
                wizard.line_ids = False

    @api.depends("line_ids", "company_id")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = wizard.currency_id.round(sum(wizard.line_ids.mapped("amount_residual")))
            threshold = wizard.company_id.dunning_write_off_threshold
            wizard.needs_approval = bool(
                threshold > 0 and wizard.currency_id.compare_amounts(wizard.amount, threshold) > 0
            )

    def action_confirm(self):
        """Write off now, or ask a second dunning manager above the threshold; the case is
        shown."""
        self.ensure_one()
        Resolution = self.env["dunning.resolution"]
        Resolution._check_manager()
        Resolution._check_company_write_off_setup(self.company_id)
        if not self.reason or not self.reason.strip():
            raise UserError(self.env._("Reason: say why these lines are written off."))
        case = self.resolution_id
        if case and case.resolution_type != "write_off":
            raise UserError(
                self.env._(
                    "Resolution: %s is not a write-off case. Choose Write-off on the case to "
                    "decide, or write off from the customer.",
                    case.name,
                )
            )
        if not case:
            if not self.line_ids:
                raise UserError(
                    self.env._(
                        "Receivable Lines: %(customer)s has no open line to write off outside "
                        "another open case.",
                        customer=self.partner_id.display_name,
                    )
                )
            case = Resolution.with_company(self.company_id).create(
                {
                    "partner_id": self.partner_id.commercial_partner_id.id,
                    "company_id": self.company_id.id,
                    "resolution_type": "write_off",
                    "line_ids": [fields.Command.set(self.line_ids.ids)],
                }
            )
        case._request_write_off(self.reason)
        return {
            "type": "ir.actions.act_window",
            "res_model": "dunning.resolution",
            "res_id": case.id,
            "view_mode": "form",
            "target": "current",
        }
