from odoo import models

from ..report.dunning_letter import LETTER_REPORTS


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _render_qweb_pdf(self, report_ref, res_ids=None, data=None):
        result = super()._render_qweb_pdf(report_ref, res_ids=res_ids, data=data)
        report = self._get_report(report_ref)
        # Printed from a message's letter preview, the customers come in data.
        res_ids = res_ids or (data or {}).get("partner_ids")
        if (
            report.report_name in LETTER_REPORTS
            and res_ids
            and not self.env.context.get("dunning_letter_no_log")
        ):
            # Each letter printed leaves an event; letters attached to emails log their own.
            partners = self.env["res.partner"].browse(
                [res_ids] if isinstance(res_ids, int) else res_ids
            )
            self.env["report.dunning_b2b.report_dunning_letter"]._log_letters(
                partners, report.report_name
            )
        return result
