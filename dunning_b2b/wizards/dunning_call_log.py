from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.dunning_promise import dunning_today
from ..tools import check_dunning_rights

OUTCOMES = [
    ("reached", "Reached"),
    ("voicemail", "Voicemail"),
    ("wrong_contact", "Wrong contact"),
    ("promised", "Promised to pay"),
    ("disputes", "Disputes"),
    ("says_paid", "Says paid"),
    ("other", "Other"),
]
CHANNELS = [
    ("call", "Phone call"),
    ("email", "Email"),
    ("letter", "Letter"),
    ("portal", "Portal"),
]
# Days the collector gives the bank before checking a payment the customer says was made.
PAYMENT_CHECK_DELAY = 2


class DunningCallLog(models.TransientModel):
    """ "Log a call" / "Log a response": what the buyer said, on the customer and its invoices."""

    _name = "dunning.call.log"
    _description = "Log a Call or Response"

    kind = fields.Selection(
        [("call", "Call"), ("response", "Response")], required=True, default="call"
    )
    channel = fields.Selection(
        CHANNELS,
        string="Received By",
        required=True,
        default="call",
        help="How the response came in; a call is always by phone.",
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, domain=[("parent_id", "=", False)]
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    move_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        domain="[('id', 'in', open_move_ids)]",
        help="The invoices the conversation was about. Empty: the customer in general.",
    )
    open_move_ids = fields.Many2many(
        "account.move",
        compute="_compute_open_move_ids",
        help="The customer's documents with an open receivable line (the selector's).",
    )
    outcome = fields.Selection(OUTCOMES, required=True, default="reached")
    contact_id = fields.Many2one(
        "res.partner",
        string="Contact Reached",
        domain="['|', ('id', '=', partner_id), ('parent_id', '=', partner_id)]",
    )
    contact_name = fields.Char(
        string="Contact (not in Odoo)", help="Who you spoke to, if not one of the contacts."
    )
    note = fields.Text()
    phone_note = fields.Html(compute="_compute_phone_note", sanitize=False)

    @api.depends("partner_id", "company_id")
    @api.depends_context("allowed_company_ids")
    def _compute_open_move_ids(self):
        Line = self.env["dunning.line"]
        for log in self:
            partner = log.partner_id.commercial_partner_id
            items = (
                Line._get_open_items(log.company_id, partner_ids=partner.ids, credits=False)
                if partner and log.company_id in self.env.companies
                else []
            )
            log.open_move_ids = [fields.Command.set(sorted({item.move_id for item in items}))]

    def _get_open_items_by_move(self):
        """The open receivable debit lines of the chosen invoices: dict move id -> [OpenItem]."""
        items = self.env["dunning.line"]._get_open_items(
            self.company_id,
            partner_ids=self.partner_id.commercial_partner_id.ids,
            move_ids=self.move_ids.ids,
            credits=False,
        )
        by_move = {}
        for item in items:
            by_move.setdefault(item.move_id, []).append(item)
        return by_move

    @api.depends("partner_id")
    def _compute_phone_note(self):
        for log in self:
            log.phone_note = log.partner_id._dunning_phone_note() if log.partner_id else False

    @api.onchange("kind")
    def _onchange_kind(self):
        if self.kind == "call":
            self.channel = "call"

    def action_confirm(self):
        self.ensure_one()
        check_dunning_rights(self, operation="write")
        self.move_ids.check_access("read")
        self._check_company_scope()
        partner = self.partner_id.commercial_partner_id
        foreign = self.move_ids.filtered(lambda m: m.commercial_partner_id != partner)
        if foreign:
            raise UserError(
                self.env._(
                    "Invoices: %(invoices)s are not invoices of %(customer)s. Log the call "
                    "on each customer.",
                    invoices=", ".join(foreign.mapped("name")),
                    customer=partner.name,
                )
            )
        sentence = self._get_sentence()
        self._log(partner, sentence)
        if self.kind == "call":
            self.env["mail.activity"]._dunning_close_call_tasks(
                partner, self.company_id, dunning_today(self.env), sentence
            )
        if self.outcome == "says_paid":
            self._schedule_payment_check(partner)
        # The worklist row shows the call at once (a promise or a dispute refreshes it again).
        self.env["dunning.engine"]._reevaluate(self, ladder=False)
        if self.outcome == "promised":
            return self.env["dunning.promise"]._get_form_action(
                {
                    "default_partner_id": partner.id,
                    "default_company_id": self.company_id.id,
                    "default_move_ids": self.move_ids.ids,
                    "default_amount": sum(
                        item.amount
                        for items in self._get_open_items_by_move().values()
                        for item in items
                    ),
                    "default_channel": self.channel,
                    "default_note": self.note,
                }
            )
        if self.outcome == "disputes":
            return self.env["dunning.dispute"]._get_form_action(
                {
                    "default_move_id": self.move_ids[:1].id,
                    "default_company_id": self.company_id.id,
                    "default_description": self.note,
                }
            )
        return {"type": "ir.actions.act_window_close"}

    def _check_company_scope(self):
        """The call is logged in a company the user works in (the events and figures are
        that company's), on invoices of that company."""
        if self.company_id not in self.env.companies and not self.env.su:
            raise AccessError(
                self.env._(
                    "Company: %(company)s is not among the companies you work in. Switch to it "
                    "in the company selector, or ask one of its collectors.",
                    company=self.company_id.name,
                )
            )
        foreign = self.move_ids.filtered(lambda m: m.company_id != self.company_id)
        if foreign:
            raise UserError(
                self.env._(
                    "Invoices: %(invoices)s belong to another company than %(company)s. Log "
                    "the call from the invoice, in its company.",
                    invoices=", ".join(foreign.mapped("name")),
                    company=self.company_id.name,
                )
            )

    def _get_sentence(self):
        outcomes = dict(self._fields["outcome"]._description_selection(self.env))
        channels = dict(self._fields["channel"]._description_selection(self.env))
        who = self.contact_id.name or self.contact_name
        if self.kind == "call":
            sentence = self.env._(
                "Call by %(user)s: %(outcome)s.",
                user=self.env.user.name,
                outcome=outcomes[self.outcome],
            )
        else:
            sentence = self.env._(
                "Response received (%(channel)s), logged by %(user)s: %(outcome)s.",
                channel=channels[self.channel].lower(),
                user=self.env.user.name,
                outcome=outcomes[self.outcome],
            )
        if who:
            sentence += " " + self.env._("Contact: %(contact)s.", contact=who)
        if self.move_ids:
            sentence += " " + self.env._(
                "Invoices: %(invoices)s.", invoices=", ".join(self.move_ids.mapped("name"))
            )
        if self.note:
            sentence += " " + self.note
        return sentence

    def _log(self, partner, sentence):
        """An event per invoice (or one for the customer) and a note in the chatter of the
        customer and of each invoice, in the collector's name."""
        today = dunning_today(self.env)
        event_type = "call" if self.kind == "call" else "response"
        body = Markup("%s") % sentence
        # sudo: a collector posts on customers without the right to edit them
        partner.sudo().message_post(
            body=body, message_type="comment", subtype_xmlid="mail.mt_note",
            author_id=self.env.user.partner_id.id,
        )  # fmt: skip
        if self.move_ids:
            # sudo: notes on the call's invoices (its company's), without write right on them
            self.move_ids.sudo()._message_log_batch(
                {move.id: body for move in self.move_ids}, author_id=self.env.user.partner_id.id
            )
        base = {
            "event_type": event_type,
            "date": today,
            "partner_id": partner.id,
            "company_id": self.company_id.id,
            "user_id": self.env.user.id,
            "note": sentence,
        }
        # Per invoice: what its open receivable lines owe, and the oldest one's age.
        open_items = self._get_open_items_by_move()
        # sudo: the audit trail is written by the system only, in the call's company
        self.env["dunning.event"].sudo().create(
            [
                dict(
                    base,
                    move_id=move.id,
                    level_id=move.dunning_level_id.id,
                    currency_id=move.currency_id.id,
                    amount_residual=sum(item.amount for item in open_items.get(move.id, ())),
                    days_overdue=max(
                        (
                            (today - item.due_date).days
                            for item in open_items.get(move.id, ())
                            if item.due_date
                        ),
                        default=0,
                    ),
                )
                for move in self.move_ids
            ]
            or [base]
        )

    def _schedule_payment_check(self, partner):
        moves = self.move_ids
        # sudo: collectors chase customers they may not edit; the task is theirs
        partner.sudo().activity_schedule(
            "dunning_b2b.mail_activity_type_dunning_todo",
            date_deadline=dunning_today(self.env) + timedelta(days=PAYMENT_CHECK_DELAY),
            summary=self.env._(
                "Check the payment %(customer)s says it made", customer=partner.name
            ),
            note=Markup("<p>%s</p>")
            % self.env._(
                "%(customer)s says it paid %(invoices)s. Look for the payment in the bank "
                "statements; if it is not there, phone back.",
                customer=partner.name,
                invoices=", ".join(moves.mapped("name")) or self.env._("its invoices"),
            ),
            user_id=self.env.user.id,
            dunning_company_id=self.company_id.id,
        )
