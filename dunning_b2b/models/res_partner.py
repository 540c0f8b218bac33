from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Domain

from ..engine import is_key_account, kept_ratio, normalize_phone, revenue_share
from ..engine.worklist import customer_figures

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
        help="Highest stage among the customer's open receivable lines in the current company.",
    )
    dunning_overdue_amount = fields.Monetary(
        string="Overdue",
        compute="_compute_dunning_stats",
        currency_field="dunning_currency_id",
        help="Overdue receivable lines less the open credits of the same currency, in the "
        "company's currency.",
    )
    dunning_currency_id = fields.Many2one("res.currency", compute="_compute_dunning_stats")
    dunning_open_count = fields.Integer(
        string="Open Items",
        compute="_compute_dunning_stats",
        help="Open receivable lines: instalments, debit notes, opening balances.",
    )
    dunning_event_count = fields.Integer(compute="_compute_dunning_event_count")
    dunning_promise_count = fields.Integer(
        string="Promises", compute="_compute_dunning_promise_stats"
    )
    dunning_promise_kept_ratio = fields.Float(
        string="Promises Kept (%)",
        compute="_compute_dunning_promise_stats",
        digits=(16, 1),
        help="Kept promises among those kept or broken, in the current company.",
    )
    dunning_promise_broken_count = fields.Integer(
        string="Promises Broken", compute="_compute_dunning_promise_stats"
    )
    dunning_dispute_count = fields.Integer(
        string="Disputes", compute="_compute_dunning_dispute_stats"
    )
    dunning_dispute_open_count = fields.Integer(
        string="Open Disputes", compute="_compute_dunning_dispute_stats"
    )
    dunning_dispute_days_avg = fields.Float(
        string="Days to Resolve a Dispute",
        compute="_compute_dunning_dispute_stats",
        digits=(16, 1),
        help="Average days from opening to resolving or rejecting the customer's disputes.",
    )
    # Credit hold of the customer (commercial partner) in the current company. Sales users
    # read these fields without any right on the holds themselves: computed as superuser.
    credit_hold = fields.Boolean(
        compute="_compute_credit_hold",
        search="_search_credit_hold",
        help="The customer is on credit hold in the current company: new orders need a "
        "collections manager's approval.",
    )
    credit_hold_reason = fields.Char(compute="_compute_credit_hold")
    credit_hold_date = fields.Date(string="Credit Hold Since", compute="_compute_credit_hold")
    credit_hold_user_id = fields.Many2one(
        "res.users", string="Credit Hold Set By", compute="_compute_credit_hold"
    )
    credit_hold_origin = fields.Selection(
        [("stage", "Dunning stage"), ("manager", "Manager"), ("credit_limit", "Credit limit")],
        compute="_compute_credit_hold",
    )
    credit_hold_level_id = fields.Many2one(
        "dunning.level", string="Credit Hold Stage", compute="_compute_credit_hold"
    )
    credit_hold_banner = fields.Char(compute="_compute_credit_hold")
    credit_hold_proposed = fields.Boolean(
        string="Credit Hold To Decide", compute="_compute_credit_hold"
    )
    dunning_key_account = fields.Boolean(
        string="Key Account",
        company_dependent=True,
        help="Flag by hand: a hold on this customer is always a manager's decision. Customers "
        "above the company's revenue share threshold are key accounts anyway.",
    )
    dunning_revenue_share = fields.Float(
        string="Revenue Share (%)",
        compute="_compute_dunning_revenue_share",
        digits=(16, 1),
        help="Share of the company's invoiced revenue over the last 12 months.",
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

    @api.depends_context("company", "lang")
    def _compute_credit_hold(self):
        company = self.env.company
        commercial_ids = [pid for pid in self.commercial_partner_id.ids if pid]
        # sudo: the banner is for every internal user who can see the customer (sales users
        # have no access to collections records); only these display fields leave the sudo.
        holds = (
            self.env["dunning.credit.hold"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", commercial_ids),
                    ("company_id", "=", company.id),
                    ("state", "in", ("proposed", "active")),
                ]
            )
        )
        by_partner = {hold.partner_id.id: hold for hold in holds}
        for partner in self:
            hold = by_partner.get(partner.commercial_partner_id.id)
            active = bool(hold) and hold.state == "active"
            partner.credit_hold = active
            partner.credit_hold_proposed = bool(hold) and hold.state == "proposed"
            partner.credit_hold_reason = hold.reason if active else False
            partner.credit_hold_date = hold.date_start if active else False
            partner.credit_hold_user_id = hold.user_id.sudo(False) if active else False
            partner.credit_hold_origin = hold.origin if active else False
            partner.credit_hold_level_id = (
                hold.level_id.sudo(False) if active and hold.level_id else False
            )
            partner.credit_hold_banner = hold._get_banner() if active else False

    def _search_credit_hold(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        # sudo: see _compute_credit_hold
        holds = (
            self.env["dunning.credit.hold"]
            .sudo()
            ._search([("company_id", "=", self.env.company.id), ("state", "=", "active")])
        )
        held = Domain("commercial_partner_id", "in", holds.subselect("partner_id"))
        positive = (operator == "in") == (True in value)
        return held if positive else ~held

    @api.depends_context("company")
    def _compute_dunning_revenue_share(self):
        keys = self.commercial_partner_id._get_dunning_key_accounts(
            self.env.company, fields.Date.context_today(self)
        )
        for partner in self:
            share = keys.get(partner.commercial_partner_id.id, (0.0, False))[0]
            partner.dunning_revenue_share = share * 100

    def _get_dunning_key_accounts(self, company, date):
        """Share of ``company``'s invoiced revenue over the 12 months up to ``date`` and
        key-account status of each commercial partner of ``self``.

        :return: dict partner id -> (share 0..1, is key account)
        """
        partners = self.commercial_partner_id.filtered("id")
        # sudo: revenue figures feed a decision the ladder takes, whoever reads them.
        Move = self.env["account.move"].sudo()
        domain = Domain(
            [
                ("company_id", "=", company.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("invoice_date", ">", date - relativedelta(months=12)),
                ("invoice_date", "<=", date),
            ]
        )
        [(total,)] = Move._read_group(domain, [], ["amount_untaxed_signed:sum"])
        revenue = dict(
            Move._read_group(
                domain & Domain("commercial_partner_id", "in", partners.ids),
                ["commercial_partner_id"],
                ["amount_untaxed_signed:sum"],
            )
        )
        threshold = company.dunning_key_account_threshold
        result = {}
        for partner in partners.with_company(company):
            share = revenue_share(revenue.get(partner, 0.0), total)
            result[partner.id] = (
                share,
                is_key_account(share, threshold, partner.sudo().dunning_key_account),
            )
        return result

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
        # The engine's state of the customers' open receivable lines in the current company.
        states = self.env["dunning.line"]._search(
            [
                ("company_id", "=", self.env.company.id),
                ("level_id", "in", list(value)),
                ("is_open", "=", True),
            ]
        )
        domain = Domain("id", "in", states.subselect("partner_id"))
        return domain if operator == "in" else ~domain

    def _compute_dunning_event_count(self):
        counts = dict(
            self.env["dunning.event"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.dunning_event_count = counts.get(partner.commercial_partner_id, 0)

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

    def _check_credit_hold_manager(self):
        if not self.env.user.has_group("dunning_b2b.group_dunning_manager"):
            raise AccessError(
                self.env._(
                    "Only a collections manager can put a customer on credit hold or lift a "
                    "hold. Ask a user with Collections / Manager access."
                )
            )

    def action_credit_hold_set(self):
        self.ensure_one()
        self._check_credit_hold_manager()
        return self._open_credit_hold_decision("set")

    def action_credit_hold_lift(self):
        self.ensure_one()
        self._check_credit_hold_manager()
        return self._open_credit_hold_decision("lift")

    def action_view_credit_holds(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "dunning_b2b.dunning_credit_hold_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def _open_credit_hold_decision(self, decision):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Put on Credit Hold")
            if decision == "set"
            else self.env._("Lift Credit Hold"),
            "res_model": "dunning.credit.hold.decide",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_partner_id": self.commercial_partner_id.id,
                "default_decision": decision,
            },
        }

    def action_dunning_run(self):
        """Server action "Run dunning now" on selected customers."""
        return self.env["dunning.engine"]._action_run(partners=self.commercial_partner_id)

    def action_dunning_log_call(self):
        return self.commercial_partner_id[:1]._dunning_call_log_action("call")

    def action_dunning_log_response(self):
        return self.commercial_partner_id[:1]._dunning_call_log_action("response")

    def action_view_dunning_promises(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("dunning_b2b.dunning_promise_action")
        action.update(
            domain=[("partner_id", "=", self.commercial_partner_id.id)],
            context={"default_partner_id": self.commercial_partner_id.id},
        )
        return action

    def action_view_dunning_disputes(self):
        self.ensure_one()
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
