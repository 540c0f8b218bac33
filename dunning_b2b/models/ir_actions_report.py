import io
from collections import OrderedDict

import lxml.html
from markupsafe import Markup

from odoo import models
from odoo.tools.pdf import PdfFileReader, PdfFileWriter

from odoo.addons.base.models.ir_actions_report import _wkhtml

from ..report.dunning_letter import LETTER_REPORTS

# wkhtmltopdf on unpatched Qt (Debian's) ignores --zoom and --disable-smart-shrinking and
# prints 100 CSS mm as 76.83 mm (measured, independent of margins and content): the letter's
# page zooms back, so that its millimetres (the envelope's window) are true on both builds.
UNPATCHED_QT_ZOOM = 1.3015

ARTICLE_XPATH = "//div[contains(concat(' ', normalize-space(@class), ' '), ' article ')]"


class IrActionsReport(models.Model):
    """Letters print the same with Debian's wkhtmltopdf (unpatched Qt) as with the patched
    one: one wkhtmltopdf call per customer, merged into one PDF by Odoo; the letterhead and
    footer are in the body (no header/footer documents); styles are inline, so nothing is
    fetched from the web server (the daily run renders letters with no server up); page
    numbers are stamped on the rendered pages."""

    _inherit = "ir.actions.report"

    def _render_qweb_pdf(self, report_ref, res_ids=None, data=None):
        report = self._get_report(report_ref)
        # Printed from a message's letter preview, the customers come in data.
        partner_ids = res_ids or (data or {}).get("partner_ids") or []
        partner_ids = [partner_ids] if isinstance(partner_ids, int) else partner_ids
        if report.report_name in LETTER_REPORTS:
            # Before anything is rendered or logged: the report's group_ids are checked
            # neither by /report/download nor over RPC.
            self.env[f"report.{report.report_name}"]._check_letter_rights(partner_ids)
        result = super()._render_qweb_pdf(report_ref, res_ids=res_ids, data=data)
        if (
            report.report_name in LETTER_REPORTS
            and partner_ids
            and not self.env.context.get("dunning_letter_no_log")
        ):
            # Each letter printed leaves an event; letters attached to emails log their own.
            partners = self.env["res.partner"].browse(partner_ids)
            self.env["report.dunning_b2b.report_dunning_letter"]._log_letters(
                partners, report.report_name
            )
        return result

    def _render_qweb_pdf_prepare_streams(self, report_ref, data, res_ids=None):
        report = self._get_report(report_ref)
        if report.report_name not in LETTER_REPORTS:
            return super()._render_qweb_pdf_prepare_streams(report_ref, data, res_ids=res_ids)
        # One customer per wkhtmltopdf call: unpatched Qt cannot convert several documents
        # in one call, and each letter gets its own page numbers.
        if res_ids and len(set(res_ids)) > 1:
            streams = OrderedDict()
            for res_id in dict.fromkeys(res_ids):
                streams.update(
                    super()._render_qweb_pdf_prepare_streams(
                        report_ref, dict(data or {}), res_ids=[res_id]
                    )
                )
        else:
            streams = super()._render_qweb_pdf_prepare_streams(report_ref, data, res_ids=res_ids)
        for res_id, stream_data in streams.items():
            if stream_data.get("stream") and not stream_data.get("attachment"):
                lang = res_id and self.env["res.partner"].browse(res_id).lang
                stream_data["stream"] = self.with_context(
                    lang=lang or self.env.lang
                )._dunning_number_pages(stream_data["stream"])
        return streams

    def _prepare_html(self, html, report_model=False):
        if self.report_name not in LETTER_REPORTS:
            return super()._prepare_html(html, report_model=report_model)
        # Each letter in a page of its own with inline styles and no <base>: wkhtmltopdf
        # loads nothing over the network, and needs no header or footer file.
        layout = self.env.ref("dunning_b2b.letter_pdf_layout")
        root = lxml.html.fromstring(html, parser=lxml.html.HTMLParser(encoding="utf-8"))
        bodies, res_ids = [], []
        zoom = 1.0 if _wkhtml().is_patched_qt else UNPATCHED_QT_ZOOM
        for node in root.xpath(ARTICLE_XPATH):
            qweb = self.env["ir.qweb"]
            if node.get("data-oe-lang"):
                qweb = qweb.with_context(lang=node.get("data-oe-lang"))
            body = Markup(lxml.html.tostring(node, encoding="unicode"))
            bodies.append(qweb._render(layout.id, {"body": body, "zoom": zoom}))
            is_record = node.get("data-oe-model") == report_model
            res_ids.append(int(node.get("data-oe-id", 0)) if is_record else None)
        return bodies, res_ids, None, None, {}

    def _dunning_number_pages(self, stream):
        """Stamp "Page n of m" at the foot of each page of one customer's letter: a footer
        wkhtmltopdf built on unpatched Qt cannot print."""
        from reportlab.lib.units import mm  # noqa: PLC0415
        from reportlab.pdfgen import canvas  # noqa: PLC0415

        reader = PdfFileReader(stream, strict=False, overwriteWarnings=False)
        count = reader.getNumPages()
        packet = io.BytesIO()
        stamp = canvas.Canvas(packet)
        for number in range(count):
            page = reader.getPage(number)
            width = float(abs(page.mediaBox.getWidth()))
            stamp.setPageSize((width, float(abs(page.mediaBox.getHeight()))))
            stamp.setFont("Helvetica", 8)
            stamp.setFillGray(0.35)
            stamp.drawRightString(
                width - 20 * mm,
                8 * mm,
                self.env._("Page %(page)s of %(count)s", page=number + 1, count=count),
            )
            stamp.showPage()
        stamp.save()
        stamps = PdfFileReader(packet, overwriteWarnings=False)
        writer = PdfFileWriter()
        for number in range(count):
            page = reader.getPage(number)
            page.mergePage(stamps.getPage(number))
            writer.addPage(page)
        output = io.BytesIO()
        writer.write(output)
        stream.close()
        return output
