from datetime import date

from markupsafe import Markup

from odoo.tests import tagged

from .common import DunningCommon

NOTE_FIELDS = (
    "model", "res_id", "body", "message_type", "subtype_id", "author_id", "email_from",
    "is_internal",
)  # fmt: skip
TASK_FIELDS = (
    "res_model", "res_model_id", "res_id", "res_name", "activity_type_id", "summary", "note",
    "user_id", "date_deadline", "automated", "active", "user_tz", "dunning_company_id",
    "dunning_level_id",
)  # fmt: skip


@tagged("post_install", "-at_install")
class TestBulkWriters(DunningCommon):
    """The writers that bypass the ORM for speed (dunning.bulk, dunning.event._create_bulk)
    write the rows the ORM would write."""

    def _values(self, record, names):
        return {name: record[name] for name in names}

    def test_chatter_note_as_the_orm_writes_it(self):
        move = self._invoice(self.customer, 3, 100.0)
        author = self.company.partner_id
        body = Markup("Dunning stage reached: <b>Early follow-up</b>")
        self.env["dunning.bulk"]._log_notes("account.move", {move.id: body}, author)
        bulk = move.message_ids.filtered(lambda m: "Early follow-up" in m.body)
        orm = move.with_context(mail_create_nosubscribe=True)._message_log(
            body=body, author_id=author.id
        )
        self.assertEqual(len(bulk), 1)
        self.assertEqual(self._values(bulk, NOTE_FIELDS), self._values(orm, NOTE_FIELDS))
        self.assertTrue(bulk.message_id)

    def test_task_as_the_orm_writes_it(self):
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
        bulk = self.env["dunning.bulk"]._create_activities([vals])
        self.assertEqual(bulk.dunning_company_id, self.company, "a customer's task is per company")
        orm = self.env["mail.activity"].create(dict(vals))
        self.assertEqual(self._values(bulk, TASK_FIELDS), self._values(orm, TASK_FIELDS))
        self.assertIn(self.collector.partner_id, self.customer.message_partner_ids)

    def test_follower_as_the_orm_writes_it(self):
        """A task's assignee follows the record with the subtypes message_subscribe gives: the
        default ones for a user, the external ones for a portal contact; an existing
        subscription is left alone."""
        Bulk = self.env["dunning.bulk"]
        orm_customer = self.customer.copy()
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
            Bulk._follow("res.partner", {self.customer.id}, follower)
            orm_customer.message_subscribe(partner_ids=follower.ids)
            bulk = self.customer.message_follower_ids.filtered(
                lambda f, p=follower: f.partner_id == p
            )
            orm = orm_customer.message_follower_ids.filtered(
                lambda f, p=follower: f.partner_id == p
            )
            self.assertEqual(len(bulk), 1)
            self.assertEqual(
                (bulk.res_model, bulk.partner_id, bulk.subtype_ids),
                (orm.res_model, orm.partner_id, orm.subtype_ids),
            )
            self.assertTrue(bulk.subtype_ids)
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

    def _columns(self, table, where, *params):
        self.env.flush_all()
        self.env.cr.execute(f"SELECT * FROM {table} WHERE {where}", params)
        skip = {"id", "message_id", "mail_message_id", "mail_mail_id", "create_date",
                "write_date", "date", "read_date"}  # fmt: skip
        return [
            {name: value for name, value in row.items() if name not in skip}
            for row in self.env.cr.dictfetchall()
        ]

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
        self.assertEqual(bulk.body_html, orm.body_html)
        self.assertEqual(bulk.mail_message_id.body, orm.mail_message_id.body)
        self.assertEqual(bulk.recipient_ids, orm.recipient_ids)
        self.assertIn(bulk.mail_message_id, self.customer.message_ids)
        self.assertTrue(bulk.mail_message_id.message_id)
        for table, key, bulk_id, orm_id in (
            ("mail_message", "id", bulk.mail_message_id.id, orm.mail_message_id.id),
            ("mail_mail", "id", bulk.id, orm.id),
            ("mail_message_res_partner_rel", "mail_message_id",
             bulk.mail_message_id.id, orm.mail_message_id.id),
            ("mail_mail_res_partner_rel", "mail_mail_id", bulk.id, orm.id),
            ("mail_notification", "mail_mail_id", bulk.id, orm.id),
        ):  # fmt: skip
            where = f"{key} = %s ORDER BY 1, 2"
            self.assertEqual(
                self._columns(table, where, bulk_id),
                self._columns(table, where, orm_id),
                table,
            )

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
