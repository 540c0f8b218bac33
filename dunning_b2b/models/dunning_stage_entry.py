import time
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools import SQL

from ..engine import group_advances
from ..engine.items import allocate_credits, net_amounts

CREDIT_TASK_TYPE = "dunning_b2b.mail_activity_type_dunning_credit"


class DunningStageEntry(models.AbstractModel):
    """What happens when receivable lines enter a stage: their state, an event and a chatter
    line each, one message per customer and stage (a line joins a message of the day that is
    not sent yet), tasks for the collector, the salesperson's digest and the hold rules."""

    _name = "dunning.stage.entry"
    _description = "Dunning Stage Entry"

    def _apply(
        self,
        company,
        advances,
        items,
        states,
        run_date,
        user,
        stats,
        open_items=None,
        placed=frozenset(),
    ):
        """:param advances: engine ``Advance`` values (one per line)
        :param items: dict line id -> ``OpenItem``
        :param states: dict line id -> (state id, level id, due date, cycle, pause reason)
        :param open_items: every open item of the batch's customers, credits included, when
            the caller read them (the hold rules net the credits)
        :param placed: lines whose state row was written at its new stage already
        """
        Level = self.env["dunning.level"].with_context(active_test=False)
        engine = self.env["dunning.engine"]
        # 1. The lines' state, in one UPDATE per stage: account_move is not written.
        by_level = defaultdict(list)
        for advance in advances:
            if advance.line_id not in placed:
                by_level[advance.stage_id].append(advance.line_id)
        for level_id, line_ids in by_level.items():
            self.env.cr.execute(
                SQL(
                    "UPDATE dunning_line SET level_id = %s, level_date = %s "
                    "WHERE move_line_id IN %s",
                    level_id,
                    run_date,
                    tuple(line_ids),
                )
            )
        self.env["dunning.line"]._invalidate_stages()
        stats["advanced"] += len(advances)

        # 2. One stage event per line, and a line in its document's chatter.
        skipped = {sid for advance in advances for sid in advance.skipped_stage_ids}
        stages = {advance.stage_id for advance in advances}
        names = {level.id: level.name for level in Level.browse(stages | skipped)}
        labels = self.env["dunning.line"]._get_line_labels([a.line_id for a in advances])
        Ladder = self.env["dunning.ladder"]
        events = []
        logs = defaultdict(list)
        for advance in advances:
            item = items[advance.line_id]
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
                Ladder._prepare_line_event_vals(
                    "stage",
                    item,
                    advance.stage_id,
                    states[advance.line_id][3],
                    run_date,
                    user,
                    note,
                    advance.days_overdue,
                )
            )
            logs[item.move_id].append(
                Markup("%s <b>%s</b>: %s (%s)")
                % (
                    self.env._("Dunning stage reached:"),
                    names[advance.stage_id],
                    labels[advance.line_id],
                    note,
                )
            )
        engine._log_notes(
            "account.move",
            {move_id: Markup("<br/>").join(texts) for move_id, texts in logs.items()},
            engine._get_author(company),
        )

        # 3. One communication per customer and stage.
        groups = group_advances(advances)
        partners = self.env["res.partner"].browse({partner_id for partner_id, _level in groups})
        partners.fetch(["name", "email", "child_ids", "lang"])
        collectors = engine._get_collectors(company, partners)
        days = {advance.line_id: advance.days_overdue for advance in advances}
        messages, joined = self._get_messages(
            company, groups, partners, items, run_date, collectors
        )
        to_send = self.env["dunning.message"]
        assignees = {}  # (stage, collector) -> who gets the task, looked up once per batch
        activities = []
        to_notify = defaultdict(list)
        todo = self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        html_list = self.env["dunning.line"]._get_html_lister(
            [line_id for line_ids in groups.values() for line_id in line_ids], labels
        )
        # The salespersons to notify and the documents' numbers, read once for the batch.
        documents = self.env["account.move"].browse({items[a.line_id].move_id for a in advances})
        documents.fetch(["invoice_user_id", "name"])
        declined = self.env["dunning.resolution"]._get_declined_entries(company, groups, run_date)
        for (partner_id, level_id), line_ids in groups.items():
            partner = partners.browse(partner_id).with_prefetch(partners._prefetch_ids)
            level = Level.browse(level_id)
            group_items = [items[line_id] for line_id in line_ids]
            lines_html = html_list(line_ids)
            moves = documents.browse({item.move_id for item in group_items}).with_prefetch(
                documents._prefetch_ids
            )
            collector = collectors[partner_id]
            needs_task = level.create_activity or not level.send_email
            if level.propose_resolution and not declined.intersection(line_ids):
                # The case proposed for these lines has its task for the manager who decides:
                # a task of the stage on the customer was a second to-do for one decision.
                needs_task = False
            no_email = False

            def group_events(event_type, note, message=None, _items=group_items, _level=level):
                return [
                    dict(
                        Ladder._prepare_line_event_vals(
                            event_type,
                            item,
                            _level.id,
                            states[item.line_id][3],
                            run_date,
                            user,
                            note,
                            days[item.line_id],
                        ),
                        message_id=message.id if message else None,
                    )
                    for item in _items
                ]

            if level.send_email:
                message = messages.get((partner_id, level_id))
                if message and level.automatic:
                    to_send |= message
                elif message:
                    stats["drafts"] += 1
                    events += group_events(
                        "email_draft",
                        self.env._("Message prepared; a person reviews and sends it."),
                        message,
                    )
                    if message not in joined:
                        activities.append(
                            self._prepare_activity_vals(
                                message,
                                level,
                                collector,
                                run_date,
                                lines_html,
                                self.env._(
                                    "Review and send the %(stage)s message", stage=level.name
                                ),
                                todo,
                            )
                        )
                else:
                    stats["no_email"] += 1
                    needs_task = no_email = True
                    events += group_events(
                        "no_email",
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
                    assignees[level.id, collector.id] = engine._get_task_assignee(
                        company, level, collector
                    )
                assignee = assignees[level.id, collector.id]
                activities.append(
                    self._prepare_activity_vals(
                        partner, level, assignee, run_date, lines_html, summary
                    )
                )
                # One event for the task, on the customer: the task lists the lines, and
                # each line's own history has its stage event (one per line here was a
                # third of the events a large first run wrote).
                events.append(
                    self._prepare_partner_event_vals(
                        "activity",
                        partner_id,
                        company,
                        run_date,
                        user,
                        self.env._(
                            "Task for %(user)s: %(documents)s",
                            user=assignee.name or "-",
                            documents=self._name_documents(moves),
                        ),
                        level_id=level_id,
                    )
                )
            if level.notify_salesperson:
                for salesperson in moves.invoice_user_id.filtered(lambda u: not u.share):
                    to_notify[salesperson].append((partner, level, moves))
        engine._notify_salespersons(to_notify)
        if activities:
            engine._create_activities(activities)
            stats["activities"] += len(activities)
        self.env["dunning.event"]._create_bulk(events)
        if to_send:
            started = time.perf_counter()
            sent = to_send._send(user=user, date=run_date)
            stats["email_seconds"] += time.perf_counter() - started
            stats["emails"] += len(sent)
            stats["errors"] += len(to_send - sent)
        self.env["dunning.credit.hold"]._apply_stage_rules(
            company, advances, run_date, user, stats, open_items=open_items, labels=labels
        )

    def _prepare_partner_event_vals(
        self, event_type, partner_id, company, run_date, user, note, level_id=False
    ):
        """An event on the customer itself, for ``dunning.event._create_bulk``: a step of
        the run that concerns the customer as a whole, not one receivable line."""
        return {
            "event_type": event_type,
            "date": run_date,
            "partner_id": partner_id,
            "company_id": company.id,
            "level_id": level_id,
            "user_id": user.id,
            "note": note,
        }

    def _name_documents(self, moves, limit=20):
        """The numbers of ``moves``, sorted; past ``limit``, how many more there are."""
        names = sorted(moves.mapped("name"))
        if len(names) <= limit:
            return ", ".join(names)
        return self.env._(
            "%(documents)s and %(count)s more",
            documents=", ".join(names[:limit]),
            count=len(names) - limit,
        )

    def _get_messages(self, company, groups, partners, items, run_date, collectors):
        """The message of each (customer, stage) group that sends email: a message of the
        same customer and stage prepared today and not sent yet (waiting for review) takes
        the new lines; otherwise a new one. Customers without an email address get none.

        :return: (dict (partner id, level id) -> dunning.message, the joined messages)
        """
        Level = self.env["dunning.level"].with_context(active_test=False)
        Message = self.env["dunning.message"]
        engine = self.env["dunning.engine"]
        emailing = {key: ids for key, ids in groups.items() if Level.browse(key[1]).send_email}
        if not emailing:
            return {}, Message
        pending = Message.search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "in", [key[0] for key in emailing]),
                ("level_id", "in", [key[1] for key in emailing]),
                ("state", "=", "draft"),
                ("mail_message_id", "=", False),
                ("date", "=", run_date),
            ],
            order="id desc",
        )
        open_messages = {}
        for message in pending:
            open_messages.setdefault((message.partner_id.id, message.level_id.id), message)
        result, joined, vals_list = {}, Message, []
        links = {}  # message id -> (line ids, move ids) it announces
        # The documents' addresses and the customers' contacts, read once for the batch (read
        # group by group, they were a third of a large run).
        documents = self.env["account.move"].browse(
            {items[line_id].move_id for line_ids in emailing.values() for line_id in line_ids}
        )
        documents.fetch(["partner_id"])
        (documents.partner_id | partners.child_ids).fetch(["email", "type", "active"])
        for (partner_id, level_id), line_ids in emailing.items():
            move_ids = list({items[line_id].move_id for line_id in line_ids})
            message = open_messages.get((partner_id, level_id))
            if message:
                links[message.id] = (line_ids, move_ids)
                result[partner_id, level_id] = message
                joined |= message
                continue
            partner = partners.browse(partner_id).with_prefetch(partners._prefetch_ids)
            moves = self.env["account.move"].browse(move_ids)
            recipients = engine._get_recipients(partner, moves)
            if Level.browse(level_id).send_to_all_contacts:
                recipients |= engine._get_all_billing_contacts(partner)
            if recipients:
                vals_list.append(
                    {
                        "name": Message._get_name(Level.browse(level_id), partner, run_date),
                        "date": run_date,
                        "partner_id": partner_id,
                        "company_id": company.id,
                        "level_id": level_id,
                        "recipient_ids": [fields.Command.set(recipients.ids)],
                        "collector_id": collectors[partner_id].id,
                    }
                )
        for message in Message.create(vals_list):
            result[message.partner_id.id, message.level_id.id] = message
            links[message.id] = emailing[message.partner_id.id, message.level_id.id], None
        # The lines and documents each message lists, in one INSERT per relation (the ORM
        # writes a many2many record by record: 11 s of a 100,000-line run).
        Bulk = self.env["dunning.bulk"]
        line_pairs, move_pairs = [], []
        for message_id, (line_ids, move_ids) in links.items():
            line_pairs += [(message_id, line_id) for line_id in line_ids]
            if move_ids is None:
                move_ids = {items[line_id].move_id for line_id in line_ids}
            move_pairs += [(message_id, move_id) for move_id in move_ids]
        Bulk._link(Message, "line_ids", line_pairs)
        Bulk._link(Message, "move_ids", move_pairs)
        return result, joined

    @api.model
    def _prepare_activity_vals(
        self, record, level, assignee, run_date, lines_html, summary, activity_type=None
    ):
        """A task on ``record`` (the customer, or a message to review) listing lines."""
        note = Markup("<p>%s</p>%s") % (escape(level.description or level.name), lines_html)
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
            "dunning_company_id": level.company_id.id,
            "dunning_level_id": level.id,
        }

    # ------------------------------------------------------------ open credits
    def _get_credit_tasks(self, company, partner_ids=None):
        """The open "apply the open credit" tasks of customers (all when ``partner_ids`` is
        None) in ``company`` (the task names its company: a customer shared by two companies
        has one task in each)."""
        domain = [
            ("res_model", "=", "res.partner"),
            ("activity_type_id", "=", self.env.ref(CREDIT_TASK_TYPE).id),
        ]
        if partner_ids is not None:
            if not partner_ids:
                return self.env["mail.activity"]
            domain.append(("res_id", "in", list(partner_ids)))
        tasks = self.env["mail.activity"].search(domain)
        tag = f"[{company.name}]"  # tasks made before they had a company name theirs
        return tasks.filtered(
            lambda task: (
                task.dunning_company_id == company
                or (not task.dunning_company_id and (task.summary or "").endswith(tag))
            )
        )

    def _close_stale_credit_tasks(self, company, run_date, user, stats):
        """Daily step: an "apply the open credit" task whose customer no longer has an overdue
        line its credits cover (they were applied or refunded, or new debts outgrew them) is
        done, with a note saying why."""
        tasks = self._get_credit_tasks(company)
        if not tasks:
            return
        items = self.env["dunning.line"]._get_open_items(
            company, run_date, partner_ids=list(set(tasks.mapped("res_id")))
        )
        allocated = allocate_credits(items)
        currencies = self.env["res.currency"].browse({item.currency_id for item in items})
        rounding = {currency.id: currency for currency in currencies}
        covered = {
            item.partner_id
            for item in items
            if not item.is_credit
            and item.due_date is not None
            and item.due_date < run_date
            and rounding[item.currency_id].compare_amounts(net_amounts(item, allocated)[0], 0) <= 0
        }
        stale = tasks.filtered(lambda task: task.res_id not in covered)
        if stale:
            stale.action_feedback(
                feedback=self.env._("Open credits no longer cover what is overdue.")
            )
            stats["credit_tasks_closed"] += len(stale)

    def _ask_to_apply_credits(self, company, items_by_partner, run_date, user, stats):
        """Customers whose open credits cover lines overdue: those lines are not chased, and
        the collector gets one task, "apply the open credit", listing the documents to
        match. A customer with such a task still open in this company is not asked again.

        :param items_by_partner: dict partner id -> the covered overdue ``OpenItem`` values
            and the open credits of their currencies
        """
        skip = {task.res_id for task in self._get_credit_tasks(company, items_by_partner)}
        todo = [partner_id for partner_id in items_by_partner if partner_id not in skip]
        if not todo:
            return
        engine = self.env["dunning.engine"]
        partners = self.env["res.partner"].browse(todo)
        collectors = engine._get_collectors(company, partners)
        Line = self.env["dunning.line"]
        html_list = Line._get_html_lister(
            [item.line_id for partner_id in todo for item in items_by_partner[partner_id]]
        )
        summary = "{} [{}]".format(self.env._("Apply the open credit"), company.name)
        activity_type = self.env.ref(CREDIT_TASK_TYPE)
        activities, events = [], []
        for partner in partners:
            partner_items = items_by_partner[partner.id]
            debits = [item.line_id for item in partner_items if not item.is_credit]
            credits = [item.line_id for item in partner_items if item.is_credit]
            text = self.env._(
                "Open credits cover what %(customer)s owes overdue: no reminder is sent. "
                "Match the credits with the invoices (or refund them).",
                customer=partner.name,
            )
            note = Markup("<p>%s</p><p>%s</p>%s<p>%s</p>%s") % (
                text,
                self.env._("Owed:"),
                html_list(debits),
                self.env._("Open credits:"),
                html_list(credits),
            )
            activities.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_model": "res.partner",
                    "res_id": partner.id,
                    "res_name": partner.display_name,
                    "activity_type_id": activity_type.id,
                    "summary": summary,
                    "note": note,
                    "user_id": collectors[partner.id].id or self.env.uid,
                    "date_deadline": run_date,
                    "dunning_company_id": company.id,
                }
            )
            events.append(
                self._prepare_partner_event_vals(
                    "credit_cover", partner.id, company, run_date, user, text
                )
            )
        engine._create_activities(activities)
        self.env["dunning.event"]._create_bulk(events)
        stats["credit_covered"] += len(todo)
        stats["activities"] += len(activities)
