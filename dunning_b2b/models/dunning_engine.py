import logging
from collections import Counter, defaultdict

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id

from ..engine import InvoiceState, decide_advances, group_advances
from ..tools import positive_int_param

_logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 200


class DunningEngine(models.AbstractModel):
    """The one entry point of the dunning run: the daily cron, "Run dunning now" and the
    tests all call :meth:`_run`.

    Decisions come from :mod:`odoo.addons.dunning_b2b.engine`; this layer gathers what they
    need set-wise, one batch of customers at a time, and writes the results in bulk.
    """

    _name = "dunning.engine"
    _description = "Dunning Engine"

    @api.model
    def _cron_run(self):
        """Daily job: every company, every open customer invoice, committed per batch."""
        self._run(commit=True)

    @api.model
    def _action_run(self, moves=None, partners=None):
        """ "Run dunning now" on selected invoices or customers, in the user's transaction."""
        if not self.env.user.has_group("dunning_b2b.group_dunning_user"):
            raise AccessError(
                self.env._("Only collections users can run dunning. Ask a dunning manager.")
            )
        records = moves if moves is not None else partners
        records.check_access("read")
        # sudo: the run writes engine state, events, messages and tasks that a collector's
        # own rights do not all cover; the user's right to act on these records was checked.
        stats = self.sudo()._run(
            moves=moves and moves.sudo(), partners=partners and partners.sudo(), user=self.env.user
        )
        # The worklist shows at once what the run did to these customers.
        touched = (moves.commercial_partner_id if moves is not None else partners).sudo()
        today = fields.Date.context_today(self)
        for company in moves.company_id if moves is not None else self.env.companies:
            self.env["dunning.worklist"].sudo().with_company(company)._refresh(
                company, today, self.env.user, partners=touched, checks=False
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Dunning run"),
                "message": self._format_stats(stats),
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _format_stats(self, stats):
        return self.env._(
            "%(advanced)s invoice(s) moved to a new stage, %(emails)s email(s) queued, "
            "%(drafts)s message(s) to review, %(tasks)s task(s) created.",
            advanced=stats["advanced"],
            emails=stats["emails"],
            drafts=stats["drafts"],
            tasks=stats["activities"],
        )

    # ------------------------------------------------------------------ run
    @api.model
    def _run(
        self, run_date=None, moves=None, partners=None, companies=None, commit=False, user=None
    ):
        """Evaluate open customer invoices and act on those entering a new stage.

        :param run_date: the day evaluated (default: today)
        :param moves: restrict the run to these invoices
        :param partners: restrict the run to these customers (commercial partners)
        :param companies: restrict the run to these companies (default: all)
        :param commit: commit after each batch (cron only)
        :param user: who the audit trail names (default: the environment's user)
        :return: Counter of what the run did
        """
        run_date = run_date or fields.Date.context_today(self)
        user = user or self.env.user
        # The audit trail is the engine's own events: no tracking or creation logs on top.
        self = self.with_context(
            tracking_disable=True, mail_create_nolog=True, mail_create_nosubscribe=True
        )
        if companies is None:
            companies = moves.company_id if moves else self.env["res.company"].search([])
        batch_size = self._get_batch_size()
        plan = []
        for company in companies:
            partner_ids = self._get_candidate_partner_ids(company, run_date, moves, partners)
            plan += [
                (company, partner_ids[start : start + batch_size])
                for start in range(0, len(partner_ids), batch_size)
            ]
        stats = Counter()
        remaining = sum(len(batch) for _company, batch in plan)
        if commit:
            self.env["ir.cron"]._commit_progress(remaining=remaining)
        for company, batch in plan:
            self.with_company(company)._run_batch_safely(
                company, batch, run_date, moves, user, stats
            )
            remaining -= len(batch)
            stats["customers"] += len(batch)
            if commit:
                if not self.env["ir.cron"]._commit_progress(len(batch), remaining=remaining):
                    break
                # Committed: drop the batch's records from the cache, so that memory stays
                # bounded by the batch size rather than growing with the ledger.
                self.env.invalidate_all()
        else:
            if moves is None and partners is None:
                for company in companies:
                    self.with_company(company)._run_company_checks(company, run_date, user, stats)
                    if commit:
                        self.env["ir.cron"]._commit_progress()
        _logger.info("Dunning run of %s: %s", run_date, dict(stats))
        return stats

    def _run_company_checks(self, company, run_date, user, stats):
        """Hook: daily checks of a whole company after its invoices were evaluated (promises
        falling due, follow-up calls, ...). Only full runs call it, not "Run dunning now"."""
        # Segments, credit reviews and the worklist, from the day's state of the company.
        self.env["dunning.worklist"]._refresh(company, run_date, user, stats)

    def _after_advances(self, company, advances, run_date, user, stats):
        """Hook: called once per batch after its invoices entered their new stages and their
        messages, tasks and events were written. ``advances`` are engine Advance values."""

    @api.model
    def _get_batch_size(self):
        return positive_int_param(self.env, "dunning_b2b.batch_size", DEFAULT_BATCH_SIZE)

    @api.model
    def _get_open_invoice_sql(self, company, run_date, moves=None, partner_ids=None):
        """WHERE clause of the invoices the ladder works on: issued by ``run_date``."""
        clauses = [
            SQL("m.company_id = %s", company.id),
            SQL("m.move_type = 'out_invoice'"),
            SQL("m.state = 'posted'"),
            SQL("m.payment_state IN ('not_paid', 'partial')"),
            SQL("(m.invoice_date IS NULL OR m.invoice_date <= %s)", run_date),
        ]
        if moves is not None:
            clauses.append(SQL("m.id IN %s", tuple(moves.ids) or (0,)))
        if partner_ids is not None:
            clauses.append(SQL("m.commercial_partner_id IN %s", tuple(partner_ids) or (0,)))
        return SQL(" AND ").join(clauses)

    @api.model
    def _get_candidate_partner_ids(self, company, run_date, moves=None, partners=None):
        self.env["account.move"].flush_model()
        where = self._get_open_invoice_sql(
            company, run_date, moves, partners.ids if partners is not None else None
        )
        rows = self.env.execute_query(
            SQL(
                "SELECT DISTINCT m.commercial_partner_id FROM account_move m WHERE %s ORDER BY 1",
                where,
            )
        )
        return [row[0] for row in rows]

    def _run_batch_safely(self, company, partner_ids, run_date, moves, user, stats):
        """Run a batch in a savepoint; if it fails, run its customers one by one so that one
        customer's failure (bad data, a bug, a lost lock) rolls back that customer alone, is
        reported on it, and the run goes on for everyone else."""
        batch_stats = Counter()
        try:
            with self.env.cr.savepoint():
                self._run_batch(company, partner_ids, run_date, moves, user, batch_stats)
        except Exception:  # noqa: BLE001 - isolate the failing customer(s) below
            _logger.info("Dunning batch of %s customers failed: one by one", len(partner_ids))
        else:
            stats.update(batch_stats)
            return
        for partner_id in partner_ids:
            customer_stats = Counter()
            try:
                with self.env.cr.savepoint():
                    self._run_batch(company, [partner_id], run_date, moves, user, customer_stats)
            except Exception as error:  # noqa: BLE001 - reported on the customer
                _logger.warning("Dunning run failed for customer %s: %s", partner_id, error)
                stats["failed_customers"] += 1
                self._report_customer_failure(company, partner_id, run_date, user, error)
            else:
                stats.update(customer_stats)

    def _report_customer_failure(self, company, partner_id, run_date, user, error):
        partner = self.env["res.partner"].browse(partner_id)
        text = self.env._(
            "The dunning run failed for this customer and will try again: %(error)s", error=error
        )
        self.env["dunning.event"]._create_bulk(
            [
                {
                    "event_type": "error",
                    "date": run_date,
                    "partner_id": partner_id,
                    "company_id": company.id,
                    "user_id": user.id,
                    "note": text,
                }
            ]
        )
        collector = self._get_collectors(company, partner)[partner_id]
        partner.activity_schedule(
            "dunning_b2b.mail_activity_type_dunning_todo",
            summary=self.env._("Dunning run failed for this customer"),
            note=Markup("<p>%s</p>") % text,
            user_id=collector.id or self.env.uid,
        )

    def _run_batch(self, company, partner_ids, run_date, moves, user, stats):
        # Customers are the unit of work: a customer's invoices are decided and messaged
        # together, and a concurrent run skips the customers this one holds.
        partners = (
            self.env["res.partner"].browse(partner_ids).try_lock_for_update(allow_referencing=True)
        )
        stats["locked_out"] += len(partner_ids) - len(partners)
        if not partners:
            return
        rows = self.env.execute_query(
            SQL(
                """SELECT m.id, m.commercial_partner_id, m.invoice_date_due,
                          m.dunning_level_id, m.dunning_excluded
                     FROM account_move m
                    WHERE %s
                 ORDER BY m.commercial_partner_id, m.invoice_date_due, m.id""",
                self._get_open_invoice_sql(company, run_date, moves, partners.ids),
            )
        )
        if not rows:
            return
        policies = self._get_partner_policies(company, partners)
        ladders = {policy.id: policy._get_stages() for policy in set(policies.values())}
        current_ids = {row[3] for row in rows if row[3]}
        offsets = {
            level.id: level.day_offset
            for level in self.env["dunning.level"]
            .with_context(active_test=False)
            .browse(current_ids)
        }
        pauses = (
            self.env["account.move"]
            .browse([row[0] for row in rows])
            ._get_dunning_pause_reasons(run_date)
        )
        states = [
            InvoiceState(
                move_id=move_id,
                partner_id=partner_id,
                policy_id=policies[partner_id].id,
                due_date=due_date,
                current_stage_id=level_id,
                current_offset=offsets.get(level_id),
                excluded=excluded,
                pause_reasons=tuple(pauses.get(move_id, ())),
            )
            for move_id, partner_id, due_date, level_id, excluded in rows
        ]
        stats["evaluated"] += len(states)
        undated = [state for state in states if state.due_date is None]
        if undated:
            stats["no_due_date"] += len(undated)
            self._report_undated(company, undated, run_date, user)
        advances = decide_advances(states, ladders, run_date)
        if advances:
            self._apply_advances(company, advances, run_date, user, stats)

    def _report_undated(self, company, states, run_date, user):
        """Invoices without a due date cannot be placed on the ladder: say so once per invoice,
        with an error event and a task for the collector, and go on with the others."""
        text = self.env._("No due date: the invoice cannot be placed on the dunning ladder.")
        moves = self.env["account.move"].browse([state.move_id for state in states])
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
                self._prepare_event_vals("error", move, False, run_date, user, text, 0)
                for move in moves
            ]
        )
        collectors = self._get_collectors(company, moves.commercial_partner_id)
        self.env["mail.activity"].create(
            [
                {
                    "res_model_id": self.env["ir.model"]._get_id("account.move"),
                    "res_id": move.id,
                    "activity_type_id": self.env.ref(
                        "dunning_b2b.mail_activity_type_dunning_todo"
                    ).id,
                    "summary": self.env._("Set a due date"),
                    "note": Markup("<p>%s</p>") % text,
                    "user_id": collectors[move.commercial_partner_id.id].id or self.env.uid,
                    "date_deadline": run_date,
                }
                for move in moves
            ]
        )

    @api.model
    def _get_partner_policies(self, company, partners):
        """Policy of each customer in ``company``: its own if valid there, else its segment's
        ladder, else the default."""
        default = company._dunning_get_default_policy()
        rules = self.env["dunning.segment.rule"]._get_rules(company)
        result = {}
        for partner in partners.with_company(company):
            policy = partner.dunning_policy_id
            rule = rules.get(partner.dunning_segment)
            if not (policy and policy.active and policy.company_id == company) and rule:
                policy = rule.policy_id
            valid = policy and policy.active and policy.company_id == company
            result[partner.id] = policy if valid else default
        return result

    @api.model
    def _get_author(self, company):
        """Who the engine's chatter notes are from: the company."""
        return company.partner_id

    @api.model
    def _get_collectors(self, company, partners):
        """Who gets each customer's tasks: its collector (given by its segment's team if it
        had none), the company's, or a dunning manager."""
        self.env["dunning.segment.rule"]._assign_default_collectors(company, partners)
        fallback = company.dunning_collector_id
        if not fallback:
            managers = self.env.ref("dunning_b2b.group_dunning_manager").user_ids.filtered(
                lambda u: company in u.company_ids and not u.share and u.active
            )
            fallback = managers.sorted("id")[:1]
        return {
            partner.id: partner.dunning_collector_id or fallback
            for partner in partners.with_company(company)
        }

    @api.model
    def _get_recipients(self, partner, moves):
        """Billing contacts with an email: the invoices' addresses and the invoice contacts."""
        contacts = moves.partner_id | partner.child_ids.filtered(
            lambda c: c.type == "invoice" and c.active
        )
        recipients = contacts.filtered("email")
        if not recipients and partner.email:
            recipients = partner
        return recipients

    @api.model
    def _get_all_billing_contacts(self, partner):
        """Every active contact of the customer with an email, the customer included."""
        contacts = partner | partner.child_ids.filtered(
            lambda c: c.active and c.type in ("invoice", "contact")
        )
        return contacts.filtered("email")

    @api.model
    def _get_task_assignee(self, company, level, collector):
        """Who gets a stage's task: the stage's own person, the collections manager for
        senior stages, else the customer's collector."""
        if level.activity_user_id:
            return level.activity_user_id
        if level.activity_to_manager:
            return company._dunning_get_manager() or collector
        return collector

    # ---------------------------------------------------------------- apply
    def _apply_advances(self, company, advances, run_date, user, stats):
        Move = self.env["account.move"]
        Level = self.env["dunning.level"].with_context(active_test=False)
        moves = Move.browse([advance.move_id for advance in advances])
        moves.fetch(
            [
                "name",
                "amount_residual",
                "currency_id",
                "partner_id",
                "commercial_partner_id",
                "company_id",
                "invoice_date_due",
                "invoice_user_id",
            ]
        )
        prefetch = moves._prefetch_ids
        # 1. Engine state, in one UPDATE per stage (see the field definitions for why).
        by_level = defaultdict(list)
        for advance in advances:
            by_level[advance.stage_id].append(advance.move_id)
        for level_id, move_ids in by_level.items():
            self.env.cr.execute(
                SQL(
                    "UPDATE account_move SET dunning_level_id = %s, dunning_date = %s "
                    "WHERE id IN %s",
                    level_id,
                    run_date,
                    tuple(move_ids),
                )
            )
        Move.invalidate_model(["dunning_level_id", "dunning_date"])
        stats["advanced"] += len(advances)

        # 2. One stage event per invoice, and a line in the invoice's chatter.
        levels = Level.browse(list(by_level))
        names = {
            level.id: level.name
            for level in levels
            | Level.browse([sid for advance in advances for sid in advance.skipped_stage_ids])
        }
        events = []
        logs = {}
        for advance in advances:
            move = Move.browse(advance.move_id).with_prefetch(prefetch)
            note = (
                self.env._("%(days)s days after the due date", days=advance.days_overdue)
                if advance.days_overdue >= 0
                else self.env._("%(days)s days before the due date", days=-advance.days_overdue)
            )
            if advance.skipped_stage_ids:
                note += ". " + self.env._(
                    "Stages passed over, nothing sent for them: %(stages)s",
                    stages=", ".join(names[sid] for sid in advance.skipped_stage_ids),
                )
            events.append(
                self._prepare_event_vals(
                    "stage", move, advance.stage_id, run_date, user, note, advance.days_overdue
                )
            )
            logs[move.id] = Markup("%s <b>%s</b> (%s)") % (
                self.env._("Dunning stage reached:"),
                names[advance.stage_id],
                note,
            )
        self._log_notes("account.move", logs, self._get_author(company))

        # 3. One communication per customer and stage: messages created in one go.
        groups = group_advances(advances)
        partners = self.env["res.partner"].browse({partner_id for partner_id, _level in groups})
        partners.fetch(["name", "email", "child_ids", "lang"])
        collectors = self._get_collectors(company, partners)
        days = {advance.move_id: advance.days_overdue for advance in advances}
        message_vals = []
        for (partner_id, level_id), move_ids in groups.items():
            if not Level.browse(level_id).send_email:
                continue
            partner = partners.browse(partner_id).with_prefetch(partners._prefetch_ids)
            group_moves = Move.browse(move_ids).with_prefetch(prefetch)
            recipients = self._get_recipients(partner, group_moves)
            if Level.browse(level_id).send_to_all_contacts:
                recipients |= self._get_all_billing_contacts(partner)
            if recipients:
                message_vals.append(
                    {
                        "date": run_date,
                        "partner_id": partner_id,
                        "company_id": company.id,
                        "level_id": level_id,
                        "move_ids": [fields.Command.set(move_ids)],
                        "recipient_ids": [fields.Command.set(recipients.ids)],
                        "collector_id": collectors[partner_id].id,
                    }
                )
        messages = {
            (message.partner_id.id, message.level_id.id): message
            for message in self.env["dunning.message"].create(message_vals)
        }
        to_send = self.env["dunning.message"]
        assignees = {}  # (stage, collector) -> who gets the task, looked up once per batch
        activities = []
        to_notify = defaultdict(list)
        for (partner_id, level_id), move_ids in groups.items():
            partner = partners.browse(partner_id).with_prefetch(partners._prefetch_ids)
            level = Level.browse(level_id)
            group_moves = Move.browse(move_ids).with_prefetch(prefetch)
            collector = collectors[partner_id]
            needs_task = level.create_activity or not level.send_email
            no_email = False
            if level.send_email:
                message = messages.get((partner_id, level_id))
                if message:
                    if level.automatic:
                        to_send |= message
                    else:
                        stats["drafts"] += 1
                        events += [
                            dict(vals, message_id=message.id)
                            for vals in self._prepare_group_event_vals(
                                "email_draft",
                                group_moves,
                                level,
                                run_date,
                                user,
                                days,
                                self.env._("Message prepared; a person reviews and sends it."),
                            )
                        ]
                        activities.append(
                            self._prepare_activity_vals(
                                message,
                                level,
                                collector,
                                run_date,
                                group_moves,
                                self.env._(
                                    "Review and send the %(stage)s message", stage=level.name
                                ),
                                self.env.ref("dunning_b2b.mail_activity_type_dunning_todo"),
                            )
                        )
                else:
                    stats["no_email"] += 1
                    needs_task = no_email = True
                    events += self._prepare_group_event_vals(
                        "no_email",
                        group_moves,
                        level,
                        run_date,
                        user,
                        days,
                        self.env._(
                            "No email address for %(customer)s or its billing contacts: "
                            "a task was created for %(collector)s instead.",
                            customer=partner.display_name,
                            collector=collector.name or self.env._("nobody"),
                        ),
                    )
            if needs_task:
                summary = (
                    self.env._(
                        "%(stage)s: no email address, contact the customer", stage=level.name
                    )
                    if no_email
                    else level.name
                )
                if (level.id, collector.id) not in assignees:
                    assignees[level.id, collector.id] = self._get_task_assignee(
                        company, level, collector
                    )
                assignee = assignees[level.id, collector.id]
                activities.append(
                    self._prepare_activity_vals(
                        partner,
                        level,
                        assignee,
                        run_date,
                        group_moves,
                        summary,
                    )
                )
                events += self._prepare_group_event_vals(
                    "activity",
                    group_moves,
                    level,
                    run_date,
                    user,
                    days,
                    self.env._("Task for %(user)s", user=assignee.name or "-"),
                )
            if level.notify_salesperson:
                for salesperson in group_moves.invoice_user_id.filtered(lambda u: not u.share):
                    to_notify[salesperson].append((partner, level, group_moves))
        self._notify_salespersons(to_notify)
        if activities:
            self._create_activities(activities)
            stats["activities"] += len(activities)
        self.env["dunning.event"]._create_bulk(events)
        if to_send:
            sent = to_send._send(user=user, date=run_date)
            stats["emails"] += len(sent)
            stats["errors"] += len(to_send - sent)
        self._after_advances(company, advances, run_date, user, stats)

    @api.model
    def _log_notes(self, model, bodies, author):
        """Log internal notes in the chatter of many records with one INSERT.

        The ORM path (mail.message.create through _message_log_batch) sanitizes each body and
        computes a reply-to per message: about 1.3 ms a note, most of a full run's time on a
        large ledger (bench/README.md). These bodies are built by us from escaped values.

        :param model: model name of the records
        :param bodies: dict record id -> Markup body
        :param author: res.partner shown as the author
        """
        if not bodies:
            return
        note = self.env.ref("mail.mt_note")
        ids = list(bodies)
        self.env["mail.message"].flush_model()
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_message (model, res_id, body, message_type, subtype_id,
                       author_id, email_from, reply_to, message_id, is_internal, date,
                       create_uid, create_date, write_uid, write_date)
                   SELECT %(model)s, r.res_id, r.body, 'notification', %(note)s, %(author)s,
                          %(email)s, %(email)s, r.message_id, TRUE, now() at time zone 'UTC',
                          %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC'
                     FROM unnest(%(ids)s::int[], %(bodies)s::text[], %(msgids)s::text[])
                          AS r(res_id, body, message_id)""",
                model=model,
                note=note.id,
                author=author.id,
                email=author.email_formatted or None,
                uid=self.env.uid,
                ids=ids,
                bodies=[str(bodies[res_id]) for res_id in ids],
                msgids=[generate_tracking_message_id(f"{res_id}-{model}") for res_id in ids],
            )
        )
        self.env[model].browse(ids).invalidate_recordset(["message_ids"])

    @api.model
    def _create_activities(self, vals_list):
        """Create the run's tasks with one INSERT, then do what ``mail.activity.create``
        does after its insert: the assignee follows the record, and their task counter is
        told. The ORM create cost about half a millisecond per task, mostly in default
        values, inverse caches and the sanitizing of the note, which we build from escaped
        values; a first run on a large backlog creates tens of thousands of tasks.

        :param vals_list: dicts with res_model_id, res_id, activity_type_id, summary, note,
            user_id, date_deadline (a ``date``), optionally res_model and res_name
        :return: the new mail.activity records
        """
        if not vals_list:
            return self.env["mail.activity"]
        Model = self.env["ir.model"].sudo()
        model_ids = {vals["res_model_id"] for vals in vals_list}
        models = {model_id: Model.browse(model_id).model for model_id in model_ids}
        names = {}  # display names of the records whose tasks came without one
        for model_id, model in models.items():
            res_ids = {
                vals["res_id"]
                for vals in vals_list
                if vals["res_model_id"] == model_id and not vals.get("res_name")
            }
            records = self.env[model].sudo().browse(res_ids)
            names.update({(model, record.id): record.display_name for record in records})
        vals_list = [
            dict(
                vals,
                user_id=vals.get("user_id") or self.env.uid,
                date_deadline=fields.Date.to_date(vals["date_deadline"]),
            )
            for vals in vals_list
        ]
        users = self.env["res.users"].sudo().browse({vals["user_id"] for vals in vals_list})
        zones = {user.id: user.tz or None for user in users}
        columns = {
            "res_model_id": "int", "res_model": "varchar", "res_id": "int",
            "res_name": "varchar", "activity_type_id": "int", "summary": "varchar",
            "note": "text", "user_id": "int", "user_tz": "varchar", "date_deadline": "date",
        }  # fmt: skip
        rows = []
        for vals in vals_list:
            model = models[vals["res_model_id"]]
            rows.append(
                dict(
                    vals,
                    res_model=model,
                    res_name=vals.get("res_name") or names[model, vals["res_id"]],
                    note=str(vals.get("note") or "") or None,
                    user_tz=zones[vals["user_id"]],
                )
            )
        self.env["mail.activity"].flush_model()
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_activity (%s, automated, active,
                                              create_uid, create_date, write_uid, write_date)
                   SELECT *, FALSE, TRUE, %s, now() at time zone 'UTC', %s,
                          now() at time zone 'UTC'
                     FROM unnest(%s)
                RETURNING id""",
                SQL(", ").join(SQL.identifier(name) for name in columns),
                self.env.uid,
                self.env.uid,
                SQL(", ").join(
                    SQL("%s::%s[]", [row.get(name) for row in rows], SQL(kind))
                    for name, kind in columns.items()
                ),
            )
        )
        activities = self.env["mail.activity"].browse([row[0] for row in self.env.cr.fetchall()])
        per_follower = defaultdict(set)
        today = fields.Date.today()  # as mail.activity.create counts them
        due_today = Counter()
        for vals, model in ((vals, models[vals["res_model_id"]]) for vals in vals_list):
            per_follower[model, vals["user_id"]].add(vals["res_id"])
            if vals["date_deadline"] <= today:
                due_today[vals["user_id"]] += 1
        for (model, user_id), res_ids in per_follower.items():
            partner = users.browse(user_id).partner_id
            self.env[model].sudo().browse(res_ids).message_subscribe(partner_ids=partner.ids)
        for user in users:
            if due_today[user.id]:
                user._bus_send(
                    "mail.activity/updated",
                    {"activity_created": True, "count_diff": due_today[user.id]},
                )
        for model in set(models.values()):
            Record = self.env[model]
            Record.invalidate_model([name for name in Record._fields if "activit" in name])
        return activities

    def _prepare_event_vals(self, event_type, move, level_id, run_date, user, note, days_overdue):
        return {
            "event_type": event_type,
            "date": run_date,
            "move_id": move.id,
            "partner_id": move.commercial_partner_id.id,
            "company_id": move.company_id.id,
            "level_id": level_id,
            "currency_id": move.currency_id.id,
            "amount_residual": move.amount_residual,
            "days_overdue": days_overdue,
            "user_id": user.id,
            "note": note,
        }

    def _prepare_group_event_vals(self, event_type, moves, level, run_date, user, days, note):
        return [
            self._prepare_event_vals(
                event_type, move, level.id, run_date, user, note, days[move.id]
            )
            for move in moves
        ]

    def _prepare_activity_vals(
        self, record, level, assignee, run_date, moves, summary, activity_type=None
    ):
        """A task on ``record`` (the customer, or a message to review) listing ``moves``."""
        note = Markup("<p>%s</p>%s") % (
            escape(level.description or level.name),
            moves._get_dunning_html_list(),
        )
        activity_type = (
            activity_type
            or level.activity_type_id
            or self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        )
        return {
            "res_model_id": self.env["ir.model"]._get_id(record._name),
            "res_model": record._name,
            "res_id": record.id,
            "res_name": record.display_name,
            "activity_type_id": activity_type.id,
            "summary": summary,
            "note": note,
            "user_id": assignee.id or self.env.uid,
            "date_deadline": fields.Date.add(run_date, days=level.activity_delay),
        }

    def _notify_salespersons(self, to_notify):
        """One digest per salesperson and batch: which of their customers reached which stage.

        :param to_notify: dict res.users -> list of (customer, stage, invoices)
        """
        for salesperson, items in to_notify.items():
            lines = Markup("").join(
                Markup("<li>%s</li>")
                % self.env._(
                    "%(customer)s reached %(stage)s for %(invoices)s",
                    customer=partner.name,
                    stage=level.name,
                    invoices=", ".join(moves.mapped("name")),
                )
                for partner, level, moves in items
            )
            salesperson.partner_id.message_notify(
                partner_ids=salesperson.partner_id.ids,
                subject=self.env._("Your customers in collections"),
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (
                    self.env._(
                        "Collections handles the contact with these customers; please do not "
                        "promise new terms without them."
                    ),
                    lines,
                ),
            )
