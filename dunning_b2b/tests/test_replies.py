from datetime import timedelta

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import freeze_time, tagged

from .common import RUN_DATE
from .replies_common import RepliesCommon


@tagged("post_install", "-at_install")
class TestReplies(RepliesCommon):
    """A customer answers a reminder by email: the reply reaches the invoices' chatter and
    the collector, pauses the customer's reminders for the policy's days; an automatic reply
    does nothing of it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 14 days overdue on RUN_DATE: the follow-up email goes out; the formal notice
        # (16 days) is due two days later.
        cls.move = cls._invoice(cls.customer, 14, 1000, ref="PO-4711")
        cls.other = cls._invoice(cls.customer, 12, 250, ref="PO-4712")
        cls.env["dunning.engine"].sudo()._run(run_date=RUN_DATE)
        cls.message = cls.env["dunning.message"].search([("partner_id", "=", cls.customer.id)])
        assert len(cls.message) == 1 and cls.message.state == "queued", cls.message

    def test_human_reply(self):
        raw = self._reply_email_with_attachment(
            self.message,
            "We never received the goods of PO-4711. Please call me.",
            "human-1",
            "remittance.txt",
            "Paid 250 on 1 March",
        )
        self._receive(raw)
        reply = self._replies()
        self.assertEqual(len(reply), 1)
        self.assertEqual(reply.message_id, self.message)
        self.assertEqual(reply.company_id, self.company)
        self.assertEqual(reply.reply_date, RUN_DATE)
        self.assertEqual(reply.pause_until, RUN_DATE + timedelta(days=5))
        # The customer's chatter holds the email (Odoo's gateway), with its attachment.
        email = self.customer.message_ids.filtered(lambda m: m.message_id == "<human-1@acme.test>")
        self.assertEqual(len(email), 1)
        self.assertIn("never received the goods", str(email.body))
        self.assertEqual(email.attachment_ids.mapped("name"), ["remittance.txt"])
        # Each invoice of the reminder has a note with the text, the attachment and a link.
        for move in self.move | self.other:
            body = self._bodies(move)
            self.assertIn("Customer replied", body)
            self.assertIn("never received the goods of PO-4711", body)
            self.assertIn(f"/web/content/{email.attachment_ids.id}", body)
            self.assertIn(f"/mail/message/{email.id}", body)
        # The collector's task, in the reminder's company.
        task = self._reply_tasks()
        self.assertEqual(len(task), 1)
        self.assertEqual(task.user_id, self.collector)
        self.assertEqual(task.dunning_company_id, self.company)
        self.assertIn("paused until", str(task.note))
        # The audit trail: one event per listed line.
        events = self._events(self.move, "reply")
        self.assertEqual(len(events), 1)
        self.assertEqual(events.message_id, self.message)
        self.assertEqual(self._events(self.other, "reply").company_id, self.company)
        # The reminder is answered.
        self.assertEqual(self.message.answer_type, "replied")
        self.assertTrue(self.message.date_answered)
        # The worklist row and the customer say so.
        with freeze_time(RUN_DATE + timedelta(days=1)):
            row = (
                self.env["dunning.worklist"]
                .with_user(self.collector)
                .search([("partner_id", "=", self.customer.id)])
            )
            row.invalidate_recordset()
            self.assertIn("reminders paused until", row.reply_status)
            self.assertIn("Replied", row.reminder_status)
            partner = self.customer.with_user(self.collector)
            partner.invalidate_recordset()
            self.assertIn("reminders paused until", partner.dunning_reply_status)
            self.assertIn("Replied", partner.dunning_reminder_status)
            self.assertIn("customer replied on", self.move.dunning_paused_reason)

    def test_pause_holds_the_ladder_then_releases_it(self):
        self._receive(self._reply_email(self.message, "Checking with accounts payable.", "h-2"))
        # Two days later the invoice is 16 days overdue: the formal notice is due, but the
        # customer replied: the line keeps its stage and nothing is prepared or sent.
        self._run(run_date=RUN_DATE + timedelta(days=2))
        self.move.invalidate_recordset()
        self.assertEqual(self.move.dunning_level_id, self.follow_up)
        self.assertEqual(self._messages(), self.message)
        state = self.env["dunning.line"].search([("move_id", "=", self.move.id)])
        self.assertIn("customer replied", state.pause_reason)
        # Last day of the pause: still held.
        self._run(run_date=RUN_DATE + timedelta(days=5))
        self.assertEqual(self._messages(), self.message)
        # The pause is over: the line advances to the stage its age calls for.
        self._run(run_date=RUN_DATE + timedelta(days=6))
        self.move.invalidate_recordset()
        self.assertEqual(self.move.dunning_level_id, self.formal)
        self.assertEqual(self._messages().level_id, self.follow_up | self.formal)

    def test_reply_answers_the_email_no_call_task(self):
        """The follow-up stage phones the buyer when nobody answered its email: a reply is an
        answer."""
        customer = self._customer("Quiet Ltd", "ap@quiet.test")
        replied = self._customer("Talkative Ltd", "ap@talkative.test")
        self._invoice(customer, 3, 100)
        self._invoice(replied, 3, 100)
        self._run()
        self._receive(self._reply_email(self._messages(replied), "Paying Monday", "call-1"))
        self._run(run_date=RUN_DATE + timedelta(days=6))
        call_type = self.env.ref("dunning_b2b.mail_activity_type_dunning_call")
        calls = self.env["mail.activity"].search([("activity_type_id", "=", call_type.id)])
        self.assertIn(customer.id, calls.mapped("res_id"))
        self.assertNotIn(replied.id, calls.mapped("res_id"))

    def test_second_reply_adds_no_task(self):
        self._receive(self._reply_email(self.message, "First answer", "h-3"))
        self._receive(self._reply_email(self.message, "Second answer", "h-4"), day=1)
        self.assertEqual(len(self._replies()), 2)
        self.assertEqual(len(self._reply_tasks()), 1)
        # The pause runs from the last reply.
        self.assertEqual(max(self._replies().mapped("pause_until")), RUN_DATE + timedelta(days=6))

    def test_automatic_replies_pause_nothing(self):
        self._receive(
            self._reply_email(
                self.message,
                "I am out of the office until 9 March.",
                "auto-1",
                headers="Auto-Submitted: auto-replied",
            )
        )
        self._receive(
            self._reply_email(
                self.message,
                "Thank you for your email. I am away.",
                "auto-2",
                subject="Automatic reply: Payment reminder",
                headers="X-Autoreply: yes",
            )
        )
        self._receive(
            self._reply_email(
                self.message,
                "Ich bin bis 9. März nicht im Büro.",
                "auto-3",
                subject="Abwesenheitsnotiz: Zahlungserinnerung",
            )
        )
        # Odoo still files them in the customer's chatter.
        filed = self.customer.message_ids.filtered(lambda m: "auto-" in (m.message_id or ""))
        self.assertEqual(len(filed), 3)
        # Nothing else: no reply, task, event, pause, answer.
        self.assertFalse(self._replies())
        self.assertFalse(self._reply_tasks())
        self.assertFalse(self._events(self.move, "reply"))
        self.assertFalse(self.message.date_answered)
        self.assertFalse(self.move._get_dunning_pause_reasons(RUN_DATE + timedelta(days=2)))
        self.assertNotIn("Customer replied", self._bodies(self.move))
        self._run(run_date=RUN_DATE + timedelta(days=2))
        self.move.invalidate_recordset()
        self.assertEqual(self.move.dunning_level_id, self.formal)

    def test_reply_to_another_email_is_not_a_reply_to_a_reminder(self):
        note = self.customer.message_post(body="Welcome", message_type="comment")
        raw = self._reply_email(self.message, "Thanks", "other-1").replace(
            self.message.mail_message_id.message_id, note.message_id
        )
        self._receive(raw)
        self.assertFalse(self._replies())
        self.assertFalse(self._reply_tasks())

    def test_a_stranger_citing_a_reminder_pauses_nothing(self):
        """Review finding: anyone could pause a customer's reminders by citing its reminder's
        Message-ID. Only the customer's contacts or the reminder's recipients are heard."""
        raw = self._reply_email(
            self.message, "Stop chasing them", "stranger-1", sender="Mallory <mallory@evil.test>"
        )
        self._receive(raw)
        self.assertFalse(self._replies())
        self.assertFalse(self._reply_tasks())

    def test_reply_pause_days_validated_and_zero(self):
        with (
            self.assertRaisesRegex(ValidationError, "Pause after a Reply"),
            self.env.cr.savepoint(),
        ):
            self.policy.with_user(self.manager).reply_pause_days = -1
        self.policy.invalidate_recordset()
        self.assertEqual(self.policy.reply_pause_days, 5)
        self.policy.with_user(self.manager).reply_pause_days = 0
        self._receive(self._reply_email(self.message, "Paid today", "zero-1"))
        reply = self._replies()
        self.assertTrue(reply)
        self.assertFalse(reply.pause_until)
        # Recorded and given to the collector, but nothing paused.
        self.assertTrue(self._reply_tasks())
        self.assertFalse(self.move._get_dunning_pause_reasons(RUN_DATE))
        self._run(run_date=RUN_DATE + timedelta(days=2))
        self.move.invalidate_recordset()
        self.assertEqual(self.move.dunning_level_id, self.formal)

    def test_task_falls_back_to_a_manager(self):
        self.company.dunning_collector_id = False
        self.message.sudo().collector_id = False
        self._receive(self._reply_email(self.message, "Who is in charge?", "fb-1"))
        task = self._reply_tasks()
        self.assertEqual(len(task), 1)
        self.assertTrue(task.user_id.has_group("dunning_b2b.group_dunning_manager"))


@tagged("post_install", "-at_install")
class TestRepliesCompanies(RepliesCommon):
    """A customer shared by two companies replies to company A's reminder: only A's
    reminders pause."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.policy_b = cls.env["dunning.policy"].create(
            {
                "name": "Company B ladder",
                "company_id": cls.company_b.id,
                "level_ids": [
                    Command.create(
                        {"name": "B: overdue", "day_offset": 1, "sequence": 1,
                         "mail_template_id": cls.follow_up.mail_template_id.id}
                    ),
                    Command.create(
                        {"name": "B: second", "day_offset": 16, "sequence": 2,
                         "mail_template_id": cls.follow_up.mail_template_id.id}
                    ),
                ],
            }
        )  # fmt: skip
        cls.company_b.dunning_policy_id = cls.policy_b
        cls.move_a = cls._invoice(cls.customer, 14, 100, ref="PO-A")
        cls.move_b = cls._invoice(cls.customer, 14, 200, company=cls.company_b, ref="PO-B")
        cls.env["dunning.engine"].sudo()._run(
            run_date=RUN_DATE, companies=cls.company | cls.company_b
        )
        messages = cls.env["dunning.message"].sudo().search([("partner_id", "=", cls.customer.id)])
        cls.message_a = messages.filtered(lambda m: m.company_id == cls.company)
        cls.message_b = messages.filtered(lambda m: m.company_id == cls.company_b)
        assert cls.message_a and cls.message_b, messages

    def test_reply_pauses_only_its_company(self):
        self._receive(self._reply_email(self.message_a, "About PO-A", "ab-1"))
        reply = self._replies()
        self.assertEqual(reply.company_id, self.company)
        day = RUN_DATE + timedelta(days=2)
        self.assertTrue(self.move_a._get_dunning_pause_reasons(day))
        self.assertFalse(self.move_b._get_dunning_pause_reasons(day))
        self.assertEqual(self.message_a.answer_type, "replied")
        self.assertFalse(self.message_b.answer_type)
        self.assertEqual(self._reply_tasks().dunning_company_id, self.company)
        # Company B's notes and events stay untouched.
        self.assertNotIn("Customer replied", self._bodies(self.move_b))
        self.assertFalse(self._events(self.move_b.sudo(), "reply"))
        # B's reminder goes on; A's waits.
        self.env["dunning.engine"].sudo()._run(
            run_date=day, companies=self.company | self.company_b
        )
        levels = (
            self.env["dunning.message"]
            .sudo()
            .search([("partner_id", "=", self.customer.id)])
            .mapped("level_id.name")
        )
        self.assertIn("B: second", levels)
        self.assertEqual(len(levels), 3)
