from markupsafe import Markup

from odoo import fields, models

from ..models.dunning_promise import dunning_today
from .dunning_call_log import OUTCOMES


class DunningWorklistCall(models.TransientModel):
    """A call (or a conversation) with one or more customers of the worklist: writes a
    "call" event per customer, a note in its chatter and, if asked, the next call."""

    _name = "dunning.worklist.call"
    _description = "Log a Collections Call"

    worklist_ids = fields.Many2many("dunning.worklist", string="Customers", required=True)
    outcome = fields.Selection(OUTCOMES, required=True, default="reached")
    note = fields.Text(string="What was said")
    next_date = fields.Date(
        string="Call Again On", help="Schedules the next call for the customer's collector."
    )

    def action_log(self):
        self.ensure_one()
        self.worklist_ids._check_collector()
        labels = dict(self._fields["outcome"]._description_selection(self.env))
        today = dunning_today(self.env)
        events = []
        # sudo: rows read by the collector above (their companies); chatter and tasks as system
        rows = self.worklist_ids.sudo()
        for row in rows:
            text = labels[self.outcome] + (f": {self.note}" if self.note else "")
            events.append(
                {
                    "event_type": "call",
                    "date": today,
                    "partner_id": row.partner_id.id,
                    "company_id": row.company_id.id,
                    "level_id": row.level_id.id,
                    "currency_id": row.currency_id.id,
                    "amount_residual": row.overdue_amount,
                    "days_overdue": row.max_days_overdue,
                    "user_id": self.env.uid,
                    "note": text,
                }
            )
            row.partner_id.message_post(
                body=Markup("<p>%s <b>%s</b></p>") % (self.env._("Collections call:"), text),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
                author_id=self.env.user.partner_id.id,
            )
            # The call answers the customer's open collections calls in the row's company.
            self.env["mail.activity"]._dunning_close_call_tasks(
                row.partner_id, row.company_id, today, text
            )
            if self.next_date:
                row.partner_id.activity_schedule(
                    "dunning_b2b.mail_activity_type_dunning_call",
                    date_deadline=self.next_date,
                    summary=self.env._("Call back %(name)s", name=row.partner_id.name),
                    user_id=(row.collector_id or self.env.user).id,
                    dunning_company_id=row.company_id.id,
                )
        # sudo: the audit trail is written by the system only, in each row's company
        self.env["dunning.event"].sudo().create(events)
        self.env["dunning.engine"]._reevaluate(rows, ladder=False)
        return {"type": "ir.actions.act_window_close"}
