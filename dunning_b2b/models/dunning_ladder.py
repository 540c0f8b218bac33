from collections import defaultdict

from markupsafe import Markup

from odoo import api, models
from odoo.tools import SQL, format_date

from ..engine import InvoiceState, decide_advances
from ..engine.items import allocate_credits, net_amounts


class DunningLadder(models.AbstractModel):
    """The ladder step of a run, one batch of customers at a time: read their open
    receivable lines through the selector, bring each line's state up to date (new lines,
    restarts), net open credits, apply the tolerance and the pauses, decide which lines enter
    a new stage, and hand those to ``dunning.stage.entry``."""

    _name = "dunning.ladder"
    _description = "Dunning Ladder Step"

    def _run_batch(self, company, partner_ids, run_date, moves, user, stats):
        # Customers are the unit of work: a customer's lines are decided and messaged
        # together, and a concurrent run skips the customers this one holds.
        partners = (
            self.env["res.partner"].browse(partner_ids).try_lock_for_update(allow_referencing=True)
        )
        stats["locked_out"] += len(partner_ids) - len(partners)
        if not partners:
            return
        # Every open item of these customers: credits are applied to all of a customer's
        # debits, even when the run was started on some of its documents only.
        items = self.env["dunning.line"]._get_open_items(
            company, run_date, partner_ids=partners.ids
        )
        selected = set(moves.ids) if moves is not None else None
        debits = [
            item
            for item in items
            if not item.is_credit and (selected is None or item.move_id in selected)
        ]
        if not debits:
            return
        states, new = self._sync_states(company, debits, run_date, user, stats)
        engine = self.env["dunning.engine"]
        policies = engine._get_partner_policies(company, partners)
        ladders = {policy.id: policy._get_stages() for policy in set(policies.values())}
        current_ids = {state[1] for state in states.values() if state[1]}
        offsets = {
            level.id: level.day_offset
            for level in self.env["dunning.level"]
            .with_context(active_test=False)
            .browse(current_ids)
        }
        held_back = self._get_held_back(company, items, debits, policies, run_date, user, stats)
        pauses = (
            self.env["account.move"]
            .browse({item.move_id for item in debits})
            ._get_dunning_pause_reasons(run_date)
        )
        excluded = self.env._("excluded by hand")
        line_states = []
        for item in debits:
            reasons = (
                ((excluded,) if item.excluded else ())
                + tuple(pauses.get(item.move_id, ()))
                + tuple(held_back.get(item.line_id, ()))
            )
            level_id = states[item.line_id][1]
            line_states.append(
                InvoiceState(
                    move_id=item.move_id,
                    partner_id=item.partner_id,
                    policy_id=policies[item.partner_id].id,
                    due_date=item.due_date,
                    current_stage_id=level_id,
                    current_offset=offsets.get(level_id),
                    excluded=item.excluded,
                    pause_reasons=reasons,
                    line_id=item.line_id,
                )
            )
        new_ids = {item.line_id for item in new}
        self._write_pause_reasons(
            [state for state in line_states if state.line_id not in new_ids], states
        )
        stats["evaluated"] += len(line_states)
        undated = [state for state in line_states if state.due_date is None]
        if undated:
            stats["no_due_date"] += len(undated)
            self._report_undated(company, undated, run_date, user)
        advances = decide_advances(line_states, ladders, run_date)
        placed = self._insert_states(new, line_states, advances, run_date)
        if advances:
            items_by_line = {item.line_id: item for item in debits}
            self.env["dunning.stage.entry"]._apply(
                company,
                advances,
                items_by_line,
                states,
                run_date,
                user,
                stats,
                open_items=items,
                placed=placed,
            )
            self.env["mail.activity"]._dunning_close_passed_tasks(
                company, run_date, user, stats, advances
            )

    # ------------------------------------------------------------ a new day
    @api.model
    def _get_date_driven_ids(self, company, run_date):
        """Customers whose evaluation on ``run_date`` may differ from their last one though
        nothing of theirs was journaled since: those with a debit that

        - has no state row yet, or a due date other than its row's (it is placed or
          restarted), or no due date (reported);
        - could enter a stage: some stage of any ladder, beyond the stage it is at, is dated
          on or before ``run_date`` (its pauses and holds are read again);
        - is paused, held back or excluded (a pause or promise may end by the date);

        and those with an open credit (what the credits cover, and the task to apply them,
        change as lines fall due). Without credits, a line is held back by amounts that
        change with the data alone, or by another ladder's minimum (a segment that gives the
        customer another ladder is journaled: ``dunning.worklist._journal_policy_moves``). A
        customer none of this holds for would get no stage, event, task or write: the ladder
        leaves it alone.
        """
        self.env["dunning.line"].flush_model()
        self.env["dunning.level"].flush_model(["day_offset"])
        items = self.env["dunning.line"]._get_open_items_query(company, run_date)
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT items.partner_id
                     FROM (%(items)s) items
                LEFT JOIN dunning_line state ON state.move_line_id = items.line_id
                LEFT JOIN dunning_level stage ON stage.id = state.level_id
                    WHERE items.amount < 0
                       OR (items.amount = 0 AND items.amount_company < 0)
                       OR state.id IS NULL
                       OR items.due_date IS NULL
                       OR state.due_date IS DISTINCT FROM items.due_date
                       OR state.pause_reason IS NOT NULL
                       OR items.excluded
                       OR items.due_date + (
                              SELECT MIN(next.day_offset) FROM dunning_level next
                               WHERE next.day_offset > COALESCE(stage.day_offset, -2147483648)
                          ) <= %(date)s""",
                items=items,
                date=run_date,
            )
        )
        return {row[0] for row in rows}

    # ------------------------------------------------------------ line states
    def _sync_states(self, company, debits, run_date, user, stats):
        """Bring the state rows of ``debits`` up to date: a restart (a new cycle, from the new
        due date) for each line whose due date changed. Lines seen for the first time get
        their row once decided (:meth:`_insert_states`), at their stage in one INSERT.

        :return: (dict line id -> (state id, level id, due date, cycle, pause reason), the
            new lines' items); a new line's state is (None, None, its due date, 1, None)
        """
        Line = self.env["dunning.line"]
        states = Line._get_states([item.line_id for item in debits])
        new = [item for item in debits if item.line_id not in states]
        # A row without a due date was restarted by a reset to draft, a cancellation or a
        # reversal (its event said why): it takes the line's due date as it is posted now.
        unplaced = [
            item
            for item in debits
            if item.line_id in states
            and states[item.line_id][2] is None
            and item.due_date is not None
        ]
        changed = [
            item
            for item in debits
            if item.line_id in states
            and states[item.line_id][2] is not None
            and states[item.line_id][2] != item.due_date
        ]
        if unplaced:
            self.env.cr.execute(
                SQL(
                    """UPDATE dunning_line l SET due_date = r.due
                         FROM unnest(%s::int[], %s::date[]) AS r(line_id, due)
                        WHERE l.move_line_id = r.line_id""",
                    [item.line_id for item in unplaced],
                    [item.due_date for item in unplaced],
                )
            )
        if changed:
            self._restart_changed(company, changed, states, run_date, user)
            stats["restarted"] += len(changed)
        if unplaced or changed:
            self.env["dunning.line"]._invalidate_stages()
            states = Line._get_states([item.line_id for item in debits])
        for item in new:
            states[item.line_id] = (None, None, item.due_date, 1, None)
        return states, new

    def _insert_states(self, new, line_states, advances, run_date):
        """The rows of lines seen for the first time, with the stage they enter now and why
        they are paused, in one INSERT (inserted, then moved to their stage, they cost two
        writes each on a first run).

        :return: the line ids whose row now holds their new stage
        """
        if not new:
            return set()
        reasons = {state.line_id: ", ".join(state.pause_reasons) or None for state in line_states}
        stages = {advance.line_id: advance.stage_id for advance in advances}
        self.env.cr.execute(
            SQL(
                """INSERT INTO dunning_line (move_line_id, move_id, partner_id, company_id,
                                             currency_id, due_date, level_id, level_date,
                                             pause_reason, cycle, create_uid, create_date,
                                             write_uid, write_date)
                   SELECT r.*, 1, %(uid)s, now() at time zone 'UTC', %(uid)s,
                          now() at time zone 'UTC'
                     FROM unnest(%(lines)s::int[], %(moves)s::int[], %(partners)s::int[],
                                 %(companies)s::int[], %(currencies)s::int[],
                                 %(dues)s::date[], %(levels)s::int[], %(dates)s::date[],
                                 %(reasons)s::varchar[]) AS r
              ON CONFLICT (move_line_id) DO NOTHING
                RETURNING move_line_id""",
                uid=self.env.uid,
                lines=[item.line_id for item in new],
                moves=[item.move_id for item in new],
                partners=[item.partner_id for item in new],
                companies=[item.company_id for item in new],
                currencies=[item.currency_id for item in new],
                dues=[item.due_date for item in new],
                levels=[stages.get(item.line_id) for item in new],
                dates=[run_date if item.line_id in stages else None for item in new],
                reasons=[reasons.get(item.line_id) for item in new],
            )
        )
        inserted = {row[0] for row in self.env.cr.fetchall()}
        self.env["dunning.line"]._invalidate_stages()
        return inserted & set(stages)

    def _restart_changed(self, company, items, states, run_date, user):
        """Lines whose due date changed since they were placed start again from the stage
        their new due date calls for, in a new cycle, with an event and a note saying why."""
        self.env.cr.execute(
            SQL(
                """UPDATE dunning_line l
                      SET level_id = NULL, level_date = NULL, cycle = l.cycle + 1,
                          due_date = r.due
                     FROM unnest(%s::int[], %s::date[]) AS r(line_id, due)
                    WHERE l.move_line_id = r.line_id""",
                [item.line_id for item in items],
                [item.due_date for item in items],
            )
        )
        events, notes = [], defaultdict(list)
        for item in items:
            old_due = states[item.line_id][2]
            text = self.env._(
                "Due date changed from %(old)s to %(new)s: dunning restarts from the new date.",
                old=format_date(self.env, old_due),
                new=format_date(self.env, item.due_date) if item.due_date else "-",
            )
            events.append(
                self._prepare_line_event_vals(
                    "restart", item, False, states[item.line_id][3] + 1, run_date, user, text
                )
            )
            notes[item.move_id].append(text)
        self.env["dunning.event"]._create_bulk(events)
        self.env["dunning.bulk"]._log_notes(
            "account.move",
            {move_id: Markup("<br/>").join(texts) for move_id, texts in notes.items()},
            self.env["dunning.engine"]._get_author(company),
        )

    def _write_pause_reasons(self, line_states, states):
        """Store why each line is paused (or that it no longer is), where that changed."""
        changed = {}
        for state in line_states:
            reason = ", ".join(state.pause_reasons) or None
            if reason != (states[state.line_id][4] or None):
                changed[state.line_id] = reason
        if changed:
            self.env.cr.execute(
                SQL(
                    """UPDATE dunning_line l SET pause_reason = r.reason
                         FROM unnest(%s::int[], %s::varchar[]) AS r(line_id, reason)
                        WHERE l.move_line_id = r.line_id""",
                    list(changed),
                    list(changed.values()),
                )
            )
            self.env["dunning.line"]._invalidate_stages()

    # -------------------------------------------------- credits and tolerance
    def _get_held_back(self, company, items, debits, policies, run_date, user, stats):
        """Lines that must not advance for money reasons, with why. Open credits are applied
        to the customer's debits oldest first (``allocate_credits``): a line they cover
        fully is not chased; a line whose net open amount, or a customer whose net amount
        overdue (net amount due, for lines not yet due), is below the policy's minimum is
        not chased either. A customer with an overdue line covered by credits gets one task
        to apply them (closed by a daily step once credits no longer cover anything overdue).

        :param items: every open item of the batch's customers (debits and credits)
        :param debits: the debits the run evaluates
        :return: dict line id -> tuple of reasons
        """
        allocated = allocate_credits(items)
        # Half a unit of each currency's rounding: below it, nothing is left of a line.
        halves = {
            currency.id: currency.rounding / 2
            for currency in self.env["res.currency"].browse({item.currency_id for item in items})
        }

        def overdue(item):
            return item.due_date is not None and item.due_date < run_date

        net = {item.line_id: net_amounts(item, allocated) for item in items if not item.is_credit}
        totals = defaultdict(lambda: [0.0, 0.0])  # partner -> net overdue, net open (company)
        for item in items:
            if not item.is_credit:
                totals[item.partner_id][1] += net[item.line_id][1]
                if overdue(item):
                    totals[item.partner_id][0] += net[item.line_id][1]
        by_credit = self.env._("covered by open credits")
        line_below = self.env._("open amount below the policy's minimum")
        below_min = self.env._("net amount due below the policy's minimum")
        held = {}
        covered = defaultdict(list)  # partner id -> overdue lines the credits cover
        for item in debits:
            amount, amount_company = net[item.line_id]
            minimum = policies[item.partner_id].minimum_amount
            if amount < halves[item.currency_id]:
                held[item.line_id] = (by_credit,)
                if overdue(item):
                    covered[item.partner_id].append(item)
            elif amount_company < minimum:
                held[item.line_id] = (line_below,)
            elif totals[item.partner_id][0 if overdue(item) else 1] < minimum:
                held[item.line_id] = (below_min,)
        if covered:
            credits = defaultdict(list)
            for item in items:
                if item.is_credit and item.partner_id in covered:
                    credits[item.partner_id].append(item)
            self.env["dunning.stage.entry"]._ask_to_apply_credits(
                company,
                {
                    partner_id: lines
                    + [
                        credit
                        for credit in credits[partner_id]
                        if credit.currency_id in {line.currency_id for line in lines}
                    ]
                    for partner_id, lines in covered.items()
                },
                run_date,
                user,
                stats,
            )
        return held

    # ----------------------------------------------------------------- undated
    def _report_undated(self, company, states, run_date, user):
        """Lines without a due date cannot be placed on the ladder: say so once per
        document, with an error event and a task for the collector, and go on."""
        text = self.env._("No due date: the invoice cannot be placed on the dunning ladder.")
        moves = self.env["account.move"].browse({state.move_id for state in states})
        reported = (
            self.env["dunning.event"]
            .search(
                [("move_id", "in", moves.ids), ("event_type", "=", "error"), ("note", "=", text)]
            )
            .move_id
        )
        moves -= reported
        if not moves:
            return
        self.env["dunning.event"]._create_bulk(
            [
                {
                    "event_type": "error",
                    "date": run_date,
                    "move_id": move.id,
                    "partner_id": move.commercial_partner_id.id,
                    "company_id": company.id,
                    "currency_id": move.currency_id.id,
                    "user_id": user.id,
                    "note": text,
                }
                for move in moves
            ]
        )
        collectors = self.env["dunning.engine"]._get_collectors(
            company, moves.commercial_partner_id
        )
        todo = self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        self.env["mail.activity"].create(
            [
                {
                    "res_model_id": self.env["ir.model"]._get_id("account.move"),
                    "res_id": move.id,
                    "activity_type_id": todo.id,
                    "summary": self.env._("Set a due date"),
                    "note": Markup("<p>%s</p>") % text,
                    "user_id": collectors[move.commercial_partner_id.id].id or self.env.uid,
                    "date_deadline": run_date,
                }
                for move in moves
            ]
        )

    @api.model
    def _prepare_line_event_vals(
        self, event_type, item, level_id, cycle, run_date, user, note, days_overdue=None
    ):
        """An event about one receivable line (an :class:`OpenItem`)."""
        if days_overdue is None and item.due_date:
            days_overdue = (run_date - item.due_date).days
        return {
            "event_type": event_type,
            "date": run_date,
            "move_id": item.move_id,
            "move_line_id": item.line_id,
            "cycle": cycle,
            "partner_id": item.partner_id,
            "company_id": item.company_id,
            "level_id": level_id,
            "currency_id": item.currency_id,
            "amount_residual": item.amount,
            "days_overdue": days_overdue or 0,
            "user_id": user.id,
            "note": note,
        }
