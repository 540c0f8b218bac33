import re
from datetime import date

from markupsafe import Markup

from odoo.tests import tagged
from odoo.tools import SQL, html_normalize

from .common import DunningCommon

# Columns whose values legitimately differ between the bulk row and the ORM row, with why.
# Every other column of the table, read from information_schema (so columns other addons
# add are compared too), must be equal.
NEW_ROW = {
    "id": "a new row",
    "create_date": "time of the insert",
    "write_date": "time of the insert",
}


def _compact(html):
    """Markup without the spacing the sanitizer rewrites (style attributes, non-breaking
    spaces written as characters or entities)."""
    return re.sub(r"[\s;]|&nbsp", "", html_normalize(str(html or "")))


MESSAGE_DIFFER = {
    **NEW_ROW,
    "date": "time of posting",
    "message_id": "a Message-Id unique to each message",
}
MAIL_DIFFER = {**NEW_ROW, "mail_message_id": "each mail has its own chatter message"}
NOTIFICATION_DIFFER = {
    "id": "a new row",
    "mail_message_id": "each notification belongs to its own message",
    "mail_mail_id": "each notification belongs to its own mail",
    "read_date": "time of the insert",
}
ACTIVITY_DIFFER = NEW_ROW
FOLLOWER_DIFFER = {"id": "a new row"}


