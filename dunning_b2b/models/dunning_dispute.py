from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import clean_context, format_date

from ..tools import check_list_access, recorder_name
from .dunning_dispute_reason import DISPUTE_REASONS
from .dunning_promise import dunning_today, open_lines_by_move

DISPUTE_STATES = [("open", "Open"), ("resolved", "Resolved"), ("rejected", "Rejected")]
DISPUTE_OUTCOMES = [
    ("credit_note", "Credit note issued"),
    ("corrected", "Invoice corrected"),
    ("rejected", "Rejected: payment due"),
]


class DunningDispute(models.Model):
    """A customer contests an invoice (or one of its lines). While the dispute is open, the
    dunning run leaves that invoice where it is; its owner has until the deadline."""

    _name = "dunning.dispute"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "Invoice Dispute"
    _order = "state, deadline, id desc"
    _check_company_auto = True
    # The owner may be a salesperson who only reads disputes: they still discuss them.
    _mail_post_access = "read"

    name = fields.Char(compute="_compute_name", store=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('company_id', '=', company_id)]",
    )
    move_line_id = fields.Many2one(
        "account.move.line",
        string="Invoice Line",
        check_company=True,
        domain="[('move_id', '=', move_id), ('display_type', '=', 'product')]",
        help="The line the customer contests, if only one.",
    )
    partner_id = fields.Many2one(
        related="move_id.commercial_partner_id", string="Customer", store=True, index=True
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount_residual = fields.Monetary(
        string="Amount Due",
        compute="_compute_amount_residual",
        help="What is open on the invoice's receivable lines (its instalments).",
    )
    reason = fields.Selection(DISPUTE_REASONS, required=True, tracking=True)
    description = fields.Text(help="What the customer says.")
    owner_id = fields.Many2one(
        "res.users",
        tracking=True,
        index=True,
        domain=[("share", "=", False)],
        compute="_compute_owner_id",
        store=True,
        readonly=False,
        precompute=True,
        help="Who resolves the dispute. Defaults from the reason (Dispute Reasons).",
    )
    deadline = fields.Date(
        tracking=True,
        compute="_compute_deadline",
        store=True,
        readonly=False,
        precompute=True,
        help="Defaults to the reason's days to resolve. Past it, the escalation contact "
        "of the reason is notified.",
    )
    state = fields.Selection(
        DISPUTE_STATES,
        string="Status",
        default="open",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
        copy=False,
    )
    outcome = fields.Selection(DISPUTE_OUTCOMES, readonly=True, tracking=True, copy=False)
    resolution_note = fields.Text(readonly=True, copy=False)
    user_id = fields.Many2one(
        "res.users", string="Opened By", default=lambda self: self.env.user, readonly=True
    )
    date_opened = fields.Date(
        string="Opened On", default=lambda self: dunning_today(self.env), readonly=True
    )
    date_closed = fields.Date(string="Closed On", readonly=True, copy=False)
    resolution_days = fields.Integer(
        string="Days to Resolve", readonly=True, copy=False, aggregator="avg"
    )
    escalation_date = fields.Date(
        string="Escalated On",
        readonly=True,
        copy=False,
        help="When the escalation contact was told the deadline had passed.",
    )
    is_overdue = fields.Boolean(
        string="Overdue", compute="_compute_is_overdue", search="_search_is_overdue"
    )
    # sudo: the owner may be a salesperson who cannot read invoices.
    credit_note_ids = fields.Many2many(
        "account.move",
        string="Credit Notes",
        compute="_compute_credit_note_ids",
        compute_sudo=True,
    )
    credit_note_count = fields.Integer(compute="_compute_credit_note_ids", compute_sudo=True)
    event_ids = fields.One2many("dunning.event", "dispute_id", string="History")

    @api.depends("move_id.name", "reason")
    def _compute_name(self):
        labels = dict(self._fields["reason"]._description_selection(self.env))
        for dispute in self:
            dispute.name = self.env._(
                "%(invoice)s: %(reason)s",
                invoice=dispute.move_id.name or "",
                reason=labels.get(dispute.reason, ""),
            )

    @api.depends("move_id.line_ids.amount_residual_currency", "move_id.line_ids.reconciled")
    def _compute_amount_residual(self):
        lines = self._get_open_lines()
        for dispute in self:
            currency = dispute.currency_id or dispute.company_id.currency_id
            dispute.amount_residual = currency.round(
                sum(item.amount for item in lines.get(dispute.id, []))
            )

    @api.depends("move_id")
    def _compute_company_id(self):
        for dispute in self:
            dispute.company_id = (
                dispute.move_id.company_id or dispute.company_id or self.env.company
            )

    @api.depends("move_id", "reason")
    def _compute_owner_id(self):
        Reason = self.env["dunning.dispute.reason"]
        for dispute in self:
            if dispute.move_id and dispute.reason and dispute.state == "open":
                dispute.owner_id = Reason._get_default_owner(dispute.move_id, dispute.reason)

    @api.depends("reason", "company_id", "date_opened")
    def _compute_deadline(self):
        Reason = self.env["dunning.dispute.reason"]
        for dispute in self:
            if dispute.reason and dispute.state == "open":
                start = dispute.date_opened or dunning_today(self.env)
                days = Reason._get_sla_days(dispute.company_id, dispute.reason)
                dispute.deadline = fields.Date.add(start, days=days)

    @api.depends("state", "deadline")
    def _compute_is_overdue(self):
        today = dunning_today(self.env)
        for dispute in self:
            dispute.is_overdue = bool(
                dispute.state == "open" and dispute.deadline and dispute.deadline < today
            )

    def _search_is_overdue(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        domain = Domain("state", "=", "open") & Domain("deadline", "<", dunning_today(self.env))
        return domain if (True in value) == (operator == "in") else ~domain

    @api.depends("move_id.reversal_move_ids")
    def _compute_credit_note_ids(self):
        for dispute in self:
            notes = dispute.move_id.reversal_move_ids.filtered(
                lambda m: m.move_type == "out_refund"
            )
            dispute.credit_note_ids = notes
            dispute.credit_note_count = len(notes)

    @api.constrains("owner_id", "state")
    def _check_owner_id(self):
        labels = dict(self._fields["reason"]._description_selection(self.env))
        for dispute in self:
            if dispute.state == "open" and not dispute.owner_id:
                raise ValidationError(
                    self.env._(
                        "Owner: the dispute on %(invoice)s has nobody to resolve it. Choose an "
                        "owner, or set who owns %(reason)s disputes under Collections > "
                        "Configuration > Dispute Reasons (or a collector for the customer).",
                        invoice=dispute.move_id.name,
                        reason=labels.get(dispute.reason),
                    )
                )

    @api.constrains("move_id", "move_line_id")
    def _check_move_id(self):
        for dispute in self:
            move = dispute.move_id
            if move.move_type != "out_invoice" or move.state != "posted":
                raise ValidationError(
                    self.env._(
                        "Invoice: %(invoice)s is not a posted customer invoice. A dispute is "
                        "about an invoice the customer received: choose that invoice.",
                        invoice=move.display_name,
                    )
                )
            if dispute.move_line_id and dispute.move_line_id.move_id != move:
                raise ValidationError(
                    self.env._(
                        "Invoice Line: this line is not on %(invoice)s. Choose one of its "
                        "lines, or leave it empty.",
                        invoice=move.name,
                    )
                )

    @api.constrains("deadline", "date_opened")
    def _check_deadline(self):
        for dispute in self.filtered(lambda d: d.state == "open"):
            if not dispute.deadline or dispute.deadline < dispute.date_opened:
                raise ValidationError(
                    self.env._(
                        "Deadline: the dispute on %(invoice)s needs a deadline on or after the "
                        "day it was opened (%(date)s).",
                        invoice=dispute.move_id.name,
                        date=format_date(self.env, dispute.date_opened),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        disputes = super().create(vals_list)
        # The form may come prefilled ("default_description", ...): not for the records below.
        disputes = disputes.with_context(clean_context(self.env.context))
        disputes._schedule_owner_activity()
        disputes._log_dunning(
            "dispute",
            lambda d: self.env._(
                "Dispute opened (%(reason)s) by %(user)s, owned by %(owner)s until %(deadline)s. "
                "Dunning of this invoice is paused.",
                reason=d._reason_label(),
                user=recorder_name(d.user_id),
                owner=d.owner_id.name,
                deadline=format_date(self.env, d.deadline),
            ),
        )
        self.env["dunning.message"]._dunning_mark_answered_by(disputes, "disputed")
        self.env["dunning.engine"]._reevaluate(disputes)
        return disputes

    def write(self, vals):
        if (
            not self.env.su
            and set(vals) & self._get_locked_fields()
            and any(dispute.state != "open" for dispute in self)
        ):
            raise UserError(
                self.env._("A resolved or rejected dispute is history and cannot be changed.")
            )
        res = super().write(vals)
        if "deadline" in vals:
            # A new deadline deserves a new escalation when it passes.
            # sudo: the engine's escalation mark of these disputes, written by the user above
            self.sudo().filtered("escalation_date").escalation_date = False
        if {"owner_id", "deadline"} & set(vals):
            self._schedule_owner_activity()
        return res

    @api.model
    def _get_locked_fields(self):
        """What a resolved or rejected dispute keeps as it was decided."""
        return {"move_id", "move_line_id", "company_id", "reason", "owner_id", "deadline"}

    # ------------------------------------------------------------- actions
    @api.model
    def _get_form_action(self, context):
        """A new dispute's form, prefilled from ``context`` defaults."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Open a Dispute"),
            "res_model": "dunning.dispute",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": context,
        }

    def action_resolve(self):
        return self._action_close("resolve")

    def action_reject(self):
        return self._action_close("reject")

    def _action_close(self, decision):
        self.ensure_one()
        self._check_can_close()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Resolve Dispute")
            if decision == "resolve"
            else self.env._("Reject Dispute"),
            "res_model": "dunning.dispute.close",
            "view_mode": "form",
            "target": "new",
            "context": {"default_dispute_id": self.id, "default_decision": decision},
        }

    def action_create_credit_note(self):
        """Open the standard reversal on the invoice: the credit note it creates is linked
        to the invoice, and so to the dispute."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_view_account_move_reversal"
        )
        action["context"] = {
            "active_model": "account.move",
            "active_ids": self.move_id.ids,
            "default_reason": self.env._("Dispute: %(dispute)s", dispute=self.name),
        }
        return action

    def action_view_credit_notes(self):
        self.ensure_one()
        check_list_access(self, "account.move")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_refund_type"
        )
        action.update(domain=[("id", "in", self.credit_note_ids.ids)], context={"create": False})
        return action

    # ------------------------------------------------------------ business
    def _get_open_lines(self):
        """The open receivable lines of the disputed invoices, through the one selector.

        :return: dict dispute id -> list of ``OpenItem`` in the invoice's currency
        """
        result = {}
        for company in self.company_id:
            disputes = self.filtered(lambda d, c=company: d.company_id == c)
            by_move = open_lines_by_move(self.env, company, disputes.move_id._origin)
            for dispute in disputes:
                currency = dispute.currency_id or company.currency_id
                result[dispute.id] = [
                    item
                    for item in by_move.get(dispute.move_id._origin.id, ())
                    if item.currency_id == currency.id
                ]
        return result

    def _reason_label(self):
        self.ensure_one()
        return dict(self._fields["reason"]._description_selection(self.env)).get(self.reason)

    def _schedule_owner_activity(self):
        """One to-do for the owner with the deadline; moved when the owner or deadline moves."""
        activity_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        # sudo: the owner's task on these disputes, whoever changed the owner or deadline
        for dispute in self.sudo().filtered(lambda d: d.state == "open" and d.owner_id):
            existing = dispute.activity_ids.filtered(
                lambda a, t=activity_type: a.activity_type_id == t
            )
            if existing:
                existing.write({"user_id": dispute.owner_id.id, "date_deadline": dispute.deadline})
                continue
            dispute.activity_schedule(
                "dunning_b2b.mail_activity_type_dunning_todo",
                date_deadline=dispute.deadline,
                summary=self.env._(
                    "Resolve the %(reason)s dispute of %(customer)s",
                    reason=dispute._reason_label(),
                    customer=dispute.partner_id.name,
                ),
                note=Markup("<p>%s</p><p>%s</p>")
                % (
                    self.env._(
                        "%(customer)s disputes %(invoice)s (%(amount)s due). Its dunning is "
                        "paused until you resolve or reject the dispute, by %(deadline)s.",
                        customer=dispute.partner_id.name,
                        invoice=dispute.move_id.name,
                        amount=dispute.currency_id.format(dispute.amount_residual),
                        deadline=format_date(self.env, dispute.deadline),
                    ),
                    dispute.description or "",
                ),
                user_id=dispute.owner_id.id,
            )

    def _log_dunning(self, event_type, text, user=None, date=None):
        """An event on the invoice and a chatter line on the dispute and the invoice."""
        date = date or dunning_today(self.env)
        user = user or self.env.user
        events = []
        logs = {}
        lines = self._get_open_lines()
        for dispute in self:
            sentence = text(dispute)
            move = dispute.move_id
            items = lines.get(dispute.id, [])
            due_dates = [item.due_date for item in items if item.due_date]
            # sudo: the trail of this dispute, written for the user's action
            dispute.sudo()._message_log(body=Markup("%s") % sentence)
            logs[move.id] = Markup("%s") % sentence
            events.append(
                {
                    "event_type": event_type,
                    "date": date,
                    "move_id": move.id,
                    "partner_id": dispute.partner_id.id,
                    "company_id": dispute.company_id.id,
                    "level_id": move.dunning_level_id.id,
                    "dispute_id": dispute.id,
                    "currency_id": move.currency_id.id,
                    "move_line_id": items[0].line_id if len(items) == 1 else False,
                    "amount_residual": move.currency_id.round(sum(i.amount for i in items)),
                    "days_overdue": (date - min(due_dates)).days if due_dates else 0,
                    "user_id": user.id,
                    "note": sentence,
                }
            )
        # sudo: notes on the disputed invoices, without write right; events by the system only
        self.env["account.move"].browse(list(logs)).sudo()._message_log_batch(logs)
        self.env["dunning.event"].sudo().create(events)
