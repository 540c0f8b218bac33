import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

_logger = logging.getLogger(__name__)


class DunningMessage(models.Model):
    """One communication to one customer for one stage: the invoices it lists and its fate.

    Mail templates of the ladder render on this model, so a template sees the customer, the
    stage, the invoices and the contact to write back to.
    """

    _name = "dunning.message"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _description = "Dunning Message"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    date = fields.Date(required=True, index=True, readonly=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda s: s.env.company
    )
    level_id = fields.Many2one(
        "dunning.level", string="Stage", required=True, readonly=True, ondelete="restrict"
    )
    move_ids = fields.Many2many(
        "account.move",
        "dunning_message_account_move_rel",
        "message_id",
        "move_id",
        string="Invoices",
        readonly=True,
    )
    recipient_ids = fields.Many2many(
        "res.partner",
        "dunning_message_recipient_rel",
        "message_id",
        "partner_id",
        string="Recipients",
        readonly=True,
    )
    collector_id = fields.Many2one("res.users", readonly=True)
    state = fields.Selection(
        [
            ("draft", "To Review"),
            ("queued", "Queued"),
            ("cancel", "Cancelled"),
        ],
        default="draft",
        required=True,
        readonly=True,
        index=True,
        tracking=True,
    )
    mail_message_id = fields.Many2one("mail.message", string="Email", readonly=True)
    delivery_state = fields.Selection(
        [
            ("none", "Not sent"),
            ("pending", "Waiting"),
            ("sent", "Sent"),
            ("failed", "Failed"),
        ],
        compute="_compute_delivery_state",
    )
    amount_text = fields.Char(
        string="Total Due", compute="_compute_amount_text", help="Open amounts, per currency."
    )
    invoice_count = fields.Integer(compute="_compute_amount_text")
    payment_reference_text = fields.Char(
        string="Payment References", compute="_compute_amount_text"
    )
    max_days_overdue = fields.Integer(
        string="Oldest (days overdue)", compute="_compute_amount_text"
    )

    # One message per customer, stage and day: a second run on the same day sends nothing.
    _once_a_day = models.UniqueIndex(
        "(partner_id, level_id, company_id, date) WHERE state != 'cancel'",
        "This customer already has a message for this stage today.",
    )

    @api.depends("partner_id", "level_id", "date")
    def _compute_name(self):
        for message in self:
            message.name = " · ".join(
                filter(None, [message.level_id.name, message.partner_id.name, str(message.date)])
            )

    @api.depends("mail_message_id.notification_ids.notification_status")
    def _compute_delivery_state(self):
        for message in self:
            statuses = set(
                message.mail_message_id.notification_ids.filtered(
                    lambda n: n.notification_type == "email"
                ).mapped("notification_status")
            )
            if not message.mail_message_id:
                message.delivery_state = "none"
            elif statuses & {"exception", "bounce"}:
                message.delivery_state = "failed"
            elif statuses and statuses <= {"sent"}:
                message.delivery_state = "sent"
            else:
                message.delivery_state = "pending"

    @api.depends("move_ids.amount_residual", "move_ids.currency_id", "date")
    def _compute_amount_text(self):
        for message in self:
            message.invoice_count = len(message.move_ids)
            message.payment_reference_text = ", ".join(
                move.payment_reference or move.name for move in message.move_ids
            )
            message.max_days_overdue = max(
                [message.get_days_overdue(move) for move in message.move_ids] or [0]
            )
            message.amount_text = " + ".join(
                format_amount(self.env, amount, currency)
                for currency, amount in message._get_totals()
            )

    def _get_totals(self):
        """Open amount per currency, as a list of (currency, amount)."""
        self.ensure_one()
        totals = defaultdict(float)
        for move in self.move_ids:
            totals[move.currency_id] += move.amount_residual
        return sorted(totals.items(), key=lambda item: item[0].name)

    @api.private
    def get_days_overdue(self, move):
        """Days ``move`` is overdue on the message date, for templates."""
        self.ensure_one()
        if not move.invoice_date_due:
            return 0
        return (self.date - move.invoice_date_due).days

    @api.private
    def get_contact(self):
        """Who the customer should answer: the collector, or else the company."""
        self.ensure_one()
        if self.collector_id:
            return self.collector_id.partner_id
        return self.company_id.partner_id

    def action_send(self):
        """Send messages held for review (stages that are not automatic)."""
        if any(message.state != "draft" for message in self):
            raise UserError(self.env._("Only messages to review can be sent."))
        self.check_access("write")
        self.sudo()._send()
        return True

    def action_cancel(self):
        if any(message.state != "draft" for message in self):
            raise UserError(self.env._("Only messages to review can be cancelled."))
        self.check_access("write")
        events = []
        self.sudo().activity_ids.action_feedback(feedback=self.env._("Message cancelled."))
        for message in self:
            message.sudo().state = "cancel"
            events += message._prepare_event_vals("note", self.env._("Message cancelled."))
        self.env["dunning.event"].sudo().create(events)
        return True

    def _prepare_event_vals(self, event_type, note, user=None):
        """One event per invoice of the message."""
        self.ensure_one()
        return [
            {
                "event_type": event_type,
                "date": fields.Date.context_today(self),
                "move_id": move.id,
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "level_id": self.level_id.id,
                "message_id": self.id,
                "currency_id": move.currency_id.id,
                "amount_residual": move.amount_residual,
                "days_overdue": self.get_days_overdue(move),
                "user_id": (user or self.env.user).id,
                "note": note,
            }
            for move in self.move_ids
        ]

    def _send(self, user=None):
        """Render each message in the customer's language and queue it as an email.

        The email is posted on the customer's chatter and delivered by the mail queue after
        the transaction commits, so a run that fails never sends anything. A message that
        cannot be rendered or posted is left to review with an error event and a task; the
        others go on. Called as sudo by the engine and by :meth:`action_send` after their own
        access checks.
        """
        events = []
        sent = self.browse()
        for message in self:
            try:
                with self.env.cr.savepoint():
                    message._post_email()
                sent |= message
            except Exception as error:  # noqa: BLE001 - one customer's failure must not stop the run
                _logger.warning("Dunning message %s could not be sent: %s", message.id, error)
                events += message._prepare_event_vals(
                    "error",
                    self.env._("The email could not be prepared: %(error)s", error=error),
                    user,
                )
                message._schedule_failure_activity(error)
        # The review tasks of sent messages are done.
        sent.activity_ids.action_feedback(feedback=self.env._("Message sent."))
        for message in sent:
            recipients = ", ".join(message.recipient_ids.mapped("email_formatted"))
            text = self.env._("Sent to %(recipients)s", recipients=recipients)
            events += message._prepare_event_vals("email", text, user)
            message.move_ids._message_log_batch(
                {
                    move.id: Markup("%s <b>%s</b><br/>%s")
                    % (self.env._("Dunning email:"), message.level_id.name, text)
                    for move in message.move_ids
                }
            )
        self.env["dunning.event"].create(events)
        return sent

    def _post_email(self):
        self.ensure_one()
        template = self.level_id.mail_template_id
        values = template._generate_template(self.ids, ("subject", "body_html"))[self.id]
        attachments = self._get_letter_attachments()
        mail = self.partner_id.with_context(
            mail_notify_force_send=False, mail_post_autofollow=False
        ).message_post(
            body=values["body_html"],
            subject=values["subject"],
            attachments=attachments,
            partner_ids=self.recipient_ids.ids,
            author_id=self.get_contact().id,
            email_from=self.company_id.email_formatted or None,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="mail.mail_notification_light",
        )
        self.write({"state": "queued", "mail_message_id": mail.id})

    def _get_letter_report(self):
        """The report of the stage's letter, or None when the stage sends no letter."""
        self.ensure_one()
        level = self.level_id
        if not level.send_letter or self.env.context.get("dunning_no_letter"):
            return None
        return {
            "formal_notice": "dunning_b2b.report_formal_notice",
            "demand": "dunning_b2b.report_demand_letter",
            "statement": "dunning_b2b.report_customer_statement",
        }.get(level.letter_type or "formal_notice")

    def _get_letter_attachments(self):
        """The stage's letter as PDF, in the customer's language, dated like the message;
        writes the "letter" events. ``[(file name, content)]`` for ``message_post``."""
        report_name = self._get_letter_report()
        if not report_name:
            return []
        Report = self.env["ir.actions.report"].with_company(self.company_id)
        Report = Report.with_context(
            lang=self.partner_id.lang or self.env.lang,
            dunning_letter_date=self.date,
            dunning_letter_no_log=True,
        )
        content, report_type = Report._render_qweb_pdf(report_name, self.partner_id.ids)
        label = dict(self.level_id._fields["letter_type"]._description_selection(self.env))[
            self.level_id.letter_type or "formal_notice"
        ]
        self.env[f"report.{report_name}"].with_company(self.company_id)._log_letters(
            self.partner_id, report_name, via="email", letter_date=self.date, message=self
        )
        filename = f"{label} - {self.partner_id.name}.{report_type}"
        return [(filename, content)]

    def _schedule_failure_activity(self, error):
        self.ensure_one()
        self.partner_id.activity_schedule(
            "dunning_b2b.mail_activity_type_dunning_todo",
            summary=self.env._("%(stage)s: the email could not be sent", stage=self.level_id.name),
            note=Markup("<p>%s</p><p>%s</p>")
            % (
                self.env._("Check the template and the customer's data, then send it again:"),
                str(error),
            ),
            user_id=(self.collector_id or self.env.user).id,
        )
