from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import check_dunning_rights


class DunningMessage(models.Model):
    """What the customer will get, shown on the message before it is sent: the email
    (subject, sender, recipients, body) rendered from the stage's template with the figures of
    today, and the stage's letter. After sending, the email as it was sent."""

    _inherit = "dunning.message"

    preview_subject = fields.Char(string="Subject", compute="_compute_preview")
    preview_email_from = fields.Char(string="From", compute="_compute_preview")
    preview_email_to = fields.Char(string="To", compute="_compute_preview")
    preview_body_html = fields.Html(
        string="Email Preview",
        compute="_compute_preview",
        sanitize=True,
        help="The email as the customer reads it: for a message to review, rendered with the "
        "figures of today (it is dated the day it is sent); once sent, the email sent.",
    )
    has_letter = fields.Boolean(
        compute="_compute_has_letter", help="The stage prints or attaches a letter."
    )

    @api.depends(
        "state",
        "level_id.mail_template_id",
        "line_ids.amount_residual_currency",
        "recipient_ids.email",
        "collector_id",
        "mail_message_id",
    )
    @api.depends_context("lang")
    def _compute_preview(self):
        drafts = self.filtered(lambda m: m.state == "draft" and m.level_id.mail_template_id)
        rendered, errors = {}, {}
        if drafts:
            # sudo: rendered as action_send renders it when it sends (the same template,
            # data and rights), for messages the user reads; nothing is written.
            rendered, errors = (
                drafts.sudo().with_context(dunning_render_today=True)._render_emails()
            )
            errors = {message.id: error for message, error in errors.items()}
        body_field = self.env["mail.message"]._fields["body"]
        for message in self:
            message.preview_email_from = message._get_email_from()
            message.preview_email_to = ", ".join(message.recipient_ids.mapped("email_formatted"))
            sent = message.mail_message_id
            if sent:
                message.preview_subject = sent.subject
                message.preview_email_from = sent.email_from
                message.preview_body_html = sent.body
            elif message.id in rendered:
                message.preview_subject = rendered[message.id]["subject"]
                message.preview_body_html = body_field.convert_to_cache(
                    rendered[message.id]["body_html"] or "", self.env["mail.message"]
                )
            else:
                message.preview_subject = False
                message.preview_body_html = (
                    Markup("<p>%s</p>")
                    % self.env._(
                        "The email cannot be prepared: %(error)s",
                        error=escape(str(errors[message.id])),
                    )
                    if message.id in errors
                    else False
                )

    @api.depends("level_id.send_letter", "level_id.attach_letter", "level_id.letter_type")
    def _compute_has_letter(self):
        for message in self:
            message.has_letter = bool(message._get_letter_report())

    def _get_email_from(self):
        """The sender of the message's email: the company's address, else the contact's."""
        self.ensure_one()
        return self.company_id.email_formatted or self.get_contact().email_formatted

    def action_preview_letter(self):
        """The stage's letter to the customer, as it will be printed or attached: in the
        customer's language, for the message's company, dated today for a message to review
        (the day it is sent) or the day it was sent. A preview logs no letter event; printing
        it from the preview does."""
        self.ensure_one()
        check_dunning_rights(self)
        report_name = self._get_letter_report()
        if not report_name:
            raise UserError(
                self.env._(
                    "The stage %(stage)s sends no letter: tick Send Letter or Attach Letter "
                    "on the stage to have one.",
                    stage=self.level_id.name,
                )
            )
        letter_date = fields.Date.context_today(self) if self.state == "draft" else self.date
        report = (
            self.env["ir.actions.report"]
            ._get_report(report_name)
            .with_company(self.company_id)
            .with_context(
                lang=self.partner_id.lang or self.env.lang,
                dunning_letter_date=fields.Date.to_string(letter_date),
            )
        )
        action = report.report_action(self.partner_id, config=False)
        # Shown in the browser first; the web client carries the action's context (date,
        # company, language) to the report only along with data.
        action.update(
            report_type="qweb-html",
            data={"partner_ids": self.partner_id.ids, "dunning_message_id": self.id},
        )
        return action
