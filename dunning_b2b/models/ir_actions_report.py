from odoo import models

from ..report.dunning_letter import LETTER_REPORTS


class IrActionsReport(models.Model):
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