@tagged("post_install", "-at_install")
class TestBulkWriters(DunningCommon):
    """The writers that bypass the ORM for speed (dunning.bulk, dunning.event._create_bulk)
    write the rows the ORM would write: every column of every row, compared in SQL."""

    def _values(self, record, names):
        return {name: record[name] for name in names}

    def _rows(self, table, where, differ):
        """The rows of ``table`` matching the SQL condition ``where``, every column but those
        of ``differ``, in a stable order."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT column_name FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name = %s""",
                table,
            )
        )
        columns = {row[0] for row in self.env.cr.fetchall()}
        self.assertTrue(columns, table)
        self.assertLessEqual(set(differ), columns, f"{table}: unknown columns in the exceptions")
        compared = sorted(columns - set(differ))
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM %s WHERE %s",
                SQL(", ").join(SQL.identifier(column) for column in compared),
                SQL.identifier(table),
                where,
            )
        )
        return sorted(
            (dict(zip(compared, row, strict=True)) for row in self.env.cr.fetchall()), key=repr
        )

    def _assert_same_rows(self, table, bulk_where, orm_where, differ):
        bulk = self._rows(table, bulk_where, differ)
        self.assertTrue(bulk, f"{table}: the bulk writer wrote no row")
        self.assertEqual(bulk, self._rows(table, orm_where, differ), table)

    def _assert_note_as_posted(self, record, body, author):
        """_log_notes writes the row message_post writes for the same internal note on the
        thread as it was (the note is removed before the ORM posts its own)."""
        self.env["dunning.bulk"]._log_notes(record._name, {record.id: body}, author)
        bulk = record.message_ids[:1]
        self.assertEqual(bulk.body, Markup("<p>%s</p>") % body)
        self.assertTrue(bulk.message_id)
        where = SQL("mail_message_id = %s", bulk.id)
        rows = {
            "mail_message": self._rows("mail_message", SQL("id = %s", bulk.id), MESSAGE_DIFFER),
            "mail_notification": self._rows("mail_notification", where, NOTIFICATION_DIFFER),
            "mail_message_res_partner_rel": self._rows(
                "mail_message_res_partner_rel", where, {"mail_message_id": "its own message"}
            ),
        }
        self.assertTrue(rows["mail_message"])
        bulk.unlink()
        orm = record.message_post(
            body=body,
            author_id=author.id,
            message_type="notification",
            subtype_xmlid="mail.mt_note",
        )
        where = SQL("mail_message_id = %s", orm.id)
        self.assertEqual(
            rows,
            {
                "mail_message": self._rows("mail_message", SQL("id = %s", orm.id), MESSAGE_DIFFER),
                "mail_notification": self._rows("mail_notification", where, NOTIFICATION_DIFFER),
                "mail_message_res_partner_rel": self._rows(
                    "mail_message_res_partner_rel", where, {"mail_message_id": "its own message"}
                ),
            },
        )
        return orm

    def test_chatter_note_as_the_orm_writes_it(self):
        """A note on an invoice as message_post writes it: the record's company, its alias
        domain, the catchall as reply-to, the thread's last discussion as parent
        (_message_log would leave all of them empty)."""
        self.company.alias_domain_id = self.env["mail.alias.domain"].create(
            {"name": "dunning.example.com", "catchall_alias": "catchall"}
        )
        move = self._invoice(self.customer, 3, 100.0)
        question = move.message_post(body="Is this paid?", message_type="comment")
        move._message_log(body="A later log")
        orm = self._assert_note_as_posted(
            move, Markup("Dunning stage reached: <b>Early follow-up</b>"), self.company.partner_id
        )
        self.assertEqual(orm.record_company_id, self.company)
        self.assertEqual(orm.record_alias_domain_id, self.company.alias_domain_id)
        self.assertIn("catchall@dunning.example.com", orm.reply_to)
        self.assertEqual(orm.parent_id, question)

    def test_chatter_note_on_customer_as_the_orm_writes_it(self):
        """On a customer shared by the companies, without a thread yet: the record company is
        the current one, as message_post sets it; the author's address is the sender."""
        self._assert_note_as_posted(
            self.customer, Markup("Credit hold <b>applied</b>"), self.collector.partner_id
        )

    def test_task_as_the_orm_writes_it(self):
        """Every column of mail.activity.create's row, and the assignee follows the record as
        its create makes them (the row of mail_followers and its subtypes)."""
        vals = {
            "res_model_id": self.env["ir.model"]._get_id("res.partner"),
            "res_id": self.customer.id,
            "activity_type_id": self.env.ref("dunning_b2b.mail_activity_type_dunning_todo").id,
            "summary": "Apply the open credit",
            "note": Markup("<p>Match the credit note with the invoice.</p>"),
            "user_id": self.collector.id,
            "date_deadline": date(2026, 3, 2),
            "dunning_level_id": self.formal.id,
        }
        orm_customer = self.customer.copy()
        bulk = self.env["dunning.bulk"]._create_activities([vals])
        # sudo: a stage's task is the engine's (users cannot give dunning_level_id)
        orm = self.env["mail.activity"].sudo().create(dict(vals, res_id=orm_customer.id))
        self.assertEqual(bulk.dunning_company_id, self.company, "a customer's task is per company")
        self._assert_same_rows(
            "mail_activity",
            SQL("id = %s", bulk.id),
            SQL("id = %s", orm.id),
            dict(ACTIVITY_DIFFER, res_id="a copy of the customer", res_name="its name"),
        )
        self.assertEqual(bulk.res_name, self.customer.display_name)
        follower = self.collector.partner_id.id
        self._assert_same_rows(
            "mail_followers",
            SQL("res_model = 'res.partner' AND res_id = %s AND partner_id = %s",
                self.customer.id, follower),
            SQL("res_model = 'res.partner' AND res_id = %s AND partner_id = %s",
                orm_customer.id, follower),
            dict(FOLLOWER_DIFFER, res_id="a copy of the customer"),
        )  # fmt: skip
        self._assert_same_subtypes("res.partner", self.customer.id, orm_customer.id, follower)

    def test_task_on_a_record_with_company_as_the_orm_writes_it(self):
        """A task on an invoice, with a deadline in the future and no note, for a user with a
        time zone. (Unlike the ORM's create, the run's tasks send no "assigned to you" email:
        they are the daily list, not a person's assignment.)"""
        self.manager.tz = "Europe/Brussels"
        move = self._invoice(self.customer, 3, 100.0)
        vals = {
            "res_model_id": self.env["ir.model"]._get_id("account.move"),
            "res_id": move.id,
            "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
            "summary": "Call",
            "user_id": self.manager.id,
            "date_deadline": date(2030, 1, 1),
        }
        bulk = self.env["dunning.bulk"]._create_activities([vals])
        orm = self.env["mail.activity"].create(dict(vals))
        self.assertEqual(bulk.user_tz, "Europe/Brussels")
        self._assert_same_rows(
            "mail_activity", SQL("id = %s", bulk.id), SQL("id = %s", orm.id), ACTIVITY_DIFFER
        )

    def _assert_same_subtypes(self, model, bulk_res_id, orm_res_id, partner_id):
        def subtypes(res_id):
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """SELECT array_agg(r.mail_message_subtype_id ORDER BY 1)
                         FROM mail_followers f
                         JOIN mail_followers_mail_message_subtype_rel r
                           ON r.mail_followers_id = f.id
                        WHERE f.res_model = %s AND f.res_id = %s AND f.partner_id = %s""",
                    model,
                    res_id,
                    partner_id,
                )
            )
            return self.env.cr.fetchone()[0]

        self.assertTrue(subtypes(bulk_res_id))
        self.assertEqual(subtypes(bulk_res_id), subtypes(orm_res_id))

    def test_follower_as_the_orm_writes_it(self):
        """A task's assignee follows the record with the subtypes message_subscribe gives: the
        default ones for a user, the external ones for a portal contact (every column of
        mail_followers and its subtype rows); an existing subscription is left alone."""
        Bulk = self.env["dunning.bulk"]
        portal = self.env["res.partner"].create({"name": "Portal Contact"})
        self.env["res.users"].create(
            {
                "name": "Portal Contact",
                "login": "portal.bulk@example.com",
                "partner_id": portal.id,
                "group_ids": [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        for follower in (self.collector.partner_id, portal):
            orm_customer = self.customer.copy()
            Bulk._follow("res.partner", {self.customer.id}, follower)
            orm_customer.message_subscribe(partner_ids=follower.ids)
            self._assert_same_rows(
                "mail_followers",
                SQL("res_model = 'res.partner' AND res_id = %s AND partner_id = %s",
                    self.customer.id, follower.id),
                SQL("res_model = 'res.partner' AND res_id = %s AND partner_id = %s",
                    orm_customer.id, follower.id),
                dict(FOLLOWER_DIFFER, res_id="a copy of the customer"),
            )  # fmt: skip
            self._assert_same_subtypes(
                "res.partner", self.customer.id, orm_customer.id, follower.id
            )
        # Subscribed again with other subtypes by hand: a second follow keeps them.
        mine = self.customer.message_follower_ids.filtered(
            lambda f: f.partner_id == self.collector.partner_id
        )
        mine.subtype_ids = self.env.ref("mail.mt_comment")
        Bulk._follow("res.partner", {self.customer.id}, self.collector.partner_id)
        self.assertEqual(mine.subtype_ids, self.env.ref("mail.mt_comment"))
        self.assertEqual(
            len(
                self.customer.message_follower_ids.filtered(
                    lambda f: f.partner_id == self.collector.partner_id
                )
            ),
            1,
        )

    def test_email_as_the_orm_writes_it(self):
        """Every column of the chatter message, the outgoing mail, their recipients and the
        delivery notifications is what mail.mail.create (and mail.notification.create)
        write for the same values."""
        second = self.customer.copy({"email": "second@example.com"})
        vals = {
            "model": "res.partner",
            "res_id": self.customer.id,
            "subject": "Payment overdue",
            "body": "<p>Please pay <b>INV/1</b>.</p>",
            "body_html": "<div style='color: red'>Please pay <b>INV/1</b>.</div>",
            "author_id": self.company.partner_id.id,
            "email_from": "billing@example.com",
            "reply_to": "collections@example.com",
            "recipient_ids": [self.customer.id, second.id],
            "record_company_id": self.company.id,
            "record_alias_domain_id": self.company.alias_domain_id.id,
        }
        bulk = self.env["dunning.bulk"]._create_mails([vals])
        orm = self.env["mail.mail"].create(
            {
                **{name: value for name, value in vals.items() if name != "recipient_ids"},
                "message_type": "comment",
                "subtype_id": self.env.ref("mail.mt_comment").id,
                "partner_ids": [(6, 0, vals["recipient_ids"])],
                "recipient_ids": [(6, 0, vals["recipient_ids"])],
                "is_notification": True,
                "auto_delete": False,
                "state": "outgoing",
            }
        )
        self.env["mail.notification"].create(
            [
                {
                    "mail_message_id": orm.mail_message_id.id,
                    "mail_mail_id": orm.id,
                    "res_partner_id": partner_id,
                    "author_id": vals["author_id"],
                    "notification_type": "email",
                    "notification_status": "ready",
                    "is_read": True,
                }
                for partner_id in vals["recipient_ids"]
            ]
        )
        self.assertEqual(bulk.recipient_ids, orm.recipient_ids)
        self.assertIn(bulk.mail_message_id, self.customer.message_ids)
        self.assertTrue(bulk.mail_message_id.message_id)
        message_ids = (bulk.mail_message_id.id, orm.mail_message_id.id)
        for table, key, ids, differ in (
            ("mail_message", "id", message_ids, MESSAGE_DIFFER),
            ("mail_mail", "id", (bulk.id, orm.id), MAIL_DIFFER),
            ("mail_message_res_partner_rel", "mail_message_id", message_ids,
             {"mail_message_id": "each message its own"}),
            ("mail_mail_res_partner_rel", "mail_mail_id", (bulk.id, orm.id),
             {"mail_mail_id": "each mail its own"}),
            ("mail_notification", "mail_mail_id", (bulk.id, orm.id), NOTIFICATION_DIFFER),
        ):  # fmt: skip
            self._assert_same_rows(
                table,
                SQL("%s = %s", SQL.identifier(key), ids[0]),
                SQL("%s = %s", SQL.identifier(key), ids[1]),
                differ,
            )

    def test_dunning_email_with_collector_reply_to_as_the_orm_writes_it(self):
        """A reminder sent by the run: its chatter message is the row mail.mail.create
        writes for the same values, the collector's address as reply-to included, and the
        email handed to the mail server answers to the collector (issue 12)."""
        self._invoice(self.customer, 3, 400)
        self._run()
        message = self.env["dunning.message"].search([("partner_id", "=", self.customer.id)])
        bulk = self.env["mail.mail"].search([("mail_message_id", "=", message.mail_message_id.id)])
        # The collector, and the catchall where the company has one (issue 13).
        catchall = self.company.catchall_formatted
        reply_to = ", ".join(filter(None, [self.collector.email_formatted, catchall]))
        self.assertEqual(bulk.reply_to, reply_to)
        orm = self.env["mail.mail"].create(
            {
                "model": "res.partner",
                "res_id": self.customer.id,
                "subject": bulk.subject,
                "body": bulk.mail_message_id.body,
                "body_html": bulk.body_html,
                "author_id": bulk.author_id.id,
                "email_from": bulk.email_from,
                "reply_to": reply_to,
                "record_company_id": self.company.id,
                "record_alias_domain_id": self.company.alias_domain_id.id,
                "message_type": "comment",
                "subtype_id": self.env.ref("mail.mt_comment").id,
                "partner_ids": [(6, 0, self.customer.ids)],
                "recipient_ids": [(6, 0, self.customer.ids)],
                "is_notification": True,
                "auto_delete": False,
                "state": "outgoing",
            }
        )
        self._assert_same_rows(
            "mail_message",
            SQL("id = %s", bulk.mail_message_id.id),
            SQL("id = %s", orm.mail_message_id.id),
            dict(MESSAGE_DIFFER, body="the ORM sanitizes it again: compared below"),
        )
        self.assertEqual(_compact(bulk.mail_message_id.body), _compact(orm.mail_message_id.body))
        [outgoing] = bulk._prepare_outgoing_list()
        self.assertEqual(outgoing["reply_to"], reply_to)

    def test_event_as_the_orm_writes_it(self):
        move = self._invoice(self.customer, 3, 100.0)
        vals = {
            "event_type": "stage",
            "date": date(2026, 3, 2),
            "move_id": move.id,
            "move_line_id": move.line_ids.filtered(
                lambda line: line.account_type == "asset_receivable"
            ).id,
            "cycle": 1,
            "partner_id": self.customer.id,
            "company_id": self.company.id,
            "level_id": self.follow_up.id,
            "currency_id": move.currency_id.id,
            "amount_residual": 100.0,
            "days_overdue": 3,
            "user_id": self.env.uid,
            "note": "3 days after the due date",
        }
        Event = self.env["dunning.event"].sudo()
        Event._create_bulk([vals])
        bulk = Event.search([("move_id", "=", move.id)])
        orm = Event.create(dict(vals, level_id=self.formal.id))
        names = [name for name in vals if name != "level_id"] + ["create_uid"]
        self.assertEqual(self._values(bulk, names), self._values(orm, names))

    def test_event_zero_figures_stay_zero(self):
        """A stage entered on the due date (0 days overdue) or a line settled to nothing is
        stored as 0 by the bulk writer, as the ORM stores it, not as an empty value."""
        move = self._invoice(self.customer, 0, 100.0)
        vals = {
            "event_type": "stage", "date": date(2026, 3, 2), "move_id": move.id,
            "partner_id": self.customer.id, "company_id": self.company.id,
            "level_id": self.follow_up.id, "amount_residual": 0.0, "days_overdue": 0,
            "cycle": 0,
        }  # fmt: skip
        Event = self.env["dunning.event"].sudo()
        Event._create_bulk([vals])
        Event.create(dict(vals, level_id=self.formal.id))
        self.env.cr.execute(
            """SELECT amount_residual, days_overdue, cycle FROM dunning_event
                WHERE move_id = %s ORDER BY id""",
            [move.id],
        )
        bulk, orm = self.env.cr.fetchall()
        self.assertEqual(bulk, orm)
        self.assertEqual(bulk, (0.0, 0, 0))
