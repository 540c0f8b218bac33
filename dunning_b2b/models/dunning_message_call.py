from collections import defaultdict

from markupsafe import Markup

from odoo import api, models
from odoo.tools import SQL, format_date


class DunningMessage(models.Model):
    """The phone task that follows an email nobody answered (stage 2 of the standard ladder:
    phone the buyer ``call_delay`` days after the email)."""

    _inherit = "dunning.message"

    @api.model
    def _get_call_task_rows(self, company, run_date):
        """(message id, line id) of the receivable lines of emails sent ``call_delay`` days
        ago or more, at a stage with a phone task, whose line is still open (selector of open
        items), not excluded, untouched by any payment and still at that stage, with no reply
        (call, response, promise, dispute, email reply) from the customer since, and no phone
        task yet.

        Messages written before lines were recorded stand for the receivable lines of their
        documents."""
        self.env.flush_all()
        items = self.env["dunning.line"]._get_open_items_query(company, credits=False)
        return self.env.execute_query(
            SQL(
                """WITH msgs AS (
                       SELECT msg.id, msg.level_id
                         FROM dunning_message msg
                         JOIN dunning_level l ON l.id = msg.level_id
                        WHERE msg.company_id = %(company)s
                          AND msg.state = 'queued'
                          AND l.call_delay > 0
                          AND msg.date + l.call_delay <= %(date)s
                          AND NOT EXISTS (
                              SELECT 1 FROM dunning_event e
                               WHERE e.message_id = msg.id AND e.event_type = 'call_task')
                          AND NOT EXISTS (
                              SELECT 1 FROM dunning_event e
                               WHERE e.partner_id = msg.partner_id
                                 AND e.company_id = msg.company_id
                                 AND e.event_type IN %(replies)s
                                 AND e.date >= msg.date)
                   ), msg_lines AS (
                       SELECT rel.message_id, rel.line_id
                         FROM dunning_message_account_move_line_rel rel
                         JOIN msgs ON msgs.id = rel.message_id
                        UNION
                       SELECT rel.message_id, aml.id
                         FROM dunning_message_account_move_rel rel
                         JOIN msgs ON msgs.id = rel.message_id
                         JOIN account_move_line aml ON aml.move_id = rel.move_id
                        WHERE NOT EXISTS (
                            SELECT 1 FROM dunning_message_account_move_line_rel lrel
                             WHERE lrel.message_id = rel.message_id)
                   )
                   SELECT msgs.id, items.line_id
                     FROM msgs
                     JOIN msg_lines ml ON ml.message_id = msgs.id
                     JOIN (%(items)s) items ON items.line_id = ml.line_id
                     JOIN dunning_line dl
                       ON dl.move_line_id = items.line_id AND dl.level_id = msgs.level_id
                     JOIN account_move_line aml ON aml.id = items.line_id
                    WHERE NOT items.excluded
                      AND items.amount = aml.amount_currency
                 ORDER BY msgs.id, items.due_date, items.line_id""",
                company=company.id,
                date=run_date,
                replies=("call", "response", "promise", "dispute", "reply"),
                items=items,
            )
        )

    @api.model
    def _create_call_tasks(self, company, run_date, user, stats):
        """Daily check: a phone task for the collector on each message nobody answered."""
        rows = self._get_call_task_rows(company, run_date)
        if not rows:
            return
        Line = self.env["account.move.line"]
        lines = Line.browse({line_id for _msg, line_id in rows})
        paused = lines.move_id._get_dunning_pause_reasons(run_date)
        by_message = defaultdict(list)
        for message_id, line_id in rows:
            if Line.browse(line_id).move_id.id not in paused:
                by_message[message_id].append(line_id)
        if not by_message:
            return
        messages = self.browse(list(by_message))
        collectors = self.env["dunning.engine"]._get_collectors(company, messages.partner_id)
        activity_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_call")
        activities = []
        events = []
        for message in messages:
            message_lines = Line.browse(by_message[message.id])
            partner = message.partner_id
            collector = collectors[partner.id] or message.collector_id
            note = Markup("<p>%s</p>%s%s") % (
                self.env._(
                    "No reply and no payment since the %(stage)s email of %(date)s: phone the "
                    "buyer, ask whether anything prevents payment and log the answer.",
                    stage=message.level_id.name,
                    date=format_date(self.env, message.date),
                ),
                self.env["dunning.line"]._get_html_list(message_lines.ids),
                partner._dunning_phone_note(),
            )
            activities.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_id": partner.id,
                    "activity_type_id": activity_type.id,
                    "summary": self.env._(
                        "%(stage)s: phone %(customer)s",
                        stage=message.level_id.name,
                        customer=partner.name,
                    ),
                    "note": note,
                    "user_id": (collector or self.env.user).id,
                    "date_deadline": run_date,
                    "dunning_company_id": company.id,
                    "dunning_level_id": message.level_id.id,
                }
            )
            text = self.env._(
                "No reply %(days)s days after the email: phone task for %(user)s.",
                days=(run_date - message.date).days,
                user=(collector or self.env.user).name,
            )
            # One event per document of the message (the audit trail's unique phone task per
            # message and document), for its open lines' total and its oldest line.
            for move, move_lines in message_lines.grouped("move_id").items():
                oldest = move_lines.sorted(lambda line: (line.date_maturity, line.id))[0]
                events.append(
                    {
                        "event_type": "call_task",
                        "date": run_date,
                        "move_id": move.id,
                        "move_line_id": oldest.id,
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "level_id": message.level_id.id,
                        "message_id": message.id,
                        "currency_id": oldest.currency_id.id,
                        "amount_residual": oldest.currency_id.round(
                            sum(move_lines.mapped("amount_residual_currency"))
                        ),
                        "days_overdue": (run_date - oldest.date_maturity).days
                        if oldest.date_maturity
                        else 0,
                        "user_id": user.id,
                        "note": text,
                    }
                )
        self.env["dunning.engine"]._create_activities(activities)
        self.env["dunning.event"].create(events)
        stats["call_tasks"] += len(activities)
        stats["activities"] += len(activities)
