from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_date

from ..tools import check_state_write
from .dunning_promise import dunning_today

OPEN_STATES = ("proposed", "active")


class DunningCreditHold(models.Model):
    """A credit hold of a customer in one company, from its proposal to its lift.

    A customer has at most one open hold (proposed or active) per company; closed holds stay
    as history. ``res.partner.credit_hold`` reads the active one of the current company.
    This file holds the record and what people do with it; what the daily run decides
    (stage rules, credit limits, lifts) is in ``dunning_credit_hold_rules.py``.
    """

    _name = "dunning.credit.hold"
    _inherit = ["mail.thread", "mail.activity.mixin", "dunning.company.check"]
    _description = "Credit Hold"
    _order = "id desc"
    _check_company_auto = True
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        readonly=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    state = fields.Selection(
        [
            ("proposed", "To Decide"),
            ("active", "On Hold"),
            ("lifted", "Lifted"),
            ("rejected", "Rejected"),
            ("withdrawn", "Withdrawn"),
        ],
        string="Status",
        required=True,
        readonly=True,
        default="proposed",
        index=True,
        tracking=True,
    )
    origin = fields.Selection(
        [("stage", "Dunning stage"), ("manager", "Manager"), ("credit_limit", "Credit limit")],
        required=True,
        readonly=True,
        default="manager",
        help="Dunning stage: set or proposed by the ladder, lifted automatically when no "
        "open receivable line is at or beyond that stage any more. Manager: set by hand, "
        "lifted by hand only.",
    )
    level_id = fields.Many2one(
        "dunning.level", string="Stage", readonly=True, ondelete="restrict", check_company=True
    )
    reason = fields.Char(required=True, readonly=True)
    date_proposed = fields.Date(string="Proposed On", readonly=True)
    date_start = fields.Date(string="Held Since", readonly=True, tracking=True)
    date_end = fields.Date(string="Lifted On", readonly=True)
    user_id = fields.Many2one("res.users", string="Set By", readonly=True)
    decided_by_id = fields.Many2one("res.users", readonly=True)
    lift_user_id = fields.Many2one("res.users", string="Lifted By", readonly=True)
    lift_reason = fields.Char(readonly=True)
    key_account = fields.Boolean(
        readonly=True, help="The customer was a key account when the hold was decided."
    )
    revenue_share = fields.Float(
        string="Revenue Share (%)",
        readonly=True,
        digits=(16, 1),
        help="Customer's share of the company's invoiced revenue over the last 12 months.",
    )
    move_ids = fields.Many2many(
        "account.move",
        "dunning_credit_hold_account_move_rel",
        "hold_id",
        "move_id",
        string="Invoices",
        readonly=True,
        help="The invoices whose stage caused the hold.",
    )
    line_ids = fields.Many2many(
        "account.move.line",
        string="Open Lines",
        compute="_compute_line_ids",
        help="What is still open on those invoices: their open receivable lines.",
    )

    _open_once = models.UniqueIndex(
        "(partner_id, company_id) WHERE state IN ('proposed', 'active')",
        "This customer already has an open credit hold or proposal in this company.",
    )

    @api.depends("move_ids.line_ids.reconciled", "move_ids.line_ids.amount_residual")
    def _compute_line_ids(self):
        lines = {}
        for company in self.company_id:
            moves = self.filtered(lambda h, c=company: h.company_id == c).move_ids._origin
            if moves:
                for item in self.env["dunning.line"]._get_open_items(
                    company, move_ids=moves.ids, credits=False
                ):
                    lines.setdefault(item.move_id, []).append(item.line_id)
        for hold in self:
            hold.line_ids = [
                line_id for move in hold.move_ids._origin for line_id in lines.get(move.id, [])
            ]

    # ---------------------------------------------------------------- guards
    @api.model
    def _get_guarded_fields(self):
        """Everything a hold records of its decision: written by the ladder and the
        managers' buttons only, never by a plain write."""
        how = self.env._(
            "use the Apply Hold, Reject or Lift Hold button, or Put on Credit Hold on the customer."
        )
        return dict.fromkeys(
            (
                "partner_id", "company_id", "state", "origin", "level_id", "reason",
                "date_proposed", "date_start", "date_end", "user_id", "decided_by_id",
                "lift_user_id", "lift_reason", "key_account", "revenue_share", "move_ids",
            ),
            how,
        )  # fmt: skip

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "Credit holds are not created by hand: use Put on Credit Hold on the "
                    "customer (a collections manager); the dunning ladder proposes the others."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        check_state_write(self, vals, self._get_guarded_fields())
        return super().write(vals)

    # ---------------------------------------------------------------- access
    def _check_dunning_manager(self):
        """Holds change by the ladder (superuser) or by a dunning manager, nobody else."""
        if self.env.su or self.env.user.has_group("dunning_b2b.group_dunning_manager"):
            return
        raise AccessError(
            self.env._(
                "Only a collections manager can set, decide or lift a credit hold. "
                "Ask a user with Collections / Manager access."
            )
        )

    # --------------------------------------------------------------- actions
    def action_apply(self):
        """A manager applies proposed holds."""
        self._check_dunning_manager()
        proposals = self.filtered(lambda h: h.state == "proposed")
        if proposals != self:
            raise UserError(self.env._("Only proposed credit holds can be applied."))
        # sudo: manager checked; these holds, their events and notes written as the system
        proposals.sudo()._activate(dunning_today(self.env), self.env.user)
        self.env["dunning.engine"]._reevaluate(proposals, ladder=False)
        return True

    def action_reject(self):
        """A manager rejects proposed holds: the customer is not held."""
        self._check_dunning_manager()
        if self.filtered(lambda h: h.state != "proposed"):
            raise UserError(self.env._("Only proposed credit holds can be rejected."))
        today = dunning_today(self.env)
        # sudo: manager checked (holds read as the manager); state, events, tasks as system
        self.sudo().write({"state": "rejected", "date_end": today, "decided_by_id": self.env.uid})
        self.sudo()._log(
            "hold_rejected",
            today,
            self.env.user,
            {
                hold.id: self.env._(
                    "Credit hold proposal rejected by %(user)s.", user=self.env.user.name
                )
                for hold in self
            },
        )
        # sudo: these holds' tasks are closed whoever they are assigned to
        self.sudo()._close_activities(self.env._("Rejected"))
        self.env["dunning.engine"]._reevaluate(self, ladder=False)
        return True

    def action_open_lift(self):
        self._check_dunning_manager()
        return self.partner_id[:1].action_credit_hold_lift()

    # -------------------------------------------------------------- business
    @api.model
    def _set_by_manager(self, partners, reason, date=None):
        """Hold ``partners`` (commercial partners) by hand in the current company."""
        self._check_dunning_manager()
        if not reason or not reason.strip():
            raise UserError(self.env._("Reason: say why the customer is put on credit hold."))
        partners = partners.commercial_partner_id
        date = date or dunning_today(self.env)
        company = self.env.company
        # sudo: manager checked; holds of the current company only
        holds = self.sudo()._get_open(partners, company)
        already = holds.filtered(lambda h: h.state == "active")
        if already:
            raise UserError(
                self.env._(
                    "%(customers)s is already on credit hold.",
                    customers=", ".join(already.partner_id.mapped("display_name")),
                )
            )
        proposals = holds.filtered(lambda h: h.state == "proposed")
        proposals.write({"origin": "manager", "reason": reason.strip(), "level_id": False})
        # sudo: manager checked; holds in the current company
        new = self.sudo().create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "origin": "manager",
                    "reason": reason.strip(),
                    "state": "proposed",
                }
                for partner in partners - proposals.partner_id
            ]
        )
        (proposals | new)._activate(date, self.env.user)
        self.env["dunning.engine"]._reevaluate(proposals | new, ladder=False)
        return proposals | new

    def _lift_by_manager(self, reason, date=None):
        self._check_dunning_manager()
        if not reason or not reason.strip():
            raise UserError(self.env._("Reason: say why the credit hold is lifted."))
        if self.filtered(lambda h: h.state != "active"):
            raise UserError(self.env._("Only active credit holds can be lifted."))
        date = date or dunning_today(self.env)
        # sudo: manager checked (holds read as the manager); state, events, tasks as system
        self.sudo()._lift(
            date,
            self.env.user,
            {
                hold.id: self.env._(
                    "Lifted by %(user)s: %(reason)s", user=self.env.user.name, reason=reason.strip()
                )
                for hold in self
            },
        )
        self.env["dunning.engine"]._reevaluate(self, ladder=False)
        return True

    @api.model
    def _get_open(self, partners, company):
        return self.search(
            [
                ("partner_id", "in", partners.ids),
                ("company_id", "=", company.id),
                ("state", "in", OPEN_STATES),
            ]
        )

    def _activate(self, date, user):
        """Proposed holds become active on ``date``, decided by ``user``."""
        if not self:
            return
        vals = {"state": "active", "date_start": date, "decided_by_id": user.id}
        unassigned = self.filtered(lambda hold: not hold.user_id)
        unassigned.write(dict(vals, user_id=user.id))
        (self - unassigned).write(vals)
        self._log(
            "hold_set",
            date,
            user,
            {
                hold.id: self.env._(
                    "Credit hold set by %(user)s: %(reason)s", user=user.name, reason=hold.reason
                )
                for hold in self
            },
        )
        self._close_activities(self.env._("Applied"))

    def _lift(self, date, user, notes):
        self.write({"state": "lifted", "date_end": date, "lift_user_id": user.id})
        for hold in self:
            hold.lift_reason = notes[hold.id]
        self._log("hold_lifted", date, user, notes)
        self._close_activities(self.env._("Lifted"))

    def _log(self, event_type, date, user, notes):
        """An event per hold and a line in the chatter of the hold and of the customer, each
        in one INSERT (a run can start thousands of holds; see ``dunning.engine._log_notes``)."""
        # sudo: the audit trail is written by the system only, in each hold's company
        self.env["dunning.event"].sudo()._create_bulk(
            [
                {
                    "event_type": event_type,
                    "date": date,
                    "partner_id": hold.partner_id.id,
                    "company_id": hold.company_id.id,
                    "level_id": hold.level_id.id,
                    "user_id": user.id,
                    "note": notes[hold.id],
                }
                for hold in self
            ]
        )
        labels = dict(
            self.env["dunning.event"]._fields["event_type"]._description_selection(self.env)
        )
        bodies = {
            hold.id: Markup("<b>%s</b> (%s): %s")
            % (labels[event_type], hold.company_id.name, notes[hold.id])
            for hold in self
        }
        # sudo: notes on these holds and their customers
        engine = self.env["dunning.engine"].sudo()
        engine._log_notes(self._name, bodies, user.partner_id)
        engine._log_notes(
            "res.partner", {hold.partner_id.id: bodies[hold.id] for hold in self}, user.partner_id
        )
        self._invalidate_hold_fields()

    @api.model
    def _invalidate_hold_fields(self):
        """The hold fields of customers, invoices and orders are computed without
        dependencies: forget what this transaction has read of them (and of the holds)."""
        self.invalidate_model()
        for model in ("res.partner", "account.move", "sale.order"):
            if model in self.env:
                Model = self.env[model]
                Model.invalidate_model(
                    [
                        name
                        for name, field in Model._fields.items()
                        if field.compute == "_compute_credit_hold"
                    ]
                )

    def _close_activities(self, feedback):
        activities = self.activity_ids
        if activities:
            # sudo: these holds' tasks are closed whoever they are assigned to
            activities.sudo().action_feedback(feedback=feedback)

    def _get_deciders(self, company):
        """Dunning managers of ``company``: they decide proposals."""
        # sudo: group members, filtered on the company below
        managers = self.env.ref("dunning_b2b.group_dunning_manager").sudo().user_ids
        return managers.filtered(
            lambda u: u.active and not u.share and company in u.company_ids and u.id != 1
        ).sorted("id")

    # ------------------------------------------------------- new holds
    @api.model
    def _start_holds(self, proposals, to_apply, company, run_date, user, stats):
        """New holds of a run: proposals go to the managers, the others take effect now."""
        if proposals:
            proposals._log(
                "hold_proposed",
                run_date,
                user,
                {hold.id: hold._get_proposal_note() for hold in proposals},
            )
            proposals._schedule_decision(company, run_date)
            stats["holds_proposed"] += len(proposals)
        if to_apply:
            to_apply._activate(run_date, user)
            stats["holds_set"] += len(to_apply)

    def _get_proposal_note(self):
        self.ensure_one()
        note = self.env._("Credit hold proposed: %(reason)s.", reason=self.reason)
        if self.key_account:
            note += " " + self.env._(
                "Key account (%(share)s%% of revenue): a manager decides.",
                share=round(self.revenue_share, 1),
            )
        return note

    def _schedule_decision(self, company, run_date):
        deciders = self._get_deciders(company)
        activity_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        self.env["dunning.engine"]._create_activities(
            [
                {
                    "res_model_id": model_id,
                    "res_id": hold.id,
                    "activity_type_id": activity_type.id,
                    "summary": self.env._(
                        "Decide the credit hold of %(customer)s", customer=hold.partner_id.name
                    ),
                    "note": Markup("<p>%s</p>") % hold._get_proposal_note(),
                    "user_id": decider.id,
                    "date_deadline": run_date,
                }
                for hold in self
                for decider in deciders or self.env.user
            ]
        )

    def _schedule_lift_decision(self, company, date, notes):
        """A task for the dunning managers of ``company``: decide whether to lift the hold
        (e.g. a dispute resolved in the customer's favour with nothing credited).

        :param notes: dict hold id -> why the lift is proposed
        """
        activity_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        deciders = self._get_deciders(company) or company.dunning_manager_id
        self.env["dunning.engine"]._create_activities(
            [
                {
                    "res_model_id": model_id,
                    "res_id": hold.id,
                    "activity_type_id": activity_type.id,
                    "summary": self.env._(
                        "Decide whether to lift the credit hold of %(customer)s",
                        customer=hold.partner_id.name,
                    ),
                    "note": Markup("<p>%s</p>") % notes[hold.id],
                    "user_id": decider.id,
                    "date_deadline": date,
                }
                for hold in self
                for decider in deciders
            ]
        )

    # ----------------------------------------------------------------- read
    def _get_banner(self):
        """The banner sales and accounting users read on the customer's documents."""
        self.ensure_one()
        partner = self.partner_id.with_company(self.company_id)
        collector = partner.dunning_collector_id or self.company_id.dunning_collector_id
        return self.env._(
            "Credit hold since %(date)s: %(reason)s. Contact %(collector)s.",
            date=format_date(self.env, self.date_start),
            reason=(self.reason or "").rstrip(". "),
            collector=collector.name or self.env._("the collections team"),
        )
