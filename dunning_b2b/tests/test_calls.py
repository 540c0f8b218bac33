from psycopg2 import IntegrityError

from odoo.exceptions import AccessError
from odoo.tests import Form, freeze_time, tagged
from odoo.tools import mute_logger

from .common import RUN_DATE
from .conversations_common import ConversationCommon


@tagged("post_install", "-at_install")
class TestCalls(ConversationCommon):
    """Calls and responses are logged; unanswered emails become phone tasks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.country_us = cls.env.ref("base.us")
        cls.customer.write({"phone": "(206) 555-0101", "country_id": cls.country_us.id})

    def _log(self, records, outcome, kind="call", **vals):
        method = "action_dunning_log_call" if kind == "call" else "action_dunning_log_response"
        with freeze_time(RUN_DATE):
            action = getattr(records.with_user(self.collector), method)()
            form = Form(
                self.env[action["res_model"]]
                .with_user(self.collector)
                .with_context(**action["context"])
            )
            form.outcome = outcome
            for name, value in vals.items():
                setattr(form, name, value)
            return form.save().action_confirm()

    def _call_tasks(self):
        return self.customer.activity_ids.filtered(
            lambda a: (
                a.activity_type_id == self.env.ref("dunning_b2b.mail_activity_type_dunning_call")
            )
        )

    def test_log_a_call_on_an_invoice(self):
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        result = self._log(move, "voicemail", note="Left a message for Dana")
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        (event,) = self._events(move, "call")
        self.assertEqual(event.user_id, self.collector)
        self.assertEqual(event.level_id, self.follow_up)
        self.assertIn("Voicemail", event.note)
        self.assertIn("Left a message for Dana", self._bodies(move))
        customer_note = self.customer.message_ids.filtered(lambda m: "Voicemail" in str(m.body))
        self.assertEqual(customer_note.author_id, self.collector.partner_id)

    def test_log_a_response_on_the_customer(self):
        self._invoice(self.customer, 5, 1000)
        self._log(self.customer, "other", kind="response", channel="letter", note="Letter")
        event = self.env["dunning.event"].search(
            [("partner_id", "=", self.customer.id), ("event_type", "=", "response")]
        )
        self.assertEqual(len(event), 1)
        self.assertFalse(event.move_id)
        self.assertIn("letter", event.note)

    def test_promised_opens_a_prefilled_promise(self):
        move = self._invoice(self.customer, 5, 1000)
        action = self._log(move, "promised")
        self.assertEqual(action["res_model"], "dunning.promise")
        with freeze_time(RUN_DATE):
            model = self.env["dunning.promise"].with_user(self.collector)
            form = Form(model.with_context(**action["context"]))
            self.assertEqual(form.partner_id, self.customer)
            self.assertEqual(form.amount, 1000)
            form.promise_date = self._day(7)
            promise = form.save()
        self.assertEqual(promise.move_ids, move)
        self.assertEqual(promise.channel, "call")

    def test_disputes_opens_a_prefilled_dispute(self):
        move = self._invoice(self.customer, 5, 1000)
        action = self._log(move, "disputes", note="Half the pallets arrived broken")
        self.assertEqual(action["res_model"], "dunning.dispute")
        with freeze_time(RUN_DATE):
            model = self.env["dunning.dispute"].with_user(self.collector)
            form = Form(model.with_context(**action["context"]))
            form.reason = "quality"
            dispute = form.save()
        self.assertEqual(dispute.move_id, move)
        self.assertEqual(dispute.description, "Half the pallets arrived broken")

    def test_says_paid_creates_a_payment_check(self):
        move = self._invoice(self.customer, 5, 1000)
        self._log(move, "says_paid")
        check = self.customer.activity_ids.filtered(lambda a: "Check the payment" in a.summary)
        self.assertEqual(check.user_id, self.collector)
        self.assertEqual(check.date_deadline, self._day(2))
        self.assertIn(move.name, str(check.note))

    def test_sales_user_cannot_log_calls(self):
        with self.assertRaises(AccessError):
            self.env["dunning.call.log"].with_user(self.salesperson).create(
                {"partner_id": self.customer.id, "outcome": "reached"}
            )

    def test_stage_two_phone_task_once(self):
        self.assertEqual(self.follow_up.call_delay, 5, "the standard ladder phones after 5 days")
        move = self._invoice(self.customer, 1, 1000)
        self._run()  # the early follow-up email
        self._run(run_date=self._day(4))
        self.assertFalse(self._call_tasks(), "not before 5 days")
        stats = self._run(run_date=self._day(5))
        self.assertEqual(stats["call_tasks"], 1)
        task = self._call_tasks()
        self.assertEqual(task.user_id, self.collector)
        self.assertIn(move.name, str(task.note))
        self.assertIn('href="tel:+12065550101"', str(task.note))
        self.assertIn("+1 206-555-0101", str(task.note))
        (event,) = self._events(move, "call_task")
        self.assertEqual(event.message_id, self._messages())
        self._run(run_date=self._day(6))
        self._run(run_date=self._day(7))
        self.assertEqual(len(self._call_tasks()), 1, "one task per message, not one a day")
        self.assertEqual(len(self._events(move, "call_task")), 1)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.cr.savepoint():
            event.sudo().copy()
            self.env.flush_all()

    def test_phone_task_for_a_foreign_number(self):
        self.customer.write({"phone": "089 5550 1234", "country_id": self.env.ref("base.de").id})
        self._invoice(self.customer, 1, 1000)
        self._run()
        self._run(run_date=self._day(5))
        self.assertIn('href="tel:+498955501234"', str(self._call_tasks().note))

    def test_phone_task_says_when_the_number_is_unreadable(self):
        self.customer.phone = "ask reception"
        self._invoice(self.customer, 1, 1000)
        self._run()
        self._run(run_date=self._day(5))
        note = str(self._call_tasks().note)
        self.assertIn("could not be read", note)
        self.assertIn("ask reception", note)
        self.assertNotIn("tel:", note)

    def test_no_phone_task_after_a_reply_or_payment(self):
        replied = self._invoice(self.customer, 1, 1000)
        other = self._customer("Beta", "ap@beta.test")
        partly_paid = self._invoice(other, 1, 500)
        self._run()
        self._log(replied, "reached", note="Payment run on Friday")
        self._pay(partly_paid, 100)
        stats = self._run(run_date=self._day(6))
        self.assertFalse(stats["call_tasks"])
        self.assertFalse(self._call_tasks())
