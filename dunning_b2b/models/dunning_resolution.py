from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import check_dunning_rights, check_state_create, check_state_write
from .dunning_promise import dunning_today

RESOLUTION_TYPES = [
    ("agency", "Collection agency"),
    ("legal", "Legal action"),
    ("settlement", "Negotiated settlement"),
    ("write_off", "Write-off"),
]
RESOLUTION_STATES = [
    ("draft", "To Decide"),
    ("open", "In Progress"),
    ("done", "Done"),
    ("cancelled", "Cancelled"),
]
OPEN_STATES = ("draft", "open")


class DunningResolution(models.Model):
    """The final resolution of a customer's overdue lines in one company: handed to an
    agency or a law firm, settled for less, or written off.

    A case is proposed by the ladder when lines reach a stage that calls for it (a draft for
    a dunning manager to decide) or opened by a manager at any stage. While a case is open
    its lines get no more reminders (a pause reason of the engine); payments still count.
    A proposal, which changes no line, is an event and a chatter line on the case and the
    customer; every later step is also an event on each line and a line in the invoices'
    chatter. What each type does (agency commission, settlement, write-off entries) lives in
    files of its own.
    """

    _name = "dunning.resolution"
    _inherit = ["mail.thread", "mail.activity.mixin", "dunning.company.check"]
    _description = "Final Resolution"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        domain=[("parent_id", "=", False)],
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    resolution_type = fields.Selection(
        RESOLUTION_TYPES,
        string="Resolution",
        tracking=True,
        help="Chosen by the manager who decides a proposed case; needed to open it.",
    )
    state = fields.Selection(
        RESOLUTION_STATES,
        string="Status",
        default="draft",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
        copy=False,
    )
    origin = fields.Selection(
        [("ladder", "Dunning stage"), ("manager", "Manager")],
        default="manager",
        required=True,
        readonly=True,
    )
    owner_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        tracking=True,
        domain=[("share", "=", False)],
    )
    line_ids = fields.Many2many(
        "account.move.line",
        "dunning_resolution_account_move_line_rel",
        "resolution_id",
        "line_id",
        string="Receivable Lines",
        check_company=True,
        domain="[('partner_id.commercial_partner_id', '=', partner_id), "
        "('company_id', '=', company_id), ('account_type', '=', 'asset_receivable'), "
        "('parent_state', '=', 'posted'), ('reconciled', '=', False), ('balance', '>', 0)]",
        help="The overdue lines the case covers: no more reminders for them while it is open.",
    )
    move_ids = fields.Many2many(
        "account.move", compute="_compute_move_ids", string="Invoices", compute_sudo=True
    )
    amount_open_start = fields.Monetary(
        string="Open When Opened",
        readonly=True,
        copy=False,
        help="What the lines owed (company currency) when the case was opened.",
    )
    amount_open = fields.Monetary(
        string="Still Open",
        compute="_compute_amount_open",
        help="What the lines owe now, in the company's currency.",
    )
    amount_recovered = fields.Monetary(string="Recovered", readonly=True, copy=False, tracking=True)
    amount_written_off = fields.Monetary(
        string="Written Off", readonly=True, copy=False, tracking=True
    )
    amount_cost = fields.Monetary(
        string="Cost",
        readonly=True,
        copy=False,
        tracking=True,
        help="What recovering cost: agency commission, legal fees.",
    )
    date_open = fields.Date(string="Opened On", readonly=True, copy=False)
    date_done = fields.Date(string="Closed On", readonly=True, copy=False)
    note = fields.Text(string="Outcome", help="How the case ended: documented for the record.")
    event_ids = fields.One2many("dunning.event", "resolution_id", string="History")

    @api.depends("partner_id", "resolution_type")
    def _compute_name(self):
        labels = dict(RESOLUTION_TYPES)
        for case in self:
            label = labels.get(case.resolution_type) or self.env._("to decide")
            case.name = f"{case.partner_id.name or ''} - {label}"

    @api.depends("line_ids")
    def _compute_move_ids(self):
        for case in self:
            case.move_ids = case.line_ids.move_id

    @api.depends("line_ids.amount_residual")
    def _compute_amount_open(self):
        for case in self:
            case.amount_open = sum(case.line_ids.mapped("amount_residual"))

    # ------------------------------------------------------------------ checks
    @api.constrains("line_ids", "partner_id", "company_id")
    def _check_line_ids(self):
        cases_of_line = self._get_open_cases_of_lines()
        # What the checks read, for all the cases' lines at once (the ladder proposes
        # thousands of cases in one create), not their whole rows a thousand at a time.
        lines = self.line_ids
        lines.fetch(["partner_id", "company_id", "account_type", "parent_state", "reconciled",
                     "balance", "company_currency_id"])  # fmt: skip
        lines.partner_id.fetch(["commercial_partner_id"])
        for case in self:
            other = case.line_ids.filtered(
                lambda line, c=case: (
                    line.partner_id.commercial_partner_id != c.partner_id
                    or line.company_id != c.company_id
                    or line.account_type != "asset_receivable"
                )
            )
            if other:
                raise ValidationError(
                    self.env._(
                        "Receivable Lines: %(lines)s are not receivable lines of %(customer)s "
                        "in %(company)s. Remove them.",
                        lines=", ".join(other.mapped("move_name")),
                        customer=case.partner_id.display_name,
                        company=case.company_id.name,
                    )
                )
            if case.state in OPEN_STATES:
                not_open = case.line_ids.filtered(
                    lambda line: (
                        line.parent_state != "posted"
                        or line.reconciled
                        or line.company_currency_id.compare_amounts(line.balance, 0.0) <= 0
                    )
                )
                if not_open:
                    raise ValidationError(
                        self.env._(
                            "Receivable Lines: %(lines)s are no open debts (credits, payments, "
                            "paid or unposted lines). A case covers what the customer owes: "
                            "remove them.",
                            lines=", ".join(not_open.mapped("move_name")),
                        )
                    )
                busy = next(
                    (
                        other
                        for line in case.line_ids
                        for other in cases_of_line.get(line.id, ())
                        if other != case
                    ),
                    None,
                )
                if busy:
                    raise ValidationError(
                        self.env._(
                            "Receivable Lines: %(lines)s are already in the case %(case)s. A "
                            "line is in one open case at a time.",
                            lines=", ".join((busy.line_ids & case.line_ids).mapped("move_name")),
                            case=busy.display_name,
                        )
                    )

    def _get_open_cases_of_lines(self):
        """The open cases (these ones included) holding each line of these cases, read at
        once: the ladder proposes hundreds of cases in one create.

        :return: dict line id -> open cases, newest first
        """
        line_ids = set(self.filtered(lambda c: c.state in OPEN_STATES).line_ids.ids)
        cases_of_line = defaultdict(list)
        if line_ids:
            domain = [("state", "in", OPEN_STATES), ("line_ids", "in", list(line_ids))]
            for other in self.search(domain):
                for line_id in set(other.line_ids.ids) & line_ids:
                    cases_of_line[line_id].append(other)
        return cases_of_line

    def _get_guarded_fields(self):
        use = self.env._("Use the case's buttons (Open, Close, Cancel).")
        return dict.fromkeys(
            ("state", "amount_recovered", "amount_written_off", "amount_cost", "origin"), use
        )

    @api.model_create_multi
    def create(self, vals_list):
        check_state_create(
            self, vals_list, self._get_guarded_fields(), {"state": "draft", "origin": "manager"}
        )
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
        cases = super().create(vals_list)
        # A proposal changes none of its lines (they are dunned until the case opens): the
        # case and its customer say so, the invoices' trail starts when it opens.
        cases._log_step(
            "resolution",
            lambda c: self.env._(
                "Final resolution proposed: %(type)s, %(amount)s on %(count)s line(s).",
                type=dict(RESOLUTION_TYPES).get(c.resolution_type) or self.env._("to decide"),
                amount=c.currency_id.format(c.amount_open),
                count=len(c.line_ids),
            ),
            per_line=False,
        )
        return cases

    def write(self, vals):
        check_state_write(self, vals, self._get_guarded_fields())
        if {"partner_id", "company_id", "line_ids", "resolution_type"} & set(
            vals
        ) and self.filtered(lambda c: c.state not in ("draft",)):
            raise UserError(
                self.env._(
                    "Customer, company, lines and resolution of a case are fixed once it is "
                    "opened. Cancel it and open another."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------------ actions
    def _check_manager(self):
        check_dunning_rights(self, "manager")

    def action_open(self):
        """Start the case: its lines get no more reminders while it is open."""
        self._check_manager()
        for case in self:
            if case.state != "draft":
                raise UserError(self.env._("Open Case: the case %s is not to decide.", case.name))
            if not case.line_ids:
                raise UserError(
                    self.env._("Receivable Lines: add the lines the case covers, then open it.")
                )
            if not case.resolution_type:
                raise UserError(
                    self.env._(
                        "Resolution: choose collection agency, legal action, negotiated "
                        "settlement or write-off, then open the case."
                    )
                )
        today = dunning_today(self.env)
        for case in self:
            # sudo: the state and the amounts are set by the system (guarded fields)
            case.sudo().write(
                {"state": "open", "date_open": today, "amount_open_start": case.amount_open}
            )
        # The proposal's task ("Decide the final resolution") is done.
        self.activity_ids.action_feedback(feedback=self.env._("Case opened."))
        self._log_step(
            "resolution",
            lambda c: self.env._(
                "Final resolution opened by %(user)s: %(type)s, %(amount)s open. No more "
                "reminders for these lines.",
                user=self.env.user.name,
                type=dict(RESOLUTION_TYPES)[c.resolution_type],
                amount=c.currency_id.format(c.amount_open_start),
            ),
        )
        self.env["dunning.engine"]._reevaluate(self)
        return True

    def action_done(self):
        """Close the case: what was recovered is what the lines no longer owe, less what
        was written off."""
        self._check_manager()
        if self.filtered(lambda c: c.state != "open"):
            raise UserError(self.env._("Close: only a case in progress can be closed."))
        today = dunning_today(self.env)
        for case in self:
            recovered = case.currency_id.round(
                case.amount_open_start - case.amount_open - case.amount_written_off
            )
            # sudo: the state and the amounts are set by the system (guarded fields)
            case.sudo().write(
                {"state": "done", "date_done": today, "amount_recovered": max(recovered, 0.0)}
            )
        self._log_step(
            "resolution_done",
            lambda c: self.env._(
                "Final resolution closed by %(user)s: %(recovered)s recovered, %(written)s "
                "written off, %(cost)s cost.",
                user=self.env.user.name,
                recovered=c.currency_id.format(c.amount_recovered),
                written=c.currency_id.format(c.amount_written_off),
                cost=c.currency_id.format(c.amount_cost),
            ),
        )
        self.env["dunning.engine"]._reevaluate(self)
        return True

    def action_cancel(self):
        """Cancel the case: its lines resume the ladder at the stage their age calls for."""
        self._check_manager()
        if self.filtered(lambda c: c.state not in OPEN_STATES):
            raise UserError(self.env._("Cancel: the case is already closed."))
        # A proposal never paused its lines, nor told their invoices: its end is told where
        # it began.
        proposals = self.filtered(lambda c: c.state == "draft")
        # sudo: the state is set by the system (guarded field)
        self.sudo().write({"state": "cancelled", "date_done": dunning_today(self.env)})
        self.activity_ids.action_feedback(feedback=self.env._("Case cancelled."))
        proposals._log_step(
            "resolution_cancelled",
            lambda c: self.env._(
                "Final resolution proposal declined by %(user)s.", user=self.env.user.name
            ),
            per_line=False,
        )
        (self - proposals)._log_step(
            "resolution_cancelled",
            lambda c: self.env._(
                "Final resolution cancelled by %(user)s; the lines resume the ladder.",
                user=self.env.user.name,
            ),
        )
        self.env["dunning.engine"]._reevaluate(self)
        return True

    # ------------------------------------------------------------------ trail
    def _log_step(self, event_type, text, per_line=True):
        """An event per covered line and a chatter line on the case, the customer and the
        invoices (``per_line``), else one event per case and a chatter line on the case and
        the customer; as sudo, written for the user's action. The notes are written in bulk
        (one INSERT per model): the ladder proposes hundreds of cases in one run."""
        today = dunning_today(self.env)
        events = []
        notes = {"dunning.resolution": {}, "res.partner": {}, "account.move": {}}
        for case in self:
            note = text(case)
            sentence = Markup("%s") % note
            notes["dunning.resolution"][case.id] = sentence
            partner_note = notes["res.partner"].get(case.partner_id.id)
            notes["res.partner"][case.partner_id.id] = (
                partner_note + Markup("<br/>") + sentence if partner_note else sentence
            )
            base = {
                "date": today,
                "event_type": event_type,
                "partner_id": case.partner_id.id,
                "company_id": case.company_id.id,
                "user_id": self.env.user.id,
                "note": note,
                "resolution_id": case.id,
            }
            if not per_line:
                # The case's amount, in the company's currency (each line's event has its
                # document's).
                events.append(
                    dict(base, currency_id=case.currency_id.id, amount_residual=case.amount_open)
                )
                continue
            for move in case.line_ids.move_id:
                move_note = notes["account.move"].get(move.id)
                notes["account.move"][move.id] = (
                    move_note + Markup("<br/>") + sentence if move_note else sentence
                )
            events += [
                dict(
                    base,
                    move_id=line.move_id.id,
                    move_line_id=line.id,
                    currency_id=line.currency_id.id,
                    amount_residual=line.amount_residual_currency,
                )
                for line in case.line_ids
            ]
        Bulk = self.env["dunning.bulk"].sudo()  # sudo: the trail of these cases, for the user
        for model, bodies in notes.items():
            Bulk._log_notes(model, bodies, self.env.user.partner_id)
        # sudo: the audit trail is written by the system only, in each case's company (one
        # INSERT: the ladder proposes hundreds of cases at once)
        self.env["dunning.event"].sudo()._create_bulk(events)
