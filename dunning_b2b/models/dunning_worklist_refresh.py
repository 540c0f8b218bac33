from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, models
from odoo.tools import SQL

from ..engine import (
    CustomerFigures,
    is_deteriorating,
    late_sums,
    needs_action,
    on_time_share,
    priority_growth,
    priority_score,
    promise_kept_ratio,
    quarter_start,
    risk_dates,
    rounded_days_late,
    segment,
)
from .res_partner import SEGMENTS


class DunningWorklist(models.Model):
    """The daily refresh of the worklist: from the figures gathered per customer
    (dunning_worklist_figures.py) to the stored rows, segments and credit reviews."""

    _inherit = "dunning.worklist"

    @api.model
    def _refresh_daily(self, company, run_date, user, stats, partners=None):
        """Daily step: the rows of ``partners`` (the customers whose data changed, default:
        every customer with an open receivable item or a row), a chunk of customers at a
        time (memory bounded by the chunk); a row goes when nothing is open any more."""
        if partners is None:
            partner_ids = sorted(
                self.env["dunning.engine"]._get_all_customer_ids(company, run_date)
            )
        else:
            partner_ids = partners.ids
        size = self.env["dunning.engine"]._get_chunk_size()
        Partner = self.env["res.partner"]
        for start in range(0, len(partner_ids), size):
            self._refresh(
                company,
                run_date,
                user,
                stats,
                partners=Partner.browse(partner_ids[start : start + size]),
            )
            self.env.invalidate_all()

    @api.model
    def _get_date_driven_ids(self, company, run_date, since=None):
        """Customers whose row the date changes by ``run_date`` by more than the day
        (``recompute_date``: an item falling due, a task, promise or contact reaching its
        date...), and those whose row is older than the last daily checks (``since``: it
        was computed for an earlier date since, and is not shifted from there)."""
        self.flush_model(["recompute_date", "refresh_date"])
        rows = self.env.execute_query(
            SQL(
                """SELECT partner_id FROM dunning_worklist
                    WHERE company_id = %s
                      AND (recompute_date IS NULL OR recompute_date <= %s
                           OR refresh_date < %s)""",
                company.id,
                run_date,
                since or run_date,
            )
        )
        return {row[0] for row in rows}

    @api.model
    def _refresh(self, company, run_date, user=None, stats=None, partners=None, checks=True):
        """Compute every customer's figures, segment, priority and next action in
        ``company`` set-wise and store them. ``checks`` also writes segments, flags credit
        reviews and deletes rows of customers with nothing open (the daily job)."""
        user = user or self.env.user
        stats = stats if stats is not None else {}
        self = self.with_company(company)
        self.env.flush_all()
        engine = self.env["dunning.engine"]
        # Every open receivable line of the customers, through the one selector.
        figures_by_partner = self._get_open_figures(
            company, run_date, partner_ids=partners.ids if partners is not None else None
        )
        partner_ids = sorted(figures_by_partner)
        existing = self.search(
            [("company_id", "=", company.id)]
            + ([("partner_id", "in", partners.ids)] if partners is not None else [])
        )
        if checks:
            open_ids = set(partner_ids)
            stale = existing.filtered(lambda r: r.partner_id.id not in open_ids)
            existing -= stale
            stale.unlink()
        if not partner_ids:
            return existing
        Partner = self.env["res.partner"].with_company(company)
        customers = Partner.browse(partner_ids)
        levels = self.env["dunning.level"].with_context(active_test=False)
        ranks = self._get_ranks(company)
        stage = self._get_stages(company, run_date, partner_ids, ranks)
        policies = engine._get_partner_policies(company, customers)
        exposure = {pid: figures.exposure for pid, figures in figures_by_partner.items()}
        history, growing, history_changes = self._get_payment_history(
            company, run_date, partner_ids
        )
        documents = self.env["dunning.line"]._get_next_document_dates(
            company, run_date, partner_ids
        )
        promises = self._get_promise_figures(company, run_date, customers)
        disputes = self._get_dispute_figures(company, run_date, customers)
        trend = self._get_stage_trend(company, run_date, partner_ids, ranks)
        tasks = self._get_next_tasks(company, customers, stage)
        contacts = self._get_last_contacts(company, partner_ids)
        letters_done = self._get_letters_done(company, partner_ids)
        thresholds = company._dunning_get_thresholds()
        weights = company._dunning_get_risk_weights()
        labels = dict(
            self.env["dunning.event"]._fields["event_type"]._description_selection(self.env)
        )
        held = self._get_held(company, partner_ids)
        reason_labels = {
            "days late": self.env._("days late"),
            "paid on time": self.env._("paid on time"),
            "promises kept": self.env._("promises kept"),
            "disputes": self.env._("disputes"),
        }

        values = {}
        new_segments = defaultdict(list)
        reviews = []
        replies = self._get_next_reply_dates(company, run_date, partner_ids)
        quarter = quarter_start(run_date)
        for partner in customers:
            pid = partner.id
            open_figures = figures_by_partner[pid]
            # A customer whose net overdue is below its ladder's minimum is not dunned.
            chased = open_figures.chased
            if chased and open_figures.overdue < policies[pid].minimum_amount:
                chased = 0.0
            figures = CustomerFigures(
                exposure=exposure.get(pid, 0.0),
                overdue_amount=open_figures.overdue,
                days_late=tuple(history.get(pid, ())),
                promises_kept=promises[pid]["kept"],
                promises_broken=promises[pid]["broken"],
                dispute_count=disputes[pid]["count"],
            )
            key, reasons = segment(figures, thresholds)
            risk = key.split("_")[0]
            if partner.dunning_segment_pinned and partner.dunning_segment:
                key = partner.dunning_segment
                risk = key.split("_")[0]
            elif checks and partner.dunning_segment != key:
                new_segments[key].append(partner)
            previous_rank, current_rank, review_done = trend.get(pid, (None, None, False))
            deteriorated = is_deteriorating(
                previous_rank,
                current_rank,
                company.dunning_review_from_rank,
                company.dunning_review_to_rank,
            )
            if checks and deteriorated and not review_done:
                reviews.append((partner, previous_rank, current_rank))
            task = tasks.get(pid)
            contact = contacts.get(pid)
            promise_date = promises[pid]["date"]
            promise_due = bool(promise_date and promise_date <= run_date)
            # Whether the next action is due on the day of each run (no date of its own).
            today = False
            if task:
                next_action, next_date = task
            elif promise_date:
                next_action = self.env._("Check the promise to pay")
                next_date = promise_date
            elif open_figures.credit_covers_overdue:
                next_action = self.env._("Apply the open credit")
                next_date, today = run_date, True
            elif open_figures.overdue <= 0:
                next_action = self.env._("Nothing overdue yet")
                next_date = open_figures.first_due or run_date
                today = not open_figures.first_due
            else:
                next_action = self.env._("Contact the customer")
                next_date = (
                    contact[0] + timedelta(days=company.dunning_contact_interval)
                    if contact
                    else run_date
                )
                today = not contact
            level_id = stage.get(pid)
            level = levels.browse(level_id) if level_id else levels
            share = on_time_share(figures.days_late, thresholds.grace_days)
            kept = promise_kept_ratio(figures.promises_kept, figures.promises_broken)
            weight = weights.get(risk, 1.0)
            priority = priority_score(open_figures.overdue_items, weight)
            late_days, late_amount, late_open = late_sums(figures.days_late, growing.get(pid, ()))
            # Days on which the row changes by the date beyond the daily shift.
            changes = [
                *risk_dates(run_date, figures.days_late, growing.get(pid, ()), thresholds),
                history_changes.get(pid),
                documents.get(pid),
                replies.get(pid),
                promises[pid]["leaves"],
                disputes[pid]["leaves"],
            ]
            values[pid] = {
                "segment": key,
                "segment_pinned": partner.dunning_segment_pinned,
                "risk_level": risk,
                "risk_reasons": ", ".join(reason_labels.get(r, r) for r in reasons),
                "exposure": figures.exposure,
                "overdue_amount": figures.overdue_amount,
                "open_count": open_figures.open_count,
                "max_days_overdue": open_figures.max_days if open_figures.overdue else 0,
                "level_id": level_id or False,
                "priority": priority,
                "base_date": run_date,
                "priority_base": priority,
                "priority_growth": priority_growth(open_figures.overdue_items, weight),
                "needs_action": needs_action(
                    figures.overdue_amount,
                    chased,
                    run_date,
                    next_task_date=task and task[1],
                    last_contact_date=contact and contact[0],
                    contact_interval=company.dunning_contact_interval,
                    promise_due=promise_due,
                    excluded=open_figures.excluded,
                ),
                "next_action": next_action,
                "next_action_date": next_date,
                "next_action_today": today,
                "last_contact_date": contact and contact[0],
                "last_contact_type": contact and labels.get(contact[1], contact[1]),
                "last_contact_note": contact and (contact[2] or "")[:200],
                "avg_days_late": rounded_days_late(late_days, late_amount),
                "late_amount_days": float(late_days),
                "late_amount": float(late_amount),
                "late_open_amount": float(late_open),
                "on_time_share": 100.0 * share if share is not None else 0.0,
                "promise_kept_ratio": 100.0 * kept if kept is not None else 0.0,
                "dispute_count": disputes[pid]["count"],
                "promise_open": promises[pid]["open"],
                "promise_date": promise_date,
                "dispute_open": disputes[pid]["open"],
                "credit_hold": pid in held,
                "excluded": open_figures.excluded,
                "letter_due": bool(level.send_letter and (pid, level.id) not in letters_done),
                "credit_review": deteriorated,
                "rank_this_quarter": current_rank or 0,
                "rank_last_quarter": previous_rank or 0,
                "recompute_date": self._get_recompute_date(
                    run_date, open_figures, task, promise_date, contact, company, changes
                ),
            }
        if checks:
            self._write_segments(company, new_segments, run_date, user)
            self._flag_credit_reviews(company, reviews, run_date, user, quarter)
            # Their row does not show the review task created after it: computed tomorrow.
            for partner, _previous, _current in reviews:
                values[partner.id]["recompute_date"] = run_date + timedelta(days=1)
            stats["segments_changed"] = stats.get("segments_changed", 0) + sum(
                len(group) for group in new_segments.values()
            )
            stats["credit_reviews"] = stats.get("credit_reviews", 0) + len(reviews)
        # After the segments: a customer without collector gets one of its segment's team.
        collectors = engine._get_collectors(company, customers)
        for pid, vals in values.items():
            vals["collector_id"] = collectors[pid].id
        by_partner = {row.partner_id.id: row for row in existing}
        existing.fetch(list(next(iter(values.values()))))
        for pid, vals in values.items():
            row = by_partner.get(pid)
            # Most rows are the same as yesterday's but for the date: write what changed.
            changes = row and row._get_changed_values(vals)
            if changes:
                row.write(changes)
        created = self.create(
            [
                dict(vals, partner_id=pid, company_id=company.id, refresh_date=run_date)
                for pid, vals in values.items()
                if pid not in by_partner
            ]
        )
        rows = existing | created
        rows.filtered(lambda r: r.refresh_date != run_date).write({"refresh_date": run_date})
        return rows

    def _get_changed_values(self, vals):
        """The part of ``vals`` that differs from what the row holds: empty values are
        alike, figures are compared at their stored precision."""
        self.ensure_one()
        changes = {}
        for name, value in vals.items():
            field = self._fields[name]
            old = self[name]
            if field.type == "many2one":
                old = old.id
            elif field.type in ("float", "monetary"):
                if field.type == "float":
                    value = field.convert_to_cache(value, self)  # rounded to the field's digits
                    digits = field.get_digits(self.env)
                    precision = 10 ** -digits[1] / 2 if digits else 1e-9
                    differs = abs((value or 0.0) - (old or 0.0)) >= precision
                else:
                    differs = self.currency_id.compare_amounts(value or 0.0, old or 0.0) != 0
                if differs:
                    changes[name] = value
                continue
            if (value or False) != (old or False):
                changes[name] = value
        return changes

    @api.model
    def _write_segments(self, company, new_segments, run_date, user):
        """One UPDATE per segment value, and an event per customer whose segment changed.

        The segment is a company-dependent value of ours with no dependants, so the daily
        job writes its JSONB column directly: ``res.partner.write`` would sync the fields of
        every partner's contacts one partner at a time (18 s for 10,000 customers).
        """
        labels = dict(SEGMENTS)
        events = []
        Partner = self.env["res.partner"].with_company(company)
        self._journal_policy_moves(company, new_segments)
        for key, partners in new_segments.items():
            group = Partner.concat(*partners)
            before = {p.id: p.dunning_segment for p in group}
            self.env.cr.execute(
                SQL(
                    """UPDATE res_partner
                          SET dunning_segment = COALESCE(dunning_segment, '{}'::jsonb)
                                                || jsonb_build_object(%s::text, %s::text),
                              write_date = (now() at time zone 'UTC'), write_uid = %s
                        WHERE id IN %s""",
                    str(company.id),
                    key,
                    user.id,
                    tuple(group.ids),
                )
            )
            events += [
                {
                    "event_type": "segment",
                    "date": run_date,
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "user_id": user.id,
                    "note": self.env._(
                        "Segment: %(before)s → %(after)s",
                        before=labels.get(before[partner.id], "-"),
                        after=labels[key],
                    ),
                }
                for partner in group
            ]
        Partner.invalidate_model(["dunning_segment", "write_date", "write_uid"])
        self.env["dunning.event"]._create_bulk(events)

    @api.model
    def _journal_policy_moves(self, company, new_segments):
        """Customers whose new segment gives them another ladder (they have none of their
        own): news for the ladder, which may hold their lines back by another minimum. The
        checks' own writes are not journaled, and a new day evaluates only the customers
        the date moves."""
        Partner = self.env["res.partner"].with_company(company)
        customers = Partner.concat(*(p for partners in new_segments.values() for p in partners))
        if not customers:
            return
        engine = self.env["dunning.engine"]
        before = engine._get_partner_policies(company, customers)
        after = engine._get_partner_policies(
            company,
            customers,
            segments={p.id: key for key, partners in new_segments.items() for p in partners},
        )
        moved = [pid for pid, policy in after.items() if policy != before[pid]]
        if moved:
            self.env["dunning.change"]._journal(company, moved)

    @api.model
    def _flag_credit_reviews(self, company, reviews, run_date, user, quarter):
        """Deterioration: a task for the collections manager and an event per customer."""
        if not reviews:
            return
        manager = company._dunning_get_manager()
        activity_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        activities = []
        events = []
        for partner, previous_rank, current_rank in reviews:
            note = self.env._(
                "Used to settle by stage %(before)s last quarter, reached stage %(now)s this "
                "quarter: review the credit terms and limit.",
                before=previous_rank,
                now=current_rank,
            )
            activities.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_id": partner.id,
                    "activity_type_id": activity_type.id,
                    "summary": self.env._("Credit review: %(name)s", name=partner.name),
                    "note": Markup("<p>%s</p>") % note,
                    "user_id": (manager or user).id,
                    "date_deadline": run_date,
                    "dunning_company_id": company.id,
                }
            )
            events.append(
                {
                    "event_type": "credit_review",
                    "date": run_date,
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "user_id": user.id,
                    "note": note,
                }
            )
        self.env["dunning.engine"]._create_activities(activities)
        self.env["dunning.event"].create(events)
