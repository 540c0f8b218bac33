from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_date

from ..engine import (
    CLEARED_BELOW,
    CLEARED_CANCELLED,
    CLEARED_CREDITED,
    CLEARED_PAID,
    CLEARED_RELEASED,
    HeldInvoice,
    decide_hold,
    decide_lift,
    over_credit_limit,
)

OPEN_STATES = ("proposed", "active")


class DunningCreditHold(models.Model):
    """A credit hold of a customer in one company, from its proposal to its lift.

    A customer has at most one open hold (proposed or active) per company; closed holds stay
    as history. ``res.partner.credit_hold`` reads the active one of the current company.
    """

    _name = "dunning.credit.hold"
    _inherit = ["mail.thread", "mail.activity.mixin"]
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
        "invoice is at or beyond that stage any more. Manager: set by hand, lifted by hand only.",
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

    _open_once = models.UniqueIndex(
        "(partner_id, company_id) WHERE state IN ('proposed', 'active')",
        "This customer already has an open credit hold or proposal in this company.",
    )

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
        # sudo: managers decide, the hold, its event and the chatter lines are written as
        # the system would; the decision is recorded with the manager's name.
        proposals.sudo()._activate(fields.Date.context_today(self), self.env.user)
        return True

    def action_reject(self):
        """A manager rejects proposed holds: the customer is not held."""
        self._check_dunning_manager()
        if self.filtered(lambda h: h.state != "proposed"):
            raise UserError(self.env._("Only proposed credit holds can be rejected."))
        today = fields.Date.context_today(self)
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
        self.sudo()._close_activities(self.env._("Rejected"))
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
        date = date or fields.Date.context_today(self)
        company = self.env.company
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
        return proposals | new

    def _lift_by_manager(self, reason, date=None):
        self._check_dunning_manager()
        if not reason or not reason.strip():
            raise UserError(self.env._("Reason: say why the credit hold is lifted."))
        if self.filtered(lambda h: h.state != "active"):
            raise UserError(self.env._("Only active credit holds can be lifted."))
        date = date or fields.Date.context_today(self)
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
        engine = self.env["dunning.engine"].sudo()
        engine._log_notes(self._name, bodies, user.partner_id)
        engine._log_notes(
            "res.partner", {hold.partner_id.id: bodies[hold.id] for hold in self}, user.partner_id
        )
        # The hold fields of customers, invoices and orders are computed without
        # dependencies: forget what this transaction has read of them.
        self.env.invalidate_all()

    def _close_activities(self, feedback):
        activities = self.activity_ids
        if activities:
            activities.sudo().action_feedback(feedback=feedback)

    def _get_deciders(self, company):
        """Dunning managers of ``company``: they decide proposals."""
        managers = self.env.ref("dunning_b2b.group_dunning_manager").sudo().user_ids
        return managers.filtered(
            lambda u: u.active and not u.share and company in u.company_ids and u.id != 1
        ).sorted("id")

    # ------------------------------------------------------- run: stage rules
    @api.model
    def _apply_stage_rules(self, company, advances, run_date, user, stats):
        """Propose or apply holds for customers whose invoices entered a holding stage."""
        Level = self.env["dunning.level"].with_context(active_test=False)
        levels = Level.browse({advance.stage_id for advance in advances})
        holding = {level.id: level for level in levels if level.credit_hold != "none"}
        if not holding:
            return
        by_partner = {}
        moves = defaultdict(list)
        for advance in advances:
            level = holding.get(advance.stage_id)
            if not level:
                continue
            best = by_partner.get(advance.partner_id)
            if (
                not best
                or level.day_offset > best.day_offset
                or (level.day_offset == best.day_offset and level.credit_hold == "apply")
            ):
                by_partner[advance.partner_id] = level
            moves[advance.partner_id].append(advance.move_id)
        partners = self.env["res.partner"].browse(list(by_partner))
        keys = partners._get_dunning_key_accounts(company, run_date)
        current = {hold.partner_id.id: hold for hold in self._get_open(partners, company)}
        Move = self.env["account.move"]
        to_create, to_activate = [], self.browse()
        for partner in partners:
            level = by_partner[partner.id]
            share, key = keys[partner.id]
            hold = current.get(partner.id)
            action = decide_hold(level.credit_hold, key, hold.state if hold else None)
            # An open proposal that a later stage reaches again keeps up with it.
            moves_on = (
                not action
                and hold
                and hold.state == "proposed"
                and hold.origin == "stage"
                and level.day_offset > hold.level_id.day_offset
            )
            if not action and not moves_on:
                continue
            held_moves = Move.browse(moves[partner.id])
            reason = self.env._(
                "%(invoices)s reached %(stage)s",
                invoices=", ".join(held_moves.mapped("name")),
                stage=level.name,
            )
            vals = {
                "origin": "stage",
                "level_id": level.id,
                "reason": reason,
                "key_account": key,
                "revenue_share": share * 100,
                "move_ids": [fields.Command.link(move_id) for move_id in moves[partner.id]],
                "user_id": user.id,
            }
            if moves_on:
                hold.write(vals)
                hold.message_post(body=hold._get_proposal_note(), subtype_xmlid="mail.mt_note")
                continue
            if hold:  # an open proposal that a later stage applies
                hold.write(vals)
                to_activate |= hold
            else:
                to_create.append(
                    dict(
                        vals,
                        partner_id=partner.id,
                        company_id=company.id,
                        state="proposed",
                        date_proposed=run_date,
                        _apply=action == "apply",
                    )
                )
        apply_flags = [vals.pop("_apply") for vals in to_create]
        created = self.create(to_create)
        proposals = self.browse()
        for hold, apply_now in zip(created, apply_flags, strict=True):
            if apply_now:
                to_activate |= hold
            else:
                proposals |= hold
        self._start_holds(proposals, to_activate, company, run_date, user, stats)

    # ----------------------------------------------------- run: credit limits
    @api.model
    def _apply_credit_limits(self, company, run_date, user, stats):
        """Hold customers whose open invoices exceed their credit limit (company setting),
        and lift such holds once they are back under it."""
        rule = company.dunning_credit_limit_hold
        enabled = company.account_use_credit_limit and rule != "none"
        limit_holds = self.search(
            [
                ("company_id", "=", company.id),
                ("state", "in", OPEN_STATES),
                ("origin", "=", "credit_limit"),
            ]
        )
        if not enabled and not limit_holds:
            return
        exposure = dict(
            self.env["account.move"]._read_group(
                self.env["res.partner"]._get_dunning_open_domain(None, company),
                ["commercial_partner_id"],
                ["amount_residual_signed:sum"],
            )
        )
        partners = self.env["res.partner"].union(*exposure) if enabled else self.env["res.partner"]
        partners |= limit_holds.partner_id
        limits = {
            partner.id: partner.credit_limit for partner in partners.with_company(company).sudo()
        }
        amount = {partner.id: total for partner, total in exposure.items()}
        over = {
            partner.id
            for partner in partners
            if over_credit_limit(amount.get(partner.id, 0.0), limits[partner.id])
        }
        # Lift the holds of customers back under their limit.
        notes = {
            hold.id: self.env._(
                "Lifted automatically: open invoices (%(amount)s) are back under the credit "
                "limit (%(limit)s).",
                amount=company.currency_id.format(amount.get(hold.partner_id.id, 0.0)),
                limit=company.currency_id.format(limits[hold.partner_id.id]),
            )
            for hold in limit_holds
            if hold.partner_id.id not in over
        }
        if notes:
            cleared = self.browse(notes)
            withdraw = cleared.filtered(lambda h: h.state == "proposed")
            if withdraw:
                withdraw.write({"state": "withdrawn", "date_end": run_date})
                withdraw._log("hold_withdrawn", run_date, user, notes)
                withdraw._close_activities(self.env._("No longer needed"))
            if cleared - withdraw:
                (cleared - withdraw)._lift(run_date, user, notes)
                stats["holds_lifted"] += len(cleared - withdraw)
        if not enabled or not over:
            return
        held = self.env["res.partner"].browse(over)
        keys = held._get_dunning_key_accounts(company, run_date)
        current = {hold.partner_id.id: hold.state for hold in self._get_open(held, company)}
        vals_list, apply_now = [], []
        for partner in held:
            share, key = keys[partner.id]
            action = decide_hold(rule, key, current.get(partner.id))
            if not action:
                continue
            reason = self.env._(
                "Open invoices (%(amount)s) exceed the credit limit (%(limit)s)",
                amount=company.currency_id.format(amount[partner.id]),
                limit=company.currency_id.format(limits[partner.id]),
            )
            vals_list.append(
                {
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "origin": "credit_limit",
                    "state": "proposed",
                    "date_proposed": run_date,
                    "reason": reason,
                    "key_account": key,
                    "revenue_share": share * 100,
                    "user_id": user.id,
                }
            )
            apply_now.append(action == "apply")
        # A customer with an open proposal of another origin keeps that one.
        created = self.create([vals for vals in vals_list if vals["partner_id"] not in current])
        flags = [flag for vals, flag in zip(vals_list, apply_now, strict=True)
                 if vals["partner_id"] not in current]  # fmt: skip
        to_apply = self.browse([h.id for h, flag in zip(created, flags, strict=True) if flag])
        proposals = created - to_apply
        self._start_holds(proposals, to_apply, company, run_date, user, stats)

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

    # ------------------------------------------------------ run: lift holds
    @api.model
    def _lift_cleared(self, company, run_date, user, stats):
        """Lift the stage holds (and withdraw the stage proposals) of customers that have no
        invoice at or beyond the holding stage any more. Manual holds are left alone."""
        holds = self.search(
            [
                ("company_id", "=", company.id),
                ("state", "in", OPEN_STATES),
                ("origin", "=", "stage"),
                ("level_id", "!=", False),
            ]
        )
        if not holds:
            return
        # The customers' open invoices with a stage, and the invoices that caused the holds
        # (perhaps paid since), in one query: this runs every day over every held customer.
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """SELECT m.id, m.commercial_partner_id, m.state, m.payment_state, l.day_offset
                     FROM account_move m
                LEFT JOIN dunning_level l ON l.id = m.dunning_level_id
                    WHERE m.id IN (SELECT r.move_id
                                     FROM dunning_credit_hold_account_move_rel r
                                    WHERE r.hold_id IN %(holds)s)
                       OR (%(open)s AND m.dunning_level_id IS NOT NULL)""",
                holds=tuple(holds.ids),
                open=self.env["dunning.engine"]._get_open_invoice_sql(
                    company, run_date, partner_ids=holds.partner_id.ids
                ),
            )
        )
        released = (
            self.env["account.move"]
            .browse([row[0] for row in rows])
            ._get_dunning_hold_releases(run_date)
        )
        by_partner = defaultdict(list)
        for move_id, partner_id, state, payment_state, offset in rows:
            by_partner[partner_id].append(
                HeldInvoice(
                    move_id=move_id,
                    open=state == "posted" and payment_state in ("not_paid", "partial"),
                    stage_offset=offset,
                    payment_state=payment_state,
                    state=state,
                    released=move_id in released,
                )
            )
        notes, withdraw = {}, self.browse()
        for hold in holds:
            lift, reasons = decide_lift(
                False, hold.level_id.day_offset, by_partner[hold.partner_id.id]
            )
            if not lift:
                continue
            notes[hold.id] = self._get_lift_note(hold, reasons)
            if hold.state == "proposed":
                withdraw |= hold
        if withdraw:
            withdraw.write({"state": "withdrawn", "date_end": run_date})
            withdraw._log("hold_withdrawn", run_date, user, notes)
            withdraw._close_activities(self.env._("No longer needed"))
        lifted = self.browse(notes) - withdraw
        if lifted:
            lifted._lift(run_date, user, notes)
            stats["holds_lifted"] += len(lifted)

    def _get_lift_note(self, hold, reasons):
        texts = {
            CLEARED_PAID: self.env._("paid"),
            CLEARED_CREDITED: self.env._("credited by a credit note"),
            CLEARED_RELEASED: self.env._("released in the customer's favour"),
            CLEARED_CANCELLED: self.env._("cancelled"),
            CLEARED_BELOW: self.env._("no longer at that stage"),
        }
        return self.env._(
            "Lifted automatically: no invoice is at or beyond %(stage)s any more "
            "(invoices %(reasons)s).",
            stage=hold.level_id.name,
            reasons=", ".join(texts[reason] for reason in reasons) or texts[CLEARED_BELOW],
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
