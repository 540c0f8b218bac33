from collections import Counter, defaultdict
from contextlib import contextmanager

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id

# The notes logged inside ``dunning.bulk._merging_notes``, per cursor (id): (model, {author
# id: {record id: [paragraphs]}}). Not in ``cr.cache``: a savepoint rolled back clears it.
_NOTE_BUFFERS = {}


def _as_paragraph(body):
    """The body as the chatter's sanitizer stores it: inline markup wrapped in a paragraph."""
    text = str(body)
    return text if text.lstrip().startswith(("<p", "<div", "<ul", "<table")) else f"<p>{text}</p>"


class DunningBulk(models.AbstractModel):
    """The writers of core tables (chatter notes, tasks) that bypass the ORM where a
    measurement said so (bench/README.md). They live here and nowhere else; test_bulk.py
    compares the rows they write with those the ORM writes."""

    _name = "dunning.bulk"
    _description = "Dunning Bulk Writers"

    @api.model
    def _log_notes(self, model, bodies, author):
        """Log internal notes in the chatter of many records with one INSERT.

        The row is the one ``message_post`` writes for an internal note (record company,
        alias domain and reply-to included; test_bulk.py compares every column). The ORM path
        sanitizes each body and creates the messages one by one: about 1.3 ms a note, most of
        a full run's time on a large ledger (bench/README.md). These bodies are built by us
        from escaped values. Inside :meth:`_merging_notes`, the notes on its model wait for
        its end and are merged per record and author.

        :param model: model name of the records
        :param bodies: dict record id -> Markup body
        :param author: res.partner shown as the author
        """
        if not bodies:
            return
        merged_model, buffer = _NOTE_BUFFERS.get(id(self.env.cr), (None, None))
        if model == merged_model:
            kept = buffer.setdefault(author.id, {})
            for res_id, body in bodies.items():
                kept.setdefault(res_id, []).append(_as_paragraph(body))
            return
        self._insert_messages(
            model,
            [(res_id, _as_paragraph(body), None) for res_id, body in bodies.items()],
            author,
            self.env.ref("mail.mt_note"),
        )

    @contextmanager
    def _merging_notes(self, model="account.move"):
        """The notes on ``model``'s records logged inside (:meth:`_log_notes`) are written
        when it ends, one per record and author with their paragraphs in the order logged:
        a batch that moves an invoice to a stage and emails its customer leaves one note on
        the invoice, not two (a 100,000-line run logged 157,087 notes on 82,325 invoices).
        Other models' notes are written at once, in their place among the messages that
        Odoo posts as it goes (a task marked done). Nested, the outermost one writes. An
        error inside drops them, as the savepoint around it drops the rest of the work; no
        savepoint inside may roll back work whose notes it keeps."""
        key = id(self.env.cr)
        if key in _NOTE_BUFFERS:
            yield
            return
        buffer = {}
        _NOTE_BUFFERS[key] = (model, buffer)
        try:
            yield
        finally:
            del _NOTE_BUFFERS[key]
        subtype = self.env.ref("mail.mt_note")
        for author_id, bodies in buffer.items():
            # Records deleted since their note was logged have no chatter to write into.
            existing = set(self.env[model].browse(bodies).exists().ids)
            rows = [
                (res_id, "".join(parts), None)
                for res_id, parts in bodies.items()
                if res_id in existing
            ]
            if rows:
                self._insert_messages(
                    model, rows, self.env["res.partner"].browse(author_id), subtype
                )

    @api.model
    def _insert_messages(self, model, rows, author, subtype):
        """Insert chatter messages of type notification, as ``message_post`` writes them for
        a subtype that notifies nobody, with one INSERT (at most one per record: the parent
        of each is the thread's as it was before).

        :param rows: list of (record id, body as stored, mail.activity.type id or None)
        """
        ids = [row[0] for row in rows]
        records = self.env[model].browse(ids)
        email = author.email_formatted or None
        # What message_post sets per record: the record's company (else the current one),
        # its alias domain and the reply-to address (the catchall or an alias of the record).
        companies = records._mail_get_companies(default=self.env.company)
        # sudo: as message_post, the alias domain of each record's company, whoever logs.
        domains = records.sudo()._mail_get_alias_domains(default_company=self.env.company)
        reply_to = records._notify_get_reply_to(default=email, author_id=author.id)
        self.env["mail.message"].flush_model()
        parents = self._get_thread_parents(model, ids)
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_message (model, res_id, body, message_type, subtype_id,
                       mail_activity_type_id, author_id, email_from, reply_to, message_id,
                       record_company_id, record_alias_domain_id, parent_id,
                       email_add_signature, date, create_uid, create_date, write_uid,
                       write_date)
                   SELECT %(model)s, r.res_id, r.body, 'notification', %(subtype)s,
                          r.activity_type_id, %(author)s, %(email)s, r.reply_to, r.message_id,
                          r.company_id, r.domain_id, r.parent_id, TRUE, %(date)s, %(uid)s,
                          now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC'
                     FROM unnest(%(ids)s::int[], %(bodies)s::text[], %(types)s::int[],
                                 %(msgids)s::text[], %(reply_to)s::varchar[],
                                 %(companies)s::int[], %(domains)s::int[], %(parents)s::int[])
                          AS r(res_id, body, activity_type_id, message_id, reply_to,
                               company_id, domain_id, parent_id)""",
                model=model,
                subtype=subtype.id,
                author=author.id,
                email=email,
                # The time of posting, as the message's default: not the transaction's start,
                # which would date it before messages posted earlier in the same batch.
                date=fields.Datetime.now(),
                uid=self.env.uid,
                ids=ids,
                bodies=[row[1] for row in rows],
                types=[row[2] for row in rows],
                msgids=[generate_tracking_message_id(f"{res_id}-{model}") for res_id in ids],
                reply_to=[reply_to[res_id] or None for res_id in ids],
                companies=[companies[res_id].id or None for res_id in ids],
                domains=[domains[res_id].id or None for res_id in ids],
                parents=[parents.get(res_id) for res_id in ids],
            )
        )
        self.env[model].browse(ids).invalidate_recordset(["message_ids"])
        self.env["mail.message"].browse(set(parents.values())).invalidate_recordset(["child_ids"])

    @api.model
    def _get_thread_parents(self, model, res_ids):
        """The message a new message of each record replies to, as
        ``mail.thread._message_compute_parent_id`` finds it without a parent given: among the
        thread's 200 latest messages, the latest discussion (comment or email), else the
        latest message; none for models whose threads are not flat.

        :return: dict record id -> mail.message id
        """
        if not self.env[model]._mail_flat_thread:
            return {}
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT ON (res_id) res_id, id
                     FROM (SELECT res_id, id, date, message_type,
                                  row_number() OVER (PARTITION BY res_id
                                                     ORDER BY date DESC, id DESC) AS rank
                             FROM mail_message
                            WHERE model = %s AND res_id = ANY(%s)
                              AND message_type != 'user_notification') AS m
                    WHERE rank <= 200
                 ORDER BY res_id, message_type IN ('comment', 'email') DESC, date DESC, id DESC""",
                model,
                list(res_ids),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _next_ids(self, table, count):
        """``count`` new ids of ``table``'s sequence, in order: rows inserted with them keep
        the order of the values they were made from."""
        self.env.cr.execute(
            SQL(
                "SELECT nextval(%s) FROM generate_series(1, %s)",
                f"{table}_id_seq",
                count,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _create_mails(self, vals_list):
        """Queue emails with their chatter message, recipients and delivery notifications, in
        five INSERTs: what ``mail.mail.create`` with a chatter copy writes, without its
        per-message work (defaults, the body sanitized again, inverse caches), which was a
        fifth of a large first run. The mail queue sends them after the commit.

        :param vals_list: dicts with model, res_id, subject, body (the chatter copy, already
            as the chatter stores it), body_html (the email), author_id, email_from, reply_to,
            recipient_ids (partner ids), record_company_id, record_alias_domain_id
        :return: the new mail.mail records, in the order of ``vals_list``
        """
        Mail = self.env["mail.mail"]
        if not vals_list:
            return Mail
        Message = self.env["mail.message"]
        Message.flush_model()
        Mail.flush_model()
        self.env["mail.notification"].flush_model()
        message_ids = self._next_ids("mail_message", len(vals_list))
        mail_ids = self._next_ids("mail_mail", len(vals_list))
        now = self.env.cr.now()
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_message (id, model, res_id, subject, body, author_id,
                       email_from, reply_to, message_id, record_company_id,
                       record_alias_domain_id, message_type, subtype_id, email_add_signature,
                       date, create_uid, create_date, write_uid, write_date)
                   SELECT r.*, 'comment', %(subtype)s, TRUE, %(date)s, %(uid)s, %(now)s,
                          %(uid)s, %(now)s
                     FROM unnest(%(ids)s::int[], %(models)s::varchar[], %(res_ids)s::int[],
                                 %(subjects)s::varchar[], %(bodies)s::text[],
                                 %(authors)s::int[], %(froms)s::varchar[],
                                 %(reply_tos)s::varchar[], %(msgids)s::varchar[],
                                 %(companies)s::int[], %(domains)s::int[]) AS r""",
                subtype=self.env.ref("mail.mt_comment").id,
                date=fields.Datetime.now(),
                uid=self.env.uid,
                now=now,
                ids=message_ids,
                models=[vals["model"] for vals in vals_list],
                res_ids=[vals["res_id"] for vals in vals_list],
                subjects=[vals.get("subject") or None for vals in vals_list],
                bodies=[str(vals.get("body") or "") or None for vals in vals_list],
                authors=[vals.get("author_id") or None for vals in vals_list],
                froms=[vals.get("email_from") or None for vals in vals_list],
                reply_tos=[vals.get("reply_to") or None for vals in vals_list],
                msgids=[
                    generate_tracking_message_id(f"{vals['res_id']}-{vals['model']}")
                    for vals in vals_list
                ],
                companies=[vals.get("record_company_id") or None for vals in vals_list],
                domains=[vals.get("record_alias_domain_id") or None for vals in vals_list],
            )
        )
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_mail (id, mail_message_id, body_html, state, is_notification,
                       auto_delete, create_uid, create_date, write_uid, write_date)
                   SELECT r.*, 'outgoing', TRUE, FALSE, %(uid)s, %(now)s, %(uid)s, %(now)s
                     FROM unnest(%(ids)s::int[], %(messages)s::int[], %(bodies)s::text[]) AS r""",
                uid=self.env.uid,
                now=now,
                ids=mail_ids,
                messages=message_ids,
                bodies=[str(vals.get("body_html") or "") or None for vals in vals_list],
            )
        )
        pairs = [
            (message_id, mail_id, partner_id, vals.get("author_id") or None)
            for message_id, mail_id, vals in zip(message_ids, mail_ids, vals_list, strict=True)
            for partner_id in dict.fromkeys(vals["recipient_ids"])
        ]
        if pairs:
            messages, mails, partners, authors = (
                list(column) for column in zip(*pairs, strict=True)
            )
            for table, column, ids in (
                ("mail_message_res_partner_rel", "mail_message_id", messages),
                ("mail_mail_res_partner_rel", "mail_mail_id", mails),
            ):
                self.env.cr.execute(
                    SQL(
                        "INSERT INTO %s (%s, res_partner_id) "
                        "SELECT * FROM unnest(%s::int[], %s::int[])",
                        SQL.identifier(table),
                        SQL.identifier(column),
                        ids,
                        partners,
                    )
                )
            self.env.cr.execute(
                SQL(
                    """INSERT INTO mail_notification (mail_message_id, mail_mail_id,
                           res_partner_id, author_id, notification_type, notification_status,
                           is_read, read_date)
                       SELECT r.*, 'email', 'ready', TRUE, %s
                         FROM unnest(%s::int[], %s::int[], %s::int[], %s::int[]) AS r""",
                    fields.Datetime.now(),
                    messages,
                    mails,
                    partners,
                    authors,
                )
            )
        Message.invalidate_model()
        Mail.invalidate_model()
        self.env["mail.notification"].invalidate_model()
        for model, res_ids in self._group_res_ids(vals_list).items():
            self.env[model].browse(res_ids).invalidate_recordset(
                ["message_ids", "message_needaction", "message_needaction_counter"]
            )
        return Mail.browse(mail_ids)

    @api.model
    def _group_res_ids(self, vals_list):
        grouped = defaultdict(set)
        for vals in vals_list:
            grouped[vals["model"]].add(vals["res_id"])
        return grouped

    @api.model
    def _create_activities(self, vals_list):
        """Create the run's tasks with one INSERT, then do what ``mail.activity.create``
        does after its insert: the assignee follows the record, and their task counter is
        told. The ORM create cost about half a millisecond per task, mostly in default
        values, inverse caches and the sanitizing of the note, which we build from escaped
        values; a first run on a large backlog creates tens of thousands of tasks.

        :param vals_list: dicts with res_model_id, res_id, activity_type_id, summary, note,
            user_id, date_deadline (a ``date``), optionally res_model, res_name,
            dunning_company_id (default: a task on a customer is the current company's, as
            ``mail.activity.create`` sets it) and dunning_level_id
        :return: the new mail.activity records
        """
        if not vals_list:
            return self.env["mail.activity"]
        # sudo: model names of the tasks' records (ir.model is for administrators)
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
            # sudo: display names of the very records the tasks are on
            records = self.env[model].sudo().browse(res_ids)
            names.update({(model, record.id): record.display_name for record in records})
        vals_list = self.env["mail.activity"]._dunning_set_default_company(
            [
                dict(
                    vals,
                    user_id=vals.get("user_id") or self.env.uid,
                    date_deadline=fields.Date.to_date(vals["date_deadline"]),
                )
                for vals in vals_list
            ]
        )
        # sudo: the assignees' time zones
        users = self.env["res.users"].sudo().browse({vals["user_id"] for vals in vals_list})
        zones = {user.id: user.tz or None for user in users}
        columns = {
            "res_model_id": "int", "res_model": "varchar", "res_id": "int",
            "res_name": "varchar", "activity_type_id": "int", "summary": "varchar",
            "note": "text", "user_id": "int", "user_tz": "varchar", "date_deadline": "date",
            "dunning_company_id": "int", "dunning_level_id": "int",
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
                """INSERT INTO mail_activity (%s, active,
                                              create_uid, create_date, write_uid, write_date)
                   SELECT *, TRUE, %s, now() at time zone 'UTC', %s,
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
            self._follow(model, res_ids, users.browse(user_id).partner_id)
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

    @api.model
    def _follow(self, model, res_ids, partner):
        """``partner`` follows the records ``res_ids`` of ``model`` with the default subtypes,
        as ``message_subscribe`` does, in two INSERTs (the ORM's follower create was most of
        the cost of a run's tasks); records it already follows are left as they are."""
        if not res_ids or not partner.active:  # message_subscribe drops archived partners
            return
        default, _internal, external = self.env["mail.message.subtype"].default_subtypes(model)
        subtypes = external if partner.partner_share else default
        Followers = self.env["mail.followers"]
        Followers.flush_model()
        self.env.cr.execute(
            SQL(
                """INSERT INTO mail_followers (res_model, res_id, partner_id)
                   SELECT %s, r.res_id, %s FROM unnest(%s::int[]) AS r(res_id)
                   ON CONFLICT (res_model, res_id, partner_id) DO NOTHING
                RETURNING id""",
                model,
                partner.id,
                sorted(res_ids),
            )
        )
        new_ids = [row[0] for row in self.env.cr.fetchall()]
        if new_ids and subtypes:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO mail_followers_mail_message_subtype_rel
                              (mail_followers_id, mail_message_subtype_id)
                       SELECT f.id, s.id
                         FROM unnest(%s::int[]) AS f(id), unnest(%s::int[]) AS s(id)""",
                    new_ids,
                    subtypes.ids,
                )
            )
        Followers.invalidate_model()
        self.env[model].browse(res_ids).invalidate_recordset(
            ["message_follower_ids", "message_partner_ids", "message_is_follower"]
        )

    @api.model
    def _link(self, records, field_name, pairs):
        """Add (record id, target id) pairs to a many2many field of ``records``' model with
        one INSERT; pairs already there are left alone."""
        if not pairs:
            return
        field = records._fields[field_name]
        records.flush_model([field_name])
        self.env.cr.execute(
            SQL(
                """INSERT INTO %s (%s, %s)
                   SELECT * FROM unnest(%s::int[], %s::int[])
                   ON CONFLICT DO NOTHING""",
                SQL.identifier(field.relation),
                SQL.identifier(field.column1),
                SQL.identifier(field.column2),
                [pair[0] for pair in pairs],
                [pair[1] for pair in pairs],
            )
        )
        records.browse({pair[0] for pair in pairs}).invalidate_recordset([field_name])
