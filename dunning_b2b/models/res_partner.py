from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain

SEGMENTS = [
    ("low_small", "Low risk, small exposure"),
    ("low_large", "Low risk, large exposure"),
    ("medium_small", "Medium risk, small exposure"),
    ("medium_large", "Medium risk, large exposure"),
    ("high_small", "High risk, small exposure"),
    ("high_large", "High risk, large exposure"),
]

DUNNING_USER_FIELDS = {"dunning_collector_id"}
DUNNING_MANAGER_FIELDS = {"dunning_segment", "dunning_segment_pinned", "dunning_policy_id"}


class ResPartner(models.Model):
    _inherit = "res.partner"

    dunning_policy_id = fields.Many2one(
        "dunning.policy",
        company_dependent=True,
        help="Ladder for this customer in the current company. Empty: the company's default.",
    )
    dunning_collector_id = fields.Many2one(
        "res.users",
        string="Collector",
        company_dependent=True,
        help="Who chases this customer's invoices in the current company; tasks of the "
        "dunning run go to this person.",
    )
    dunning_segment = fields.Selection(
        SEGMENTS,
        string="Collections Segment",
        company_dependent=True,
        help="Risk and exposure class of the customer in the current company, computed by "
        "the daily job unless pinned.",
    )
    dunning_segment_pinned = fields.Boolean(
        string="Segment Pinned",
        company_dependent=True,
        help="Set by hand: the daily job keeps this segment and no longer recomputes it.",
    )
    dunning_worklist_id = fields.Many2one(
        "dunning.worklist",
        string="Collections Figures",
        compute="_compute_dunning_worklist_id",
        help="What the daily job computed for this customer in the current company.",
    )
    dunning_level_id = fields.Many2one(
        "dunning.level",
        string="Dunning Stage",
        compute="_compute_dunning_stats",
        search="_search_dunning_level_id",
        help="Highest stage among the customer's open invoices in the current company.",
    )
    dunning_overdue_amount = fields.Monetary(
        string="Overdue",
        compute="_compute_dunning_stats",
        currency_field="dunning_currency_id",
        help="Overdue open invoices, in the company's currency.",
    )
    dunning_currency_id = fields.Many2one("res.currency", compute="_compute_dunning_stats")
    dunning_open_count = fields.Integer(string="Open Invoices", compute="_compute_dunning_stats")
    dunning_event_count = fields.Integer(compute="_compute_dunning_event_count")

    def _compute_dunning_stats(self):
        company = self.env.company
        commercial = self.commercial_partner_id
        today = fields.Date.context_today(self)
        rows = self.env["account.move"]._read_group(
            self._get_dunning_open_domain(commercial, company),
            ["commercial_partner_id", "dunning_level_id"],
            ["__count"],
        )
        levels, counts = {}, {}
        for partner, level, count in rows:
            counts[partner.id] = counts.get(partner.id, 0) + count
            if level and (
                partner.id not in levels or level.day_offset > levels[partner.id].day_offset
            ):
                levels[partner.id] = level
        overdue = dict(
            self.env["account.move"]._read_group(
                self._get_dunning_open_domain(commercial, company)
                & Domain("invoice_date_due", "<", today),
                ["commercial_partner_id"],
                ["amount_residual_signed:sum"],
            )
        )
        for partner in self:
            key = partner.commercial_partner_id
            partner.dunning_level_id = levels.get(key.id, False)
            partner.dunning_open_count = counts.get(key.id, 0)
            partner.dunning_overdue_amount = overdue.get(key, 0.0)
            partner.dunning_currency_id = company.currency_id

    def _compute_dunning_worklist_id(self):
        rows = self.env["dunning.worklist"].search(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ]
        )
        by_partner = {row.partner_id.id: row for row in rows}
        for partner in self:
            partner.dunning_worklist_id = by_partner.get(partner.commercial_partner_id.id, False)

    def _search_dunning_level_id(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        moves = self.env["account.move"]._search(
            self._get_dunning_open_domain(None, self.env.company)
            & Domain("dunning_level_id", "in", value)
        )
        domain = Domain("id", "in", moves.subselect("commercial_partner_id"))
        return domain if operator == "in" else ~domain

    def _compute_dunning_event_count(self):
        counts = dict(
            self.env["dunning.event"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.dunning_event_count = counts.get(partner.commercial_partner_id, 0)

    @api.model
    def _get_dunning_open_domain(self, partners, company):
        """Open customer invoices the ladder works on, optionally for some customers."""
        domain = Domain(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("company_id", "=", company.id),
            ]
        )
        if partners is not None:
            domain &= Domain("commercial_partner_id", "in", partners.ids)
        return domain

    def write(self, vals):
        if self.env.context.get("dunning_from_job"):
            return super().write(vals)
        if vals and not self.env.su and set(vals) <= DUNNING_USER_FIELDS | DUNNING_MANAGER_FIELDS:
            # Collections people set these fields without the right to edit contacts:
            # collectors assign collectors, managers pin segments and choose ladders.
            group = (
                "dunning_b2b.group_dunning_manager"
                if set(vals) & DUNNING_MANAGER_FIELDS
                else "dunning_b2b.group_dunning_user"
            )
            if self.env.user.has_group(group):
                self.check_access("read")
                return self.sudo().write(vals)
        if "dunning_segment" in vals and "dunning_segment_pinned" not in vals:
            # A segment chosen by hand stays: the daily job does not overwrite it.
            vals = dict(vals, dunning_segment_pinned=bool(vals["dunning_segment"]))
        if "dunning_collector_id" in vals:
            changed = self.filtered(
                lambda p: p.dunning_collector_id.id != (vals["dunning_collector_id"] or False)
            )
            res = super().write(vals)
            changed._dunning_log_collector()
            return res
        return super().write(vals)

    def _dunning_log_collector(self):
        """Audit and mirror a collector change in the current company."""
        if not self:
            return
        company = self.env.company
        rows = (
            self.env["dunning.worklist"]
            .sudo()
            .search([("partner_id", "in", self.ids), ("company_id", "=", company.id)])
        )
        for row in rows:
            partner = row.partner_id.with_company(company)
            row.collector_id = partner.dunning_collector_id or company.dunning_collector_id
        self.env["dunning.event"].sudo().create(
            [
                {
                    "event_type": "collector",
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "user_id": self.env.uid,
                    "note": self.env._(
                        "Collector: %(user)s",
                        user=partner.dunning_collector_id.name or self.env._("none"),
                    ),
                }
                for partner in self
            ]
        )

    @api.constrains("dunning_policy_id")
    def _check_dunning_policy_id(self):
        company = self.env.company
        for partner in self:
            policy = partner.dunning_policy_id
            if policy and policy.company_id != company:
                raise ValidationError(
                    self.env._(
                        "Dunning Policy: %(policy)s belongs to %(other)s; %(partner)s can only "
                        "use a policy of %(company)s here.",
                        policy=policy.display_name,
                        other=policy.company_id.name,
                        partner=partner.display_name,
                        company=company.name,
                    )
                )

    def action_view_dunning_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("dunning_b2b.dunning_event_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def action_dunning_run(self):
        """Server action "Run dunning now" on selected customers."""
        return self.env["dunning.engine"]._action_run(partners=self.commercial_partner_id)
