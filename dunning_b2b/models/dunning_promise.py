from collections import defaultdict
from datetime import date as date_type

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import clean_context, format_date

from ..tools import recorder_name

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
    """The day a user's action happens on: today in the user's own time zone (the Timezone
    of their preferences, UTC when unset), never the ``tz`` of the request's context, so that
    a request cannot move the day that records, checks and dates dunning decisions. The
    replay of the demo history sets the day it replays with the ``dunning_today`` context
    key; it is honoured only while the registry loads (installing or updating modules),
    never from a user's request."""
    forced = env.context.get("dunning_today")
    if forced and not env.registry.ready:
        return fields.Date.to_date(forced)
    user = env.user
    return fields.Date.context_today(user.with_context(tz=user.tz or "UTC"))


def open_lines_by_move(env, company, moves):
    """The open receivable debit lines of ``moves`` in ``company``, through the one selector
    (``dunning.line``), credits left out.

    :return: dict move id -> list of ``OpenItem``, by due date
    """
    by_move = defaultdict(list)
    if moves:
        for item in env["dunning.line"]._get_open_items(company, move_ids=moves.ids, credits=False):
            by_move[item.move_id].append(item)
    return by_move


class DunningPromise(models.Model):
    """A customer's promise to pay some of its invoices by a date. While it is open and its
    date has not passed, the dunning run leaves the invoices it covers where they are.

    What a promise covers is the open receivable lines of its documents (each instalment
    with its own due date and open amount), in the promise's currency, read through the one
    selector (``dunning.line``); credits are not netted: a promise is to pay invoices. The
    daily check is in ``dunning_promise_check.py``.
    """

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
        # Documents with an open receivable debit: invoices, debit notes, opening balances.
        domain="[('commercial_partner_id', '=', partner_id), ('company_id', '=', company_id), "
        "('state', '=', 'posted'), ('line_ids', 'any', [('account_type', '=', "
        "'asset_receivable'), ('reconciled', '=', False), ('balance', '>', 0)])]",
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
        PROMISE_STATES,
        string="Status",
        default="open",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
        copy=False,
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
    line_ids = fields.Many2many(
        "account.move.line",
        string="Open Lines",
        compute="_compute_amount_open",
        help="The open receivable lines (instalments) of the covered invoices.",
    )
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

    @api.depends(
        "move_ids.line_ids.amount_residual_currency",
        "move_ids.line_ids.reconciled",
        "amount",
        "amount_open_start",
        "state",
    )
    def _compute_amount_open(self):
        lines = self._get_open_lines()
        for promise in self:
            items = lines.get(promise.id, [])
            promise.line_ids = [item.line_id for item in items]
            promise.amount_open = promise._sum_lines(items)
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
            open_move_ids = {item.move_id for item in promise._get_open_lines(same_currency=False)
                             .get(promise.id, [])}  # fmt: skip
            not_open = moves.filtered(lambda m, ids=open_move_ids: m.id not in ids)
            if not_open:
                raise ValidationError(
                    self.env._(
                        "Invoices: %(invoices)s have nothing open to pay. A promise covers "
                        "posted customer invoices with an open amount: remove them.",
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
        promises = self.filtered(lambda p: p.state == "open" and p.move_ids)
        lines = promises._get_open_lines()
        for promise in promises:
            currency = promise.currency_id
            if currency.compare_amounts(promise.amount, 0.0) <= 0:
                raise ValidationError(
                    self.env._(
                        "Promised Amount: a promise to pay is for more than zero. Enter the "
                        "amount %(customer)s promised.",
                        customer=promise.partner_id.display_name,
                    )
                )
            items = lines.get(promise.id, [])
            open_amount = promise._sum_lines(items)
            if currency.compare_amounts(promise.amount, open_amount) > 0:
                raise ValidationError(
                    self.env._(
                        "Promised Amount: %(amount)s is more than the %(open)s still open on "
                        "%(lines)s. Enter at most the open amount, or add the other "
                        "invoices the customer means to pay.",
                        amount=currency.format(promise.amount),
                        open=currency.format(open_amount),
                        lines="; ".join(promise._get_line_labels(items).values()),
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
        lines = promises._get_open_lines()
        for promise in promises:
            # sudo: what is open now, measured by the system, not given by the user.
            promise.sudo().amount_open_start = promise._sum_lines(lines.get(promise.id, []))
        promises._log_dunning(
            "promise",
            lambda p: self.env._(
                "Promise to pay %(amount)s by %(date)s (%(channel)s), recorded by %(user)s.",
                amount=p.currency_id.format(p.amount),
                date=format_date(self.env, p.promise_date),
                channel=dict(PROMISE_CHANNELS)[p.channel].lower(),
                user=recorder_name(p.user_id),
            ),
        )
        self.env["dunning.message"]._dunning_mark_answered_by(promises, "promised")
        self.env["dunning.engine"]._reevaluate(promises)
        return promises

    def action_cancel(self):
        if any(promise.state != "open" for promise in self):
            raise UserError(self.env._("Only an open promise can be cancelled."))
        self.check_access("write")
        # sudo: the user's right to change these promises was checked above.
        self.sudo().write({"state": "cancelled"})
        self._log_dunning(
            "promise_cancelled",
            lambda p: self.env._(
                "Promise cancelled by %(user)s: the invoices are chased again.",
                user=self.env.user.name,
            ),
        )
        self.env["dunning.engine"]._reevaluate(self)
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

    # ------------------------------------------------------------ lines
    def _get_open_lines(self, same_currency=True):
        """The open receivable lines of the promises' documents (debits only: a promise is
        to pay invoices, credits are not netted), through the one selector.

        :param same_currency: only the lines in the promise's currency
        :return: dict promise id -> list of ``OpenItem``, by due date
        """
        result = {}
        for company in self.company_id:
            promises = self.filtered(lambda p, c=company: p.company_id == c)
            by_move = open_lines_by_move(self.env, company, promises.move_ids._origin)
            for promise in promises:
                currency = promise.currency_id or company.currency_id
                items = [
                    item
                    for move in promise.move_ids._origin
                    for item in by_move.get(move.id, ())
                    if not same_currency or item.currency_id == currency.id
                ]
                result[promise.id] = sorted(
                    items, key=lambda i: (i.due_date or date_type.max, i.line_id)
                )
        return result

    def _sum_lines(self, items):
        """What is open on ``items`` (``OpenItem``), in the promise's currency."""
        self.ensure_one()
        currency = self.currency_id or self.company_id.currency_id
        return currency.round(sum(item.amount for item in items))

    def _get_line_labels(self, items):
        """ "INV/2026/00042, instalment 2 of 2, due 04/01/2026: $ 500.00" for each item.

        :return: dict line id -> label, in the order of ``items``
        """
        self.ensure_one()
        names = self.env["dunning.line"]._get_line_labels([item.line_id for item in items])
        currency = self.currency_id or self.company_id.currency_id
        labels = {}
        for item in items:
            parts = [names.get(item.line_id) or item.move_name]
            if item.due_date:
                parts.append(self.env._("due %(date)s", date=format_date(self.env, item.due_date)))
            labels[item.line_id] = self.env._(
                "%(line)s: %(amount)s", line=", ".join(parts), amount=currency.format(item.amount)
            )
        return labels

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
        lines = self._get_open_lines()
        for promise in self:
            sentence = text(promise)
            # sudo: the trail of this promise, written for the user's action
            promise.sudo()._message_log(body=Markup("%s") % sentence)
            by_move = defaultdict(list)
            for item in lines.get(promise.id, []):
                by_move[item.move_id].append(item)
            for move in promise.move_ids:
                events.append(
                    promise._prepare_event_vals(
                        event_type, move, date, user, sentence, by_move[move.id]
                    )
                )
                invoice_logs[move.id].append(sentence)
        # sudo: notes on the promises' own invoices (same company), without write right on them
        moves = self.env["account.move"].browse(list(invoice_logs)).sudo()
        moves._message_log_batch(
            {
                move_id: Markup("<br/>").join(Markup("%s") % sentence for sentence in sentences)
                for move_id, sentences in invoice_logs.items()
            }
        )
        # sudo: the audit trail is written by the system only, in each promise's company
        self.env["dunning.event"].sudo().create(events)

    def _prepare_event_vals(self, event_type, move, date, user, note, items=()):
        """An event on ``move``: what is open on its receivable lines ``items``, and the
        days overdue of the oldest of them (its line when it has one open line)."""
        self.ensure_one()
        due_dates = [item.due_date for item in items if item.due_date]
        return {
            "event_type": event_type,
            "date": date,
            "move_id": move.id,
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "level_id": move.dunning_level_id.id,
            "promise_id": self.id,
            "currency_id": move.currency_id.id,
            "move_line_id": items[0].line_id if len(items) == 1 else False,
            "amount_residual": move.currency_id.round(sum(item.amount for item in items)),
            "days_overdue": (date - min(due_dates)).days if due_dates else 0,
            "user_id": user.id,
            "note": note,
        }
