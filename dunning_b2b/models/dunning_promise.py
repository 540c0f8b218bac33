from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import clean_context, float_compare, format_date

from ..engine import BROKEN, KEPT, PromiseState, decide_promise

PROMISE_STATES = [
    ("open", "Open"),
    ("kept", "Kept"),
    ("broken", "Broken"),
    ("cancelled", "Cancelled"),
]
PROMISE_CHANNELS = [
    ("call", "Phone call"),
    ("email", "Email"),
    ("letter", "Letter"),
    ("portal", "Portal"),
]


def dunning_today(env):
    """The day a user's action happens on. The replay of the demo history sets the day it
    replays with the ``dunning_today`` context key; it is honoured only while the registry
    loads (installing or updating modules), never from a user's request."""
    forced = env.context.get("dunning_today")
    if forced and not env.registry.ready:
        return fields.Date.to_date(forced)
    return fields.Date.context_today(env.user)


class DunningPromise(models.Model):
    """A customer's promise to pay some of its invoices by a date. While it is open and its
    date has not passed, the dunning run leaves the invoices it covers where they are."""

    _name = "dunning.promise"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "Promise to Pay"
    _order = "promise_date desc, id desc"
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
    # Companies, customers and currencies of the invoices are checked by _check_move_ids,
    # with a message that says which invoice is wrong.
    move_ids = fields.Many2many(
        "account.move",
        "dunning_promise_account_move_rel",
        "promise_id",
        "move_id",
        string="Invoices",
        domain="[('commercial_partner_id', '=', partner_id), ('company_id', '=', company_id), "
        "('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_currency_id", store=True, precompute=True
    )
    amount = fields.Monetary(string="Promised Amount", tracking=True)
    promise_date = fields.Date(string="Promised Date", required=True, tracking=True)
    extension_date = fields.Date(
        string="Extended Until",
        tracking=True,
        copy=False,
        help="Set by a dunning manager when part was paid by the promised date: the promise "
        "stays open for the remainder until this day.",
    )
    channel = fields.Selection(
        PROMISE_CHANNELS, string="Given By", required=True, default="call", tracking=True
    )
    user_id = fields.Many2one(
        "res.users", string="Recorded By", default=lambda self: self.env.user, readonly=True
    )
    date = fields.Date(
        string="Recorded On",
        default=lambda self: dunning_today(self.env),
        readonly=True,
        copy=False,
    )
    state = fields.Selection(
        PROMISE_STATES, default="open", required=True, readonly=True, index=True, tracking=True
    )
    amount_open_start = fields.Monetary(
        string="Open When Recorded",
        readonly=True,
        copy=False,
        help="What was open on the covered invoices when the promise was recorded; payments "
        "towards the promise are measured from it.",
    )
    amount_paid = fields.Monetary(
        string="Paid Towards It", readonly=True, copy=False, tracking=True
    )
    amount_open = fields.Monetary(string="Still Open on Invoices", compute="_compute_amount_open")
    amount_remaining = fields.Monetary(string="Remainder", compute="_compute_amount_open")
    note = fields.Text()
    event_ids = fields.One2many("dunning.event", "promise_id", string="History")

    @api.depends("partner_id", "amount", "promise_date", "currency_id")
    def _compute_name(self):
        for promise in self:
            promise.name = self.env._(
                "%(customer)s: %(amount)s by %(date)s",
                customer=promise.partner_id.name or "",
                amount=(promise.currency_id or promise.company_id.currency_id).format(
                    promise.amount
                ),
                date=promise.promise_date or "",
            )

    @api.depends("move_ids.currency_id", "company_id")
    def _compute_currency_id(self):
        for promise in self:
            promise.currency_id = promise.move_ids[:1].currency_id or promise.company_id.currency_id

    @api.depends("move_ids.amount_residual", "amount", "amount_open_start", "state")
    def _compute_amount_open(self):
        for promise in self:
            promise.amount_open = sum(promise.move_ids.mapped("amount_residual"))
            paid = (
                max(promise.amount_open_start - promise.amount_open, 0.0)
                if promise.state == "open"
                else promise.amount_paid
            )
            promise.amount_remaining = max(promise.amount - paid, 0.0)

    @api.constrains("move_ids", "partner_id", "company_id")
    def _check_move_ids(self):
        for promise in self:
            moves = promise.move_ids
            if not moves:
                raise ValidationError(
                    self.env._(
                        "Invoices: a promise covers at least one invoice. Add the invoices "
                        "%(customer)s promised to pay.",
                        customer=promise.partner_id.display_name,
                    )
                )
            other_customer = moves.filtered(
                lambda m, p=promise: m.commercial_partner_id != p.partner_id.commercial_partner_id
            )
            if other_customer:
                raise ValidationError(
                    self.env._(
                        "Invoices: %(invoices)s belong to another customer than %(customer)s. "
                        "A promise covers the invoices of one customer: record one promise "
                        "per customer.",
                        invoices=", ".join(other_customer.mapped("name")),
                        customer=promise.partner_id.display_name,
                    )
                )
            other_company = moves.filtered(lambda m, p=promise: m.company_id != p.company_id)
            if other_company:
                raise ValidationError(
                    self.env._(
                        "Invoices: %(invoices)s belong to %(other)s, not to %(company)s. "
                        "A promise covers the invoices of one company: record one promise "
                        "per company.",
                        invoices=", ".join(other_company.mapped("name")),
                        other=", ".join(other_company.company_id.mapped("name")),
                        company=promise.company_id.name,
                    )
                )
            if promise.state != "open":
                continue
            not_open = moves.filtered(
                lambda m: (
                    m.move_type != "out_invoice"
                    or m.state != "posted"
                    or m.payment_state not in ("not_paid", "partial")
                )
            )
            if not_open:
                raise ValidationError(
                    self.env._(
                        "Invoices: %(invoices)s are not open customer invoices. A promise "
                        "covers posted customer invoices that are not paid yet: remove them.",
                        invoices=", ".join(not_open.mapped("display_name")),
                    )
                )
            if len(moves.currency_id) > 1:
                raise ValidationError(
                    self.env._(
                        "Invoices: the invoices are in %(currencies)s. A promise is an amount "
                        "in one currency: record one promise per currency.",
                        currencies=", ".join(moves.currency_id.mapped("name")),
                    )
                )

    @api.constrains("amount", "move_ids")
    def _check_amount(self):
        # Without invoices, _check_move_ids says what is wrong.
        for promise in self.filtered(lambda p: p.state == "open" and p.move_ids):
            currency = promise.currency_id
            if currency.compare_amounts(promise.amount, 0.0) <= 0:
                raise ValidationError(
                    self.env._(
                        "Promised Amount: a promise to pay is for more than zero. Enter the "
                        "amount %(customer)s promised.",
                        customer=promise.partner_id.display_name,
                    )
                )
            open_amount = sum(promise.move_ids.mapped("amount_residual"))
            if currency.compare_amounts(promise.amount, open_amount) > 0:
                raise ValidationError(
                    self.env._(
                        "Promised Amount: %(amount)s is more than the %(open)s still open on "
                        "%(invoices)s. Enter at most the open amount, or add the other "
                        "invoices the customer means to pay.",
                        amount=currency.format(promise.amount),
                        open=currency.format(open_amount),
                        invoices=", ".join(promise.move_ids.mapped("name")),
                    )
                )

    @api.constrains("promise_date")
    def _check_promise_date(self):
        today = dunning_today(self.env)
        for promise in self.filtered(lambda p: p.state == "open"):
            if promise.promise_date < today:
                raise ValidationError(
                    self.env._(
                        "Promised Date: %(date)s is in the past. Enter the day the customer "
                        "promised to pay, today or later.",
                        date=format_date(self.env, promise.promise_date),
                    )
                )

    @api.constrains("extension_date", "promise_date")
    def _check_extension_date(self):
        for promise in self.filtered("extension_date"):
            if promise.extension_date <= promise.promise_date:
                raise ValidationError(
                    self.env._(
                        "Extended Until: %(extension)s is not after the promised date "
                        "%(date)s. Choose a later day, or leave it empty.",
                        extension=format_date(self.env, promise.extension_date),
                        date=format_date(self.env, promise.promise_date),
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"])
                vals["partner_id"] = partner.commercial_partner_id.id
        promises = super().create(vals_list)
        # The form may come prefilled ("default_note", ...): not for the records made below.
        promises = promises.with_context(clean_context(self.env.context))
        for promise in promises:
            promise.amount_open_start = sum(promise.move_ids.mapped("amount_residual"))
        promises._log_dunning(
            "promise",
            lambda p: self.env._(
                "Promise to pay %(amount)s by %(date)s (%(channel)s), recorded by %(user)s.",
                amount=p.currency_id.format(p.amount),
                date=format_date(self.env, p.promise_date),
                channel=dict(PROMISE_CHANNELS)[p.channel].lower(),
                user=p.user_id.name,
            ),
        )
        return promises

    def write(self, vals):
        if "extension_date" in vals and not self.env.su:
            if not self.env.user.has_group("dunning_b2b.group_dunning_manager"):
                raise AccessError(
                    self.env._(
                        "Extended Until: only a dunning manager can extend a promise. Ask a "
                        "manager, or record a new promise with the customer."
                    )
                )
            if any(promise.state != "open" for promise in self):
                raise UserError(
                    self.env._(
                        "Extended Until: only an open promise can be extended; record a new "
                        "promise instead."
                    )
                )
        if (
            set(vals) & {"move_ids", "amount", "promise_date", "partner_id", "company_id"}
            and not self.env.su
            and any(promise.state != "open" for promise in self)
        ):
            raise UserError(
                self.env._(
                    "A kept, broken or cancelled promise is history and cannot be changed. "
                    "Record a new promise instead."
                )
            )
        res = super().write(vals)
        if vals.get("extension_date"):
            self._log_dunning(
                "promise_extended",
                lambda p: self.env._(
                    "Promise extended until %(date)s for the remainder of %(remainder)s, by "
                    "%(user)s.",
                    date=format_date(self.env, p.extension_date),
                    remainder=p.currency_id.format(p.amount_remaining),
                    user=self.env.user.name,
                ),
            )
        return res

    def action_cancel(self):
        if any(promise.state != "open" for promise in self):
            raise UserError(self.env._("Only an open promise can be cancelled."))
        self.check_access("write")
        self.write({"state": "cancelled"})
        self._log_dunning(
            "promise_cancelled",
            lambda p: self.env._(
                "Promise cancelled by %(user)s: the invoices are chased again.",
                user=self.env.user.name,
            ),
        )
        return True

    @api.model
    def _get_form_action(self, context):
        """A new promise's form, prefilled from ``context`` defaults."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Promise to Pay"),
            "res_model": "dunning.promise",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": context,
        }

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice")
        action.update(domain=[("id", "in", self.move_ids.ids)], context={"create": False})
        return action

    # ------------------------------------------------------------ business
    def _log_dunning(self, event_type, text, user=None, date=None):
        """An event per covered invoice and a chatter line on the promise and its invoices.

        ``text`` gives each promise's sentence. Runs as sudo: the audit trail is written
        for the user's action whatever their rights on events and invoices.
        """
        date = date or dunning_today(self.env)
        user = user or self.env.user
        events = []
        invoice_logs = defaultdict(list)
        for promise in self:
            sentence = text(promise)
            promise.sudo()._message_log(body=Markup("%s") % sentence)
            for move in promise.move_ids:
                events.append(promise._prepare_event_vals(event_type, move, date, user, sentence))
                invoice_logs[move.id].append(sentence)
        moves = self.env["account.move"].browse(list(invoice_logs)).sudo()
        moves._message_log_batch(
            {
                move_id: Markup("<br/>").join(Markup("%s") % sentence for sentence in sentences)
                for move_id, sentences in invoice_logs.items()
            }
        )
        self.env["dunning.event"].sudo().create(events)

    def _prepare_event_vals(self, event_type, move, date, user, note):
        self.ensure_one()
        return {
            "event_type": event_type,
            "date": date,
            "move_id": move.id,
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "level_id": move.dunning_level_id.id,
            "promise_id": self.id,
            "currency_id": move.currency_id.id,
            "amount_residual": move.amount_residual,
            "days_overdue": (date - move.invoice_date_due).days if move.invoice_date_due else 0,
            "user_id": user.id,
            "note": note,
        }

    @api.model
    def _get_due_check_domain(self, company):
        """Promises the daily check looks at."""
        return [("company_id", "=", company.id), ("state", "=", "open")]

    @api.model
    def _check_due_promises(self, company, run_date, user, stats):
        """Daily check: promises paid in full are kept, promises past their date unpaid are
        broken (with a task to phone the customer); the rest stay open."""
        promises = self.search(self._get_due_check_domain(company))
        if not promises:
            return
        promises.fetch(["amount", "promise_date", "extension_date", "amount_open_start"])
        promises.move_ids.fetch(["amount_residual"])
        kept = broken = self.browse()
        for promise in promises:
            decision = decide_promise(
                PromiseState(
                    promise_id=promise.id,
                    amount=promise.amount,
                    promise_date=promise.promise_date,
                    open_at_start=promise.amount_open_start,
                    open_now=sum(promise.move_ids.mapped("amount_residual")),
                    extension_date=promise.extension_date or None,
                ),
                run_date,
                rounding=promise.currency_id.rounding,
            )
            if float_compare(
                decision.paid, promise.amount_paid, precision_rounding=promise.currency_id.rounding
            ):
                promise.amount_paid = decision.paid
            if decision.state == KEPT:
                kept |= promise
            elif decision.state == BROKEN:
                broken |= promise
        if kept:
            kept.state = "kept"
            kept._log_dunning(
                "promise_kept",
                lambda p: self.env._(
                    "Promise kept: %(paid)s paid towards the %(amount)s promised by %(date)s.",
                    paid=p.currency_id.format(p.amount_paid),
                    amount=p.currency_id.format(p.amount),
                    date=format_date(self.env, p.promise_date),
                ),
                user=user,
                date=run_date,
            )
        if broken:
            broken.state = "broken"
            broken._log_dunning(
                "promise_broken",
                lambda p: self.env._(
                    "Promise broken: %(amount)s was promised by %(date)s, %(paid)s was paid. "
                    "Dunning resumes at the stage the invoices' age calls for.",
                    amount=p.currency_id.format(p.amount),
                    date=format_date(self.env, p.extension_date or p.promise_date),
                    paid=p.currency_id.format(p.amount_paid),
                ),
                user=user,
                date=run_date,
            )
            broken._schedule_broken_tasks(company, run_date)
        stats["promises_kept"] += len(kept)
        stats["promises_broken"] += len(broken)

    def _schedule_broken_tasks(self, company, run_date):
        """A task for the customer's collector to phone about each broken promise."""
        collectors = self.env["dunning.engine"]._get_collectors(company, self.partner_id)
        activity_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_call")
        vals_list = []
        for promise in self:
            lines = promise.move_ids._get_dunning_html_list()
            note = Markup("<p>%s</p>%s%s") % (
                self.env._(
                    "%(customer)s promised %(amount)s by %(date)s and paid %(paid)s. Ask why, "
                    "and agree on what happens next.",
                    customer=promise.partner_id.name,
                    amount=promise.currency_id.format(promise.amount),
                    date=format_date(self.env, promise.extension_date or promise.promise_date),
                    paid=promise.currency_id.format(promise.amount_paid),
                ),
                lines,
                promise.partner_id._dunning_phone_note(),
            )
            vals_list.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_id": promise.partner_id.id,
                    "activity_type_id": activity_type.id,
                    "summary": self.env._(
                        "Promise broken: phone %(customer)s", customer=promise.partner_id.name
                    ),
                    "note": note,
                    "user_id": (collectors[promise.partner_id.id] or self.env.user).id,
                    "date_deadline": run_date,
                }
            )
        self.env["dunning.engine"]._create_activities(vals_list)
