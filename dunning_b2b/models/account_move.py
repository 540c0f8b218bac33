from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools import SQL, format_date

from ..tools import check_dunning_rights, check_internal_search, check_list_access


class AccountMove(models.Model):
    _inherit = "account.move"

    # The engine's state lives in dunning.line, one row per receivable line (instalment):
    # a run never writes account_move. An invoice's stage is the highest of its open lines.
    dunning_level_id = fields.Many2one(
        "dunning.level",
        string="Dunning Stage",
        compute="_compute_dunning_level",
        search="_search_dunning_level_id",
        help="The highest dunning stage among the document's open receivable lines.",
        groups="base.group_user",
    )
    dunning_date = fields.Date(
        string="Stage Reached On", compute="_compute_dunning_level", groups="base.group_user"
    )
    dunning_line_ids = fields.One2many(
        "dunning.line",
        "move_id",
        string="Dunning by Instalment",
        readonly=True,
        groups="base.group_user",
    )
    dunning_excluded = fields.Boolean(
        string="Excluded from Dunning",
        copy=False,
        help="An excluded invoice keeps its stage and is never chased until it is included again.",
        groups="base.group_user",
    )
    dunning_event_ids = fields.One2many(
        "dunning.event", "move_id", string="Dunning History", groups="base.group_user"
    )
    dunning_days_overdue = fields.Integer(
        string="Days Overdue",
        compute="_compute_dunning_days_overdue",
        groups="base.group_user",
    )
    dunning_paused_reason = fields.Char(
        string="Dunning Paused",
        compute="_compute_dunning_paused_reason",
        groups="base.group_user",
    )
    credit_hold = fields.Boolean(
        compute="_compute_credit_hold",
        help="The customer is on credit hold in this company.",
        groups="base.group_user",
    )
    credit_hold_banner = fields.Char(compute="_compute_credit_hold", groups="base.group_user")

    @api.depends("line_ids.date_maturity", "line_ids.reconciled")
    def _compute_dunning_days_overdue(self):
        """Days past the due date of the oldest open receivable line (an instalment's own
        date, not the invoice's last one)."""
        today = fields.Date.context_today(self)
        for move in self:
            dues = [
                line.date_maturity
                for line in move.line_ids
                if line.account_type == "asset_receivable"
                and not line.reconciled
                and line.date_maturity
                and line.balance > 0
            ]
            move.dunning_days_overdue = (today - min(dues)).days if dues else 0

    def _compute_dunning_level(self):
        # sudo: engine state of these documents only (dunning.line is for accounting users)
        states = (
            self.env["dunning.line"]
            .sudo()
            .search(
                [("move_id", "in", self.ids), ("level_id", "!=", False), ("is_open", "=", True)]
            )
        )
        best = {}
        for state in states:
            current = best.get(state.move_id.id)
            if not current or (
                state.level_id.day_offset,
                state.level_date or fields.Date.today(),
            ) > (
                current.level_id.day_offset,
                current.level_date or fields.Date.today(),
            ):
                best[state.move_id.id] = state
        for move in self:
            state = best.get(move.id)
            move.dunning_level_id = state.level_id if state else False
            move.dunning_date = state.level_date if state else False

    def _search_dunning_level_id(self, operator, value):
        check_internal_search(self, "dunning_level_id")
        if operator not in ("in", "not in"):
            return NotImplemented
        Line = self.env["dunning.line"]
        level_ids = [level_id for level_id in value if level_id]
        domain = Domain.FALSE
        if level_ids:
            domain = Domain("id", "in", Line._get_highest_stage_query("move_id", level_ids))
        if False in value:
            domain |= Domain("id", "not in", Line._get_highest_stage_query("move_id"))
        return domain if operator == "in" else ~domain

    @api.depends("dunning_excluded")
    def _compute_dunning_paused_reason(self):
        reasons = self._get_dunning_pause_reasons(fields.Date.context_today(self))
        for move in self:
            texts = list(reasons.get(move.id, ()))
            if move.dunning_excluded:
                texts.insert(0, self.env._("excluded by hand"))
            move.dunning_paused_reason = ", ".join(texts)

    @api.depends("commercial_partner_id", "company_id", "move_type")
    @api.depends_context("lang")
    def _compute_credit_hold(self):
        for move in self:
            partner = move.commercial_partner_id.with_company(move.company_id)
            held = move.is_sale_document(include_receipts=True) and partner.credit_hold
            move.credit_hold = held
            move.credit_hold_banner = partner.credit_hold_banner if held else False

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("dunning_excluded") for vals in vals_list) or self.env.context.get(
            "default_dunning_excluded"
        ):
            self._check_dunning_exclusion_rights()
        return super().create(vals_list)

    def write(self, vals):
        if "dunning_excluded" not in vals:
            return super().write(vals)
        changed = self.filtered(lambda m: m.dunning_excluded != bool(vals["dunning_excluded"]))
        if changed:
            changed._check_dunning_exclusion_rights()
        res = super().write(vals)
        changed._log_dunning_exclusion(bool(vals["dunning_excluded"]))
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_keep_dunning_events(self):
        """Deleting a (draft) invoice keeps its dunning trail: its events stay, without the
        link, and keep the invoice's number (``move_name``)."""
        # sudo: the trail of the invoices being deleted, written by the system
        events = self.env["dunning.event"].sudo().search([("move_id", "in", self.ids)])
        for move, group in events.grouped("move_id").items():
            group.move_name = move.name if move.name and move.name != "/" else move.display_name

    def _check_dunning_exclusion_rights(self):
        """Excluding an invoice from dunning, or including it again, is a collector's
        decision, whichever way it is written (button, form, import, RPC)."""
        if self.env.su or self.env.user.has_group("dunning_b2b.group_dunning_user"):
            return
        raise AccessError(
            self.env._(
                "Excluded from Dunning changes with the Exclude from Dunning and Include in "
                "Dunning buttons, which need Collections / User access. Ask a collections "
                "manager."
            )
        )

    def _get_dunning_pause_reasons(self, run_date):
        """Why invoices of ``self`` are paused on ``run_date``, besides manual exclusion.

        :return: dict move id -> tuple of human-readable reasons
        Hook for promises, disputes and replies (a customer who answered a reminder, in the
        invoice's company: see dunning.reply); must work set-wise (one query for all of ``self``).
        """
        reasons = {}
        if not self.ids:
            return reasons
        self.env["dunning.promise"].flush_model(["state", "promise_date", "extension_date"])
        self.env["dunning.dispute"].flush_model(["state", "move_id", "reason"])
        self.env["dunning.reply"].flush_model(
            ["partner_id", "company_id", "reply_date", "pause_until"]
        )
        self.env["dunning.resolution"].flush_model(["state", "line_ids", "date_open"])
        self.flush_recordset(["commercial_partner_id", "company_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT rel.move_id, 'promise', GREATEST(p.promise_date, p.extension_date), NULL
                     FROM dunning_promise p
                     JOIN dunning_promise_account_move_rel rel ON rel.promise_id = p.id
                    WHERE rel.move_id IN %(ids)s AND p.state = 'open'
                      AND GREATEST(p.promise_date, p.extension_date) >= %(date)s
                UNION ALL
                   SELECT d.move_id, 'dispute', d.deadline, d.reason
                     FROM dunning_dispute d
                    WHERE d.move_id IN %(ids)s AND d.state = 'open'
                UNION ALL
                   SELECT m.id, 'reply', MAX(r.pause_until), MAX(r.reply_date)::varchar
                     FROM account_move m
                     JOIN dunning_reply r ON r.partner_id = m.commercial_partner_id
                                         AND r.company_id = m.company_id
                    WHERE m.id IN %(ids)s AND r.reply_date <= %(date)s
                      AND r.pause_until >= %(date)s
                 GROUP BY m.id
                UNION ALL
                   SELECT DISTINCT l.move_id, 'resolution', r.date_open, r.resolution_type
                     FROM dunning_resolution r
                     JOIN dunning_resolution_account_move_line_rel rel
                          ON rel.resolution_id = r.id
                     JOIN account_move_line l ON l.id = rel.line_id
                    WHERE l.move_id IN %(ids)s AND r.state = 'open'
                 ORDER BY 1, 2, 3""",
                ids=tuple(self.ids),
                date=run_date,
            )
        )
        labels = dict(
            self.env["dunning.dispute"]._fields["reason"]._description_selection(self.env)
        )
        resolutions = dict(
            self.env["dunning.resolution"]
            ._fields["resolution_type"]
            ._description_selection(self.env)
        )
        for move_id, kind, day, reason in rows:
            if kind == "promise":
                text = self.env._("promise to pay by %(date)s", date=format_date(self.env, day))
            elif kind == "reply":
                text = self.env._(
                    "customer replied on %(date)s, reminders paused until %(until)s",
                    date=format_date(self.env, fields.Date.to_date(reason)),
                    until=format_date(self.env, day),
                )
            elif kind == "resolution":
                text = self.env._(
                    "in final resolution (%(type)s) since %(date)s",
                    type=resolutions.get(reason, reason),
                    date=format_date(self.env, day),
                )
            else:
                text = self.env._("open dispute (%(reason)s)", reason=labels.get(reason, reason))
            reasons[move_id] = (*reasons.get(move_id, ()), text)
        return reasons

    def _get_dunning_hold_releases(self, run_date):
        """Invoices of ``self`` that no longer justify a credit hold although still open
        (e.g. a dispute resolved in the customer's favour).

        :return: dict move id -> human-readable reason
        Must work set-wise.
        """
        # sudo: the disputes of these invoices, whoever reads the hold.
        Dispute = self.env["dunning.dispute"].sudo()
        resolved = Dispute.search(
            [
                ("move_id", "in", self.ids),
                ("state", "=", "resolved"),
                ("outcome", "in", Dispute._get_favourable_outcomes()),
            ]
        )
        # Only when the invoice was credited or corrected: else lifting is a manager's call.
        text = self.env._("dispute resolved in the customer's favour")
        return {dispute.move_id.id: text for dispute in resolved._get_corrected()}

    def _get_dunning_open_amount(self):
        """What is open on the document's receivable debits (its instalments), in its
        currency; credits are not netted here."""
        self.ensure_one()
        return sum(
            line.amount_residual_currency
            for line in self.line_ids
            if line.account_type == "asset_receivable"
            and not line.reconciled
            and line.amount_residual_currency > 0
        )

    def _log_dunning_exclusion(self, excluded):
        if not self:
            return
        event_type = "excluded" if excluded else "included"
        text = (
            self.env._("Excluded from dunning")
            if excluded
            else self.env._("Included in dunning again")
        )
        today = fields.Date.context_today(self)
        # sudo: the audit trail is written by the system only, in each document's company
        self.env["dunning.event"].sudo().create(
            [
                {
                    "event_type": event_type,
                    "date": today,
                    "move_id": move.id,
                    "partner_id": move.commercial_partner_id.id,
                    "company_id": move.company_id.id,
                    "level_id": move.dunning_level_id.id,
                    "currency_id": move.currency_id.id,
                    "amount_residual": move._get_dunning_open_amount(),
                    "days_overdue": move.dunning_days_overdue,
                    "user_id": self.env.uid,
                }
                for move in self
            ]
        )
        self._message_log_batch({move.id: Markup("%s") % text for move in self})

    # ------------------------------------------------------------- lifecycle
    def button_draft(self):
        self._dunning_restart(self.env._("Reset to draft: dunning restarts when it is posted."))
        return super().button_draft()

    def button_cancel(self):
        self._dunning_restart(self.env._("Cancelled: nothing is chased any more."))
        return super().button_cancel()

    def _reverse_moves(self, default_values_list=None, cancel=False):
        reverses = super()._reverse_moves(default_values_list=default_values_list, cancel=cancel)
        if cancel:
            for move, reverse in zip(self, reverses, strict=False):
                move._dunning_restart(
                    self.env._(
                        "Reversed by %(reversal)s: nothing left to chase.", reversal=reverse.name
                    )
                )
        return reverses

    def _dunning_restart(self, reason):
        """Restart the dunning of the documents' receivable lines that reached a stage: a new
        cycle, no stage, and the due date read again when the engine next sees the line;
        an event and a chatter note say why."""
        # sudo: engine state of these documents only, reset for whoever may reset them
        Line = self.env["dunning.line"].sudo()
        states = Line.search([("move_id", "in", self.ids), ("level_id", "!=", False)])
        if not states:
            return
        today = fields.Date.context_today(self)
        # sudo: the audit trail is written by the system only, in each line's company
        self.env["dunning.event"].sudo()._create_bulk(
            [
                {
                    "event_type": "restart",
                    "date": today,
                    "move_id": state.move_id.id,
                    "move_line_id": state.move_line_id.id,
                    "cycle": state.cycle + 1,
                    "partner_id": state.partner_id.id,
                    "company_id": state.company_id.id,
                    "level_id": state.level_id.id,
                    "currency_id": state.currency_id.id,
                    "amount_residual": state.move_line_id.amount_residual_currency,
                    "user_id": self.env.uid,
                    "note": reason,
                }
                for state in states
            ]
        )
        Line.flush_model()
        self.env.cr.execute(
            SQL(
                """UPDATE dunning_line
                      SET level_id = NULL, level_date = NULL, due_date = NULL,
                          pause_reason = NULL, cycle = cycle + 1
                    WHERE id IN %s""",
                tuple(states.ids),
            )
        )
        self.env["dunning.line"]._invalidate_stages()
        # sudo: notes on these documents only, in one INSERT
        self.env["dunning.bulk"].sudo()._log_notes(
            "account.move",
            {move.id: Markup("%s") % reason for move in states.move_id},
            self.env.user.partner_id,
        )

    def action_dunning_exclude(self):
        check_dunning_rights(self)
        self.filtered(lambda m: not m.dunning_excluded).write({"dunning_excluded": True})
        return True

    def action_dunning_include(self):
        check_dunning_rights(self)
        self.filtered("dunning_excluded").write({"dunning_excluded": False})
        return True

    def action_dunning_run(self):
        """Server action "Run dunning now" on selected invoices."""
        return self.env["dunning.engine"]._action_run(moves=self)

    def action_dunning_log_call(self):
        check_dunning_rights(self)
        return self.commercial_partner_id[:1]._dunning_call_log_action("call", self)

    def action_dunning_log_response(self):
        check_dunning_rights(self)
        return self.commercial_partner_id[:1]._dunning_call_log_action("response", self)

    def action_dunning_open_dispute(self):
        self.ensure_one()
        check_dunning_rights(self)
        return self.env["dunning.dispute"]._get_form_action(
            {"default_move_id": self.id, "default_company_id": self.company_id.id}
        )

    def action_dunning_view_disputes(self):
        self.ensure_one()
        check_list_access(self, "dunning.dispute")
        action = self.env["ir.actions.act_window"]._for_xml_id("dunning_b2b.dunning_dispute_action")
        action.update(
            domain=[("move_id", "=", self.id)],
            context={"default_move_id": self.id, "default_company_id": self.company_id.id},
        )
        return action
