from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from ..engine import previous_quarter, quarter_start
from ..engine.worklist import customer_figures

# Events that count as a contact with the customer for "last contact".
CONTACT_EVENT_TYPES = ("email", "call", "letter")


class DunningWorklist(models.Model):
    """What the worklist's daily refresh gathers, set-wise, per customer of a company: open
    figures from the open receivable lines, stages from the engine's line states, payment
    history, promises, disputes, tasks and contacts."""

    _inherit = "dunning.worklist"

    @api.model
    def _get_open_figures(self, company, run_date, partner_ids=None):
        """Open figures per customer with an open receivable debit line in ``company``.

        :return: dict partner id -> :class:`~..engine.worklist.OpenFigures`
        """
        items = self.env["dunning.line"]._get_open_items(company, run_date, partner_ids)
        move_ids = {item.move_id for item in items if not item.is_credit}
        paused = self.env["account.move"].browse(move_ids)._get_dunning_pause_reasons(run_date)
        return customer_figures(items, run_date, paused, company.currency_id.rounding)

    @api.model
    def _get_ranks(self, company):
        """Position of each stage of ``company``'s ladders in its ladder (1 = first)."""
        levels = self.env["dunning.level"].with_context(active_test=False)
        all_levels = levels.search([("company_id", "=", company.id)])
        ranks = {}
        for policy in all_levels.policy_id:
            ordered = all_levels.filtered(lambda lvl, p=policy: lvl.policy_id == p).sorted(
                lambda lvl: (lvl.day_offset, lvl.id)
            )
            ranks.update({level.id: index for index, level in enumerate(ordered, 1)})
        return ranks

    @api.model
    def _get_stages(self, company, run_date, partner_ids, ranks):
        """Per customer: the highest stage (of ``ranks``) among its open receivable lines,
        from the engine's state of each line."""
        Line = self.env["dunning.line"]
        Line.flush_model(["move_line_id", "level_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT items.partner_id, dl.level_id
                     FROM (%s) items
                     JOIN dunning_line dl ON dl.move_line_id = items.line_id
                    WHERE dl.level_id IS NOT NULL""",
                Line._get_open_items_query(company, run_date, partner_ids, credits=False),
            )
        )
        stage = {}
        for partner_id, level_id in rows:
            if ranks.get(level_id, 0) >= ranks.get(stage.get(partner_id), 0):
                stage[partner_id] = level_id
        return stage

    @api.model
    def _get_letters_done(self, company, partner_ids):
        """(customer, stage) pairs for which a letter went out."""
        return set(
            self.env.execute_query(
                SQL(
                    """SELECT DISTINCT partner_id, level_id FROM dunning_event
                        WHERE company_id = %s AND event_type = 'letter' AND partner_id IN %s""",
                    company.id,
                    tuple(partner_ids),
                )
            )
        )

    @api.model
    def _get_held(self, company, partner_ids):
        """The customers on an active credit hold."""
        rows = self.env.execute_query(
            SQL(
                """SELECT partner_id FROM dunning_credit_hold
                    WHERE company_id = %s AND state = 'active' AND partner_id IN %s""",
                company.id,
                tuple(partner_ids),
            )
        )
        return {row[0] for row in rows}

    @api.model
    def _get_payment_history(self, company, run_date, partner_ids):
        """(amount, days late) of the receivable lines of invoices due in the 12 months
        before ``run_date``, each instalment on its own due date: settled ones at the date
        of their last reconciliation, open ones at ``run_date``.

        :return: ``(history, growing, changes)``: dicts partner id -> list of (amount,
            days late); partner id -> list of (amount, due date) of the open ones (a day
            later each day); partner id -> the first day after ``run_date`` on which a line
            enters the history (falls due) or leaves it (12 months on)
        """
        rows = self.env.execute_query(
            SQL(
                """SELECT p.commercial_partner_id, l.date_maturity, l.balance, l.reconciled,
                          (SELECT MAX(r.max_date) FROM account_partial_reconcile r
                            WHERE r.debit_move_id = l.id)
                     FROM account_move_line l
                     JOIN account_account a
                       ON a.id = l.account_id AND a.account_type = 'asset_receivable'
                     JOIN account_move m ON m.id = l.move_id
                     JOIN res_partner p ON p.id = l.partner_id
                    WHERE l.company_id = %s AND l.parent_state = 'posted' AND l.balance > 0
                      AND m.move_type = 'out_invoice' AND m.payment_state != 'reversed'
                      AND l.date_maturity > %s AND p.commercial_partner_id IN %s""",
                company.id,
                run_date - timedelta(days=365),
                tuple(partner_ids),
            )
        )
        history = defaultdict(list)
        growing = defaultdict(list)
        changes = {}
        day = timedelta(days=1)
        for partner_id, due, amount, reconciled, paid_on in rows:
            # A settled line counts from its due date on, an open one from the day after.
            enters = due if reconciled else due + day
            change = enters if enters > run_date else due + timedelta(days=365)
            changes[partner_id] = min(change, changes.get(partner_id, change))
            if enters > run_date:
                continue
            if reconciled:
                days = (paid_on - due).days if paid_on else 0
            else:
                days = (run_date - due).days
                growing[partner_id].append((amount, due))
            history[partner_id].append((amount, days))
        return history, growing, changes

    @api.model
    def _get_next_reply_dates(self, company, run_date, partner_ids):
        """Per customer: the first day after ``run_date`` of a reply to a reminder (its
        pause starts on that day; a reply is dated by its recorder's time zone)."""
        return dict(
            self.env.execute_query(
                SQL(
                    """SELECT partner_id, MIN(reply_date) FROM dunning_reply
                        WHERE company_id = %s AND partner_id = ANY(%s) AND reply_date > %s
                     GROUP BY 1""",
                    company.id,
                    list(partner_ids),
                    run_date,
                )
            )
        )

    @api.model
    def _get_promise_figures(self, company, run_date, partners):
        """Per customer: promises kept and broken in the last 12 months, whether one is open
        and its date. Promises come from a separate feature: none if it is not installed."""
        figures = defaultdict(
            lambda: {"kept": 0, "broken": 0, "open": False, "date": False, "leaves": False}
        )
        if "dunning.promise" not in self.env:
            return figures
        Promise = self.env["dunning.promise"].with_context(active_test=False)
        domain = [("partner_id", "in", partners.ids)]
        if "company_id" in Promise._fields:
            domain.append(("company_id", "=", company.id))
        since = run_date - timedelta(days=365)
        for promise in Promise.search_fetch(domain, ["partner_id", "state", "promise_date"]):
            entry = figures[promise.partner_id.commercial_partner_id.id]
            if promise.state == "open":
                entry["open"] = True
                if not entry["date"] or promise.promise_date < entry["date"]:
                    entry["date"] = promise.promise_date
            elif promise.promise_date and promise.promise_date >= since:
                if promise.state in ("kept", "broken"):
                    entry[promise.state] += 1
                    # The day it leaves the 12 months counted.
                    leaves = promise.promise_date + timedelta(days=366)
                    entry["leaves"] = min(leaves, entry["leaves"] or leaves)
        return figures

    @api.model
    def _get_dispute_figures(self, company, run_date, partners):
        """Per customer: disputes opened in the last 12 months and whether one is open."""
        figures = defaultdict(lambda: {"count": 0, "open": False, "leaves": False})
        if "dunning.dispute" not in self.env:
            return figures
        Dispute = self.env["dunning.dispute"].with_context(active_test=False)
        domain = [("partner_id", "in", partners.ids)]
        if "company_id" in Dispute._fields:
            domain.append(("company_id", "=", company.id))
        since = fields.Datetime.to_datetime(run_date - timedelta(days=365))
        for dispute in Dispute.search_fetch(domain, ["partner_id", "state", "create_date"]):
            entry = figures[dispute.partner_id.commercial_partner_id.id]
            if dispute.state == "open":
                entry["open"] = True
            if dispute.create_date and dispute.create_date >= since:
                entry["count"] += 1
                leaves = dispute.create_date.date() + timedelta(days=366)
                entry["leaves"] = min(leaves, entry["leaves"] or leaves)
        return figures

    @api.model
    def _get_stage_trend(self, company, run_date, partner_ids, ranks):
        """Per customer: (highest stage rank last quarter or None, this quarter or None,
        whether a credit review was already flagged this quarter), from the events."""
        this_start = quarter_start(run_date)
        last_start, _last_end = previous_quarter(run_date)
        rows = self.env.execute_query(
            SQL(
                """SELECT partner_id, level_id, event_type, date >= %s
                     FROM dunning_event
                    WHERE company_id = %s AND partner_id IN %s
                      AND event_type IN ('stage', 'credit_review')
                      AND date >= %s AND date <= %s""",
                this_start,
                company.id,
                tuple(partner_ids),
                last_start,
                run_date,
            )
        )
        trend = {}
        for partner_id, level_id, event_type, current in rows:
            previous_rank, current_rank, review = trend.get(partner_id, (None, None, False))
            if event_type == "credit_review":
                review = review or current
            elif current:
                current_rank = max(current_rank or 0, ranks.get(level_id, 0))
            else:
                previous_rank = max(previous_rank or 0, ranks.get(level_id, 0))
            trend[partner_id] = (previous_rank, current_rank, review)
        return trend

    @api.model
    def _get_next_tasks(self, company, partners, stages=None):
        """Per customer: (summary, date) of its open task for ``company``, on the customer,
        on one of its messages to review or on its final resolution case in ``company``: the
        task of its current stage (of ``stages``, dict customer id -> stage id) if any, else
        the earliest."""
        messages = self.env["dunning.message"].search_fetch(
            [("partner_id", "in", partners.ids), ("company_id", "=", company.id),
             ("state", "=", "draft")],
            ["partner_id"],
        )  # fmt: skip
        message_partner = {message.id: message.partner_id.id for message in messages}
        # A final resolution case to decide or carry out: its task is the customer's too.
        cases = self.env["dunning.resolution"].search_fetch(
            [("partner_id", "in", partners.ids), ("company_id", "=", company.id),
             ("state", "in", ("draft", "open"))],
            ["partner_id"],
        )  # fmt: skip
        case_partner = {case.id: case.partner_id.id for case in cases}
        Activity = self.env["mail.activity"]
        activities = Activity.search_fetch(
            (
                Domain("res_model", "=", "res.partner")
                & Domain("res_id", "in", partners.ids)
                & Activity._dunning_get_company_domain(company)
            )
            | (
                Domain("res_model", "=", "dunning.message")
                & Domain("res_id", "in", list(message_partner))
            )
            | (
                Domain("res_model", "=", "dunning.resolution")
                & Domain("res_id", "in", list(case_partner))
            ),
            ["res_model", "res_id", "date_deadline", "summary", "activity_type_id",
             "dunning_level_id"],
            order="date_deadline, id",
        )  # fmt: skip
        stages = stages or {}
        owners = {"dunning.message": message_partner, "dunning.resolution": case_partner}

        def customer(activity):
            if activity.res_model == "res.partner":
                return activity.res_id
            return owners[activity.res_model].get(activity.res_id)

        # The current stage's task or the case's decision first (the case's task stands for
        # the stage that proposed it), then the others by date.
        activities = activities.sorted(
            lambda a: (
                a.res_model != "dunning.resolution"
                and (a.dunning_level_id.id != stages.get(customer(a)) or not a.dunning_level_id),
            )
        )
        tasks = {}
        for activity in activities:
            partner_id = customer(activity)
            if partner_id and partner_id not in tasks:
                tasks[partner_id] = (
                    activity.summary or activity.activity_type_id.name,
                    activity.date_deadline,
                )
        return tasks

    @api.model
    def _get_last_contacts(self, company, partner_ids):
        """Per customer: (date, event type, note) of the last email, call or letter."""
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT ON (partner_id) partner_id, date, event_type, note
                     FROM dunning_event
                    WHERE company_id = %s AND partner_id IN %s AND event_type IN %s
                 ORDER BY partner_id, date DESC, id DESC""",
                company.id,
                tuple(partner_ids),
                CONTACT_EVENT_TYPES,
            )
        )
        return {row[0]: row[1:] for row in rows}
