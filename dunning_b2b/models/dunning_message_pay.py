import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import format_date

# An image written into the body (the payment code): <img src="data:image/png;base64,...">
_QR_SRC = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
INLINE_PREFIX = "dunning-payment-qr-"


class DunningMessage(models.Model):
    """What an email says about paying, and who it comes from: the company's bank account
    and each document's payment reference with a scannable payment code
    (``dunning.payment.info``), the deadline as a date in the customer's language, the
    company's address closing the email, and the address replies go to."""

    _inherit = "dunning.message"

    payment_html = fields.Html(
        string="How to Pay",
        compute="_compute_payment_html",
        sanitize=False,
        help="The company's bank account (IBAN, BIC), the payment reference of each invoice "
        "and, where Odoo has one for the account and currency, a payment QR code.",
    )
    deadline_date = fields.Date(
        string="Payment Deadline",
        compute="_compute_deadline",
        help="The message's date plus the stage's Payment Deadline (days), else the "
        "company's letter deadline.",
    )
    deadline_text = fields.Char(
        compute="_compute_deadline", help="The deadline as the customer reads it."
    )
    company_footer_html = fields.Html(
        string="Company Footer",
        compute="_compute_company_footer_html",
        sanitize=False,
        help="The company's name, postal address and numbers: the close of every email.",
    )

    @api.depends(
        "line_ids.amount_residual_currency",
        "move_ids.line_ids.amount_residual_currency",
        "date",
        "company_id",
        "partner_id",
    )
    @api.depends_context("lang", "dunning_render_today", "dunning_portal_links")
    def _compute_payment_html(self):
        qweb = self.env["ir.qweb"]
        data = self._get_render_data()
        cache = {}
        # The link to the customer's page: a new one per message sent, none in a preview.
        links = {}
        if self.env.context.get("dunning_portal_links"):
            links = self.env["dunning.access"]._create_message_links(
                self.filtered(lambda m: data[m.id]["rows"])
            )
        for message in self:
            rows = data[message.id]["rows"]
            if not rows:
                message.payment_html = False
                continue
            link = qweb._render(
                "dunning_b2b.letter_online_link", {"portal_url": links.get(message.id)}
            )
            # One block per currency asked: each has its own account and payment code.
            message.payment_html = str(link) + "".join(
                str(
                    qweb._render(
                        "dunning_b2b.letter_how_to_pay",
                        {
                            "company": message.company_id,
                            "partner": message.partner_id,
                            "lines": rows,
                            "currency": total["currency"],
                            "dunning_pay_cache": cache,
                        },
                    )
                )
                for total in data[message.id]["summary"]
            )

    @api.depends("date", "level_id.deadline_days", "company_id", "partner_id.lang")
    @api.depends_context("dunning_render_today")
    def _compute_deadline(self):
        for message in self:
            days = message.level_id.deadline_days or message.company_id.dunning_letter_deadline_days
            on_date = message._get_render_date() if message.date else False
            message.deadline_date = on_date and on_date + timedelta(days=days)
            message.deadline_text = format_date(
                self.env,
                message.deadline_date,
                lang_code=message.partner_id.lang or self.env.lang,
                date_format="long",
            )

    @api.depends("company_id")
    @api.depends_context("lang")
    def _compute_company_footer_html(self):
        qweb = self.env["ir.qweb"]
        for company, messages in self.grouped("company_id").items():
            messages.company_footer_html = qweb._render(
                "dunning_b2b.dunning_message_company_footer", {"company": company}
            )

    @api.model
    def mail_allowed_qweb_expressions(self):
        return (
            *super().mail_allowed_qweb_expressions(),
            "object.payment_html",
            "object.deadline_text",
            "object.company_footer_html",
        )

    def _get_reply_to(self):
        """Where the customer's answer goes: the collections address set in Settings, else
        the collector's own address together with the company's catchall, through which
        Odoo's mail gateway files the reply in the chatter (``dunning.message`` replies);
        None for the chatter's default (the company's)."""
        self.ensure_one()
        if self.company_id.dunning_reply_to:
            return self.company_id.dunning_reply_to
        # sudo: the collector's email address, written in the message they sign
        collector = self.collector_id.sudo()
        if not collector.email:
            return None
        catchall = self.company_id.catchall_formatted
        if catchall and self.company_id.catchall_email != collector.email:
            return f"{collector.email_formatted}, {catchall}"
        return collector.email_formatted

    def _inline_images(self, bodies):
        """Move the payment QR codes out of the emails' bodies into attachments shown
        inline: mail clients that ignore ``data:`` images (Gmail, Outlook) show an image
        attached with a Content-ID (``ir.mail_server`` makes the part). The chatter copy
        points at the attachment.

        :param bodies: dict message id -> email body with ``data:`` images
        :return: (emails' bodies, chatter bodies, {message id: ir.attachment})
        """
        emails, chatter, attachments = {}, {}, {}
        Attachment = self.env["ir.attachment"]
        for message in self:
            body = str(bodies[message.id] or "")
            found = list(dict.fromkeys(_QR_SRC.findall(body)))
            if not found:
                emails[message.id] = chatter[message.id] = body
                attachments[message.id] = Attachment
                continue
            records = Attachment.create(
                [
                    {
                        "name": f"{INLINE_PREFIX}{message.id}-{index}.png",
                        "datas": data,
                        "mimetype": "image/png",
                        "res_model": "res.partner",
                        "res_id": message.partner_id.id,
                    }
                    for index, data in enumerate(found, 1)
                ]
            )
            email = chat = body
            for data, record in zip(found, records, strict=True):
                uri = f"data:image/png;base64,{data}"
                token = record.generate_access_token()[0]
                email = email.replace(uri, f"cid:{record.name}")
                chat = chat.replace(uri, f"/web/image/{record.id}?access_token={token}")
            emails[message.id], chatter[message.id] = email, chat
            attachments[message.id] = records
        return emails, chatter, attachments
