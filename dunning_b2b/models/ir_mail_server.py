from odoo import models

from .dunning_message_pay import INLINE_PREFIX


class IrMailServer(models.Model):
    _inherit = "ir.mail_server"

    def _build_email__(self, *args, **kwargs):
        """Dunning emails show their payment QR code inline: an attachment of the mail
        named ``dunning-payment-qr-*`` that the HTML body shows as ``cid:<its name>``
        becomes a related part of the HTML body with that Content-ID (multipart/related),
        which mail clients display in place, unlike ``data:`` images. Other emails are
        built as Odoo builds them."""
        attachments = kwargs.get("attachments") or []
        body = str(kwargs.get("body") or "")
        inline = [
            attachment
            for attachment in attachments
            if attachment[0].startswith(INLINE_PREFIX) and f"cid:{attachment[0]}" in body
        ]
        if not inline or kwargs.get("subtype") != "html" or args:
            return super()._build_email__(*args, **kwargs)
        kwargs["attachments"] = [a for a in attachments if a not in inline]
        msg = super()._build_email__(*args, **kwargs)
        html = next((part for part in msg.walk() if part.get_content_type() == "text/html"), None)
        if html is None:
            return msg
        for name, content, mimetype in inline:
            maintype, subtype = (mimetype or "image/png").split("/", 1)
            html.add_related(
                content, maintype, subtype, cid=f"<{name}>", filename=name, disposition="inline"
            )
        return msg
