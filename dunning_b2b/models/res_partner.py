from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Domain

from ..engine import kept_ratio, normalize_phone
from ..engine.worklist import customer_figures
from ..tools import (
    check_collectors,
    check_dunning_rights,
    check_internal_search,
    check_list_access,
    value_changes,
)

SEGMENTS = [
    ("low_small", "Low risk, small exposure"),
    ("low_large", "Low risk, large exposure"),
    ("medium_small", "Medium risk, small exposure"),
    ("medium_large", "Medium risk, large exposure"),
    ("high_small", "High risk, small exposure"),
    ("high_large", "High risk, large exposure"),
]

# Who edits a customer's dunning fields, whatever their right on contacts (Contact Creation
# gives none of them): collectors assign collectors; managers choose the ladder, the key
# account flag and the segment. Every dunning field is read by internal users only
# (``groups``): a portal user or the public reads nothing of their company's collections.
DUNNING_USER_FIELDS = {"dunning_collector_id"}
DUNNING_MANAGER_FIELDS = {
    "dunning_segment",
    "dunning_segment_pinned",
    "dunning_policy_id",
    "dunning_key_account",
    # Its inverse holds or lifts by hand: a manager's decision, without contact rights too.
    "credit_hold",
}


class ResPartner(models.Model):
    _inherit = "res.partner"

    dunning_policy_id = fields.Many2one(
        "dunning.policy",
        company_dependent=True,
        help="Ladder for this customer in the current company. Empty: the company's default.",
        groups="base.group_user",
    )
    dunning_collector_id = fields.Many2one(
        "res.users",
        string="Collector",
        company_dependent=True,
        help="Who chases this customer's invoices in the current company; tasks of the "
        "dunning run go to this person.",
        groups="base.group_user",
    )
    dunning_segment = fields.Selection(
        SEGMENTS,
        string="Collections Segment",
        company_dependent=True,
        help="Risk and exposure class of the customer in the current company, computed by "
        "the daily job unless pinned.",
        groups="base.group_user",
    )
    dunning_segment_pinned = fields.Boolean(
        string="Segment Pinned",
        company_dependent=True,
        help="Set by hand: the daily job keeps this segment and no longer recomputes it.",
        groups="base.group_user",
    )
    dunning_worklist_id = fields.Many2one(
        "dunning.worklist",
        string="Collections Figures",
        compute="_compute_dunning_worklist_id",
        help="What the daily job computed for this customer in the current company.",
        groups="base.group_user",
    )
    dunning_level_id = fields.Many2one(
        "dunning.level",
        string="Dunning Stage",
        compute="_compute_dunning_stats",
        search="_search_dunning_level_id",
        help="Highest stage among the customer's open receivable lines in the current company.",
        groups="base.group_user",
    )
    dunning_overdue_amount = fields.Monetary(
        string="Overdue",
        compute="_compute_dunning_stats",
        currency_field="dunning_currency_id",
        help="Overdue receivable lines less the open credits of the same currency, in the "
        "company's currency.",
        groups="base.group_user",
    )
    dunning_currency_id = fields.Many2one(
        "res.currency", compute="_compute_dunning_stats", groups="base.group_user"
    )
    dunning_open_count = fields.Integer(
        string="Open Items",
        compute="_compute_dunning_stats",
        help="Open receivable lines: instalments, debit notes, opening balances.",
        groups="base.group_user",
    )
    dunning_event_count = fields.Integer(
        compute="_compute_dunning_event_count", groups="base.group_user"
    )
    dunning_promise_count = fields.Integer(
        string="Promises",
        compute="_compute_dunning_promise_stats",
        groups="base.group_user",
    )
    dunning_promise_kept_ratio = fields.Float(
        string="Promises Kept (%)",
        compute="_compute_dunning_promise_stats",
        digits=(16, 1),
        help="Kept promises among those kept or broken, in the current company.",
        groups="base.group_user",
    )
    dunning_promise_broken_count = fields.Integer(
        string="Promises Broken",
        compute="_compute_dunning_promise_stats",
        groups="base.group_user",
    )
    dunning_dispute_count = fields.Integer(
        string="Disputes",
        compute="_compute_dunning_dispute_stats",
        groups="base.group_user",
    )
    dunning_dispute_open_count = fields.Integer(
        string="Open Disputes",
        compute="_compute_dunning_dispute_stats",
        groups="base.group_user",
    )
    dunning_dispute_days_avg = fields.Float(
        string="Days to Resolve a Dispute",
        compute="_compute_dunning_dispute_stats",
        digits=(16, 1),
        help="Average days from opening to resolving or rejecting the customer's disputes.",
        groups="base.group_user",
    )

    @api.depends_context("company")
    def _compute_dunning_stats(self):
        """Stage, open items and net overdue amount of the customers in the current company,
        from their open receivable lines (each instalment on its own due date, the open
        credits of the same currency taken off the overdue amount)."""
        company = self.env.company
        commercial_ids = [pid for pid in self.commercial_partner_id.ids if pid]
        today = fields.Date.context_today(self)
        Line = self.env["dunning.line"]
        figures = (
            customer_figures(
                Line._get_open_items(company, today, commercial_ids),
                today,
                precision=company.currency_id.rounding,
            )
            if commercial_ids
            else {}
        )
        Worklist = self.env["dunning.worklist"]
        levels = (
            Worklist._get_stages(company, today, commercial_ids, Worklist._get_ranks(company))
            if commercial_ids
            else {}
        )
        for partner in self:
            key = partner.commercial_partner_id.id
            open_figures = figures.get(key)
            partner.dunning_level_id = levels.get(key, False)
            partner.dunning_open_count = open_figures.open_count if open_figures else 0
            partner.dunning_overdue_amount = company.currency_id.round(
                open_figures.overdue if open_figures else 0.0
            )
            partner.dunning_currency_id = company.currency_id

    @api.depends_context("company")
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
        check_internal_search(self, "dunning_level_id")
        if operator not in ("in", "not in"):
            return NotImplemented
        # The highest stage of the customers' open lines in the current company, as shown.
        Line = self.env["dunning.line"]
        company_ids = self.env.company.ids
        level_ids = [level_id for level_id in value if level_id]
        domain = Domain.FALSE
        if level_ids:
            domain = Domain(
                "id", "in", Line._get_highest_stage_query("partner_id", level_ids, company_ids)
            )
        if False in value:
            domain |= Domain(
                "id", "not in", Line._get_highest_stage_query("partner_id", None, company_ids)
            )
        return domain if operator == "in" else ~domain

    def _compute_dunning_event_count(self):
        counts = dict(
            self.env["dunning.event"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.dunning_event_count = counts.get(partner.commercial_partner_id, 0)

    @api.depends_context("company")
    def _compute_dunning_promise_stats(self):
        rows = self.env["dunning.promise"]._read_group(
            [
                ("partner_id", "in", self.commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
            ],
            ["partner_id", "state"],
            ["__count"],
        )
        counts = {}
        for partner, state, count in rows:
            counts.setdefault(partner.id, {})[state] = count
        for partner in self:
            states = counts.get(partner.commercial_partner_id.id, {})
            ratio = kept_ratio(states.get("kept", 0), states.get("broken", 0))
            partner.dunning_promise_count = sum(states.values())
            partner.dunning_promise_broken_count = states.get("broken", 0)
            partner.dunning_promise_kept_ratio = ratio or 0.0

    @api.depends_context("company")
    def _compute_dunning_dispute_stats(self):
        domain = [
            ("partner_id", "in", self.commercial_partner_id.ids),
            ("company_id", "=", self.env.company.id),
        ]
        rows = self.env["dunning.dispute"]._read_group(domain, ["partner_id", "state"], ["__count"])
        counts = {}
        for partner, state, count in rows:
            counts.setdefault(partner.id, {})[state] = count
        days = dict(
            self.env["dunning.dispute"]._read_group(
                Domain(domain) & Domain("state", "in", ("resolved", "rejected")),
                ["partner_id"],
                ["resolution_days:avg"],
            )
        )
        for partner in self:
            key = partner.commercial_partner_id
            states = counts.get(key.id, {})
            partner.dunning_dispute_count = sum(states.values())
            partner.dunning_dispute_open_count = states.get("open", 0)
            partner.dunning_dispute_days_avg = days.get(key, 0.0)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            names = DUNNING_USER_FIELDS | DUNNING_MANAGER_FIELDS
            defaults = {name for name in names if self.env.context.get(f"default_{name}")}
            for vals in vals_list:
                self._check_dunning_field_rights(defaults | {n for n in names if vals.get(n)})
        return super().create(vals_list)

    def write(self, vals):
        if self.env.su and self.env.context.get("dunning_from_job"):
            return super().write(vals)
        dunning = set(vals) & (DUNNING_USER_FIELDS | DUNNING_MANAGER_FIELDS)
        if dunning and not self.env.su:
            changed = {name for name in dunning if value_changes(self, name, vals[name])}
            self._check_dunning_field_rights(changed)
            if set(vals) == dunning:
                if not changed:
                    return True
                # Collections people set these fields without the right to edit contacts.
                self.check_access("read")
                # sudo: the user's right on these fields was checked just above.
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

    @api.model
    def _check_dunning_field_rights(self, names):
        """Refuse ``names`` (dunning fields) to a user outside the collections groups that
        DESIGN.md gives them to, naming the group."""
        if self.env.su:
            return
        for group, fields_of_group, who in (
            (
                "dunning_b2b.group_dunning_manager",
                DUNNING_MANAGER_FIELDS,
                self.env._("Collections / Manager"),
            ),
            (
                "dunning_b2b.group_dunning_user",
                DUNNING_USER_FIELDS,
                self.env._("Collections / Collector or Manager"),
            ),
        ):
            refused = set(names) & fields_of_group
            if refused and not self.env.user.has_group(group):
                labels = sorted(self._fields[n]._description_string(self.env) for n in refused)
                raise AccessError(
                    self.env._(
                        "%(fields)s: only a user with %(group)s access changes this on a "
                        "customer (the right to edit contacts is not enough). Ask one of them.",
                        fields=", ".join(labels),
                        group=who,
                    )
                )

    def _dunning_log_collector(self):
        """Audit and mirror a collector change in the current company."""
        if not self:
            return
        company = self.env.company
        # sudo: the engine's rows of these customers in the current company
        rows = (
            self.env["dunning.worklist"]
            .sudo()
            .search([("partner_id", "in", self.ids), ("company_id", "=", company.id)])
        )
        for row in rows:
            partner = row.partner_id.with_company(company)
            row.collector_id = partner.dunning_collector_id or company.dunning_collector_id
        # sudo: the audit trail is written by the system only, in the current company
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

    @api.constrains("dunning_collector_id")
    def _check_dunning_collector_id(self):
        # The collector of the current company (the field is per company): the write's.
        label = self._fields["dunning_collector_id"]._description_string(self.env)
        check_collectors(self.dunning_collector_id, self.env.company, label)

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
        check_list_access(self, "dunning.event")
        action = self.env["ir.actions.act_window"]._for_xml_id("dunning_b2b.dunning_event_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def action_dunning_run(self):
        """Server action "Run dunning now" on selected customers."""
        return self.env["dunning.engine"]._action_run(partners=self.commercial_partner_id)

    def action_dunning_log_call(self):
        check_dunning_rights(self)
        return self.commercial_partner_id[:1]._dunning_call_log_action("call")

    def action_dunning_log_response(self):
        check_dunning_rights(self)
        return self.commercial_partner_id[:1]._dunning_call_log_action("response")

    def action_view_dunning_promises(self):
        self.ensure_one()
        check_list_access(self, "dunning.promise")
        action = self.env["ir.actions.act_window"]._for_xml_id("dunning_b2b.dunning_promise_action")
        action.update(
            domain=[("partner_id", "=", self.commercial_partner_id.id)],
            context={"default_partner_id": self.commercial_partner_id.id},
        )
        return action

    def action_view_dunning_disputes(self):
        self.ensure_one()
        check_list_access(self, "dunning.dispute")
        action = self.env["ir.actions.act_window"]._for_xml_id("dunning_b2b.dunning_dispute_action")
        action.update(domain=[("partner_id", "=", self.commercial_partner_id.id)], context={})
        return action

    def _dunning_call_log_action(self, kind, moves=None):
        """The "Log a call" / "Log a response" dialog for this customer (and ``moves``)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log a Call") if kind == "call" else self.env._("Log a Response"),
            "res_model": "dunning.call.log",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_partner_id": self.id,
                # The call is logged in the invoices' company (else the current one).
                "default_company_id": (moves.company_id[:1] if moves else self.env.company).id,
                "default_kind": kind,
                "default_move_ids": (moves or self.env["account.move"]).ids,
            },
        }

    def _dunning_get_phone(self):
        """The customer's number read in its country: a :class:`PhoneNumber`."""
        self.ensure_one()
        contact = self if self.phone else self.commercial_partner_id
        country = contact.country_id or self.commercial_partner_id.country_id
        return normalize_phone(contact.phone, country.code)

    def _dunning_phone_note(self):
        """A click-to-call line for a task, or a sentence saying why there is none."""
        self.ensure_one()
        phone = self._dunning_get_phone()
        if phone.valid:
            return Markup('<p>%s <a href="tel:%s">%s</a></p>') % (
                self.env._("Call %(customer)s:", customer=self.name),
                phone.e164,
                phone.international,
            )
        if phone.raw:
            return Markup("<p>%s</p>") % self.env._(
                'The phone number "%(number)s" of %(customer)s could not be read as a phone '
                "number: check it on the customer.",
                number=phone.raw,
                customer=self.name,
            )
        return Markup("<p>%s</p>") % self.env._(
            "%(customer)s has no phone number: add one on the customer.", customer=self.name
        )
