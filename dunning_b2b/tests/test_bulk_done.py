import re
from datetime import date

from markupsafe import Markup

from odoo.tests import tagged
from odoo.tools import SQL

from .common import DunningCommon
from .test_bulk import ACTIVITY_DIFFER, MESSAGE_DIFFER, NOTIFICATION_DIFFER, TestBulkWriters

DONE_MESSAGE_DIFFER = dict(
    MESSAGE_DIFFER,
    res_id="a copy of the record",
    parent_id="its own thread's message",
)
DONE_TASK_DIFFER = dict(ACTIVITY_DIFFER, res_id="a copy of the record", res_name="its name")


@tagged("post_install", "-at_install")
class TestBulkDone(DunningCommon):
    """dunning.bulk._mark_done writes what mail.activity.action_feedback writes: the "done"
    message on the record (every column), the task archived with its feedback, and the
    thread's order (a record's second task replies to the first one's message)."""

    _rows = TestBulkWriters._rows

    def _tasks(self, record, count=2):
        todo = self.env.ref("dunning_b2b.mail_activity_type_dunning_todo")
        return self.env["dunning.bulk"]._create_activities(
            [
                {
                    "res_model_id": self.env["ir.model"]._get_id(record._name),
                    "res_id": record.id,
                    "activity_type_id": todo.id,
                    "summary": f"Call {number}",
                    "note": Markup("<p>Ask about the <b>invoice</b>.</p>"),
                    "user_id": self.collector.id,
                    "date_deadline": date(2026, 3, 2),
                    "dunning_level_id": self.formal.id,
                }
                for number in range(count)
            ]
        )

    def _thread(self, record, tasks, differ):
        """The tasks' messages on the record, each with what it replies to (the question,
        the message of an earlier task, an earlier message or nothing), and every column of
        the rows."""
        messages = record.message_ids.sorted("id")
        question = messages.filtered(lambda m: m.message_type == "comment")
        done = messages.filtered(lambda m: m.subtype_id == self.env.ref("mail.mt_activities"))
        where = SQL("id = ANY(%s)", done.ids)

        def replies_to(parent):
            if parent in done:
                return done.ids.index(parent.id)
            if parent in question:
                return "discussion"
            return "earlier" if parent else False

        return (
            [
                (replies_to(message.parent_id), re.search(r"Call \d", message.body)[0])
                for message in done
            ],
            self._rows("mail_message", where, differ),
            self._rows(
                "mail_notification", SQL("mail_message_id = ANY(%s)", done.ids),
                dict(NOTIFICATION_DIFFER, mail_message_id="its own message"),
            ),
            self._rows("mail_activity", SQL("id = ANY(%s)", tasks.ids), DONE_TASK_DIFFER),
        )  # fmt: skip

    def _assert_done_as_the_orm(self, record, twin=None, prepare=None, question=True, differ=None):
        """Tasks of ``record`` done by the bulk writer, those of ``twin`` (a record made the
        same way; default a copy) by the ORM: the same rows, the same replies."""
        threads = []
        for target, by_bulk in ((record, True), (twin or record.copy(), False)):
            if question:
                target.message_post(body="Is this paid?", message_type="comment")
            tasks = self._tasks(target)
            if prepare:
                prepare(target, tasks)
            # As the run closes them: as the system, for the user the run is for.
            tasks = tasks.with_user(self.manager).sudo()
            if by_bulk:
                self.env["dunning.bulk"].with_user(self.manager).sudo()._mark_done(
                    tasks, "Paid: nothing is open at Formal notice any more"
                )
            else:
                tasks.action_feedback(feedback="Paid: nothing is open at Formal notice any more")
            self.env.invalidate_all()
            threads.append(
                self._thread(
                    target, tasks.with_context(active_test=False), differ or DONE_MESSAGE_DIFFER
                )
            )
        self.assertEqual(threads[0], threads[1])
        return threads[0]

    def test_done_as_the_orm_writes_it(self):
        """On a customer (its thread is not flat: no parent)."""
        order, messages, notifications, tasks = self._assert_done_as_the_orm(self.customer)
        self.assertEqual(order, [(False, "Call 0"), (False, "Call 1")])
        self.assertEqual(len(messages), 2)
        self.assertFalse(notifications)
        self.assertEqual([task["active"] for task in tasks], [False, False])
        self.assertIn("Paid: nothing is open", str(messages[0]["body"]))
        # Dated when posted, not when the transaction began: after the customer's question.
        question = self.customer.message_ids.filtered(lambda m: m.message_type == "comment")
        done = self.customer.message_ids - question
        self.assertGreaterEqual(min(done.mapped("date")), question.date)

    def test_done_notifying_a_follower_goes_through_the_orm(self):
        """A follower of the activities subtype is notified by the message: the ORM posts
        it, and the rows are the same."""
        activities = self.env.ref("mail.mt_activities")

        def follow(customer, _tasks):
            customer.message_subscribe(
                partner_ids=self.invoicing_user.partner_id.ids, subtype_ids=activities.ids
            )

        _order, _messages, notifications, _tasks = self._assert_done_as_the_orm(
            self.customer,
            prepare=follow,
            differ=dict(DONE_MESSAGE_DIFFER, subject="the record's name: a copy's differs"),
        )
        self.assertTrue(notifications, "the follower of the activities subtype is told")

    def test_done_on_a_flat_thread_replies_as_the_orm(self):
        """On an invoice (a flat thread): both messages reply to the customer's question, as
        message_post finds it."""
        order, _messages, _notifications, _tasks = self._assert_done_as_the_orm(
            self._invoice(self.customer, 3, 100.0), self._invoice(self.customer, 3, 100.0)
        )
        self.assertEqual(order, [("discussion", "Call 0"), ("discussion", "Call 1")])

    def test_done_on_a_flat_thread_without_discussion_replies_as_the_orm(self):
        """Without the customer's question, the first task's message replies to nothing
        and the second one's to the first, as message_post finds them."""
        order, _messages, _notifications, _tasks = self._assert_done_as_the_orm(
            self._invoice(self.customer, 3, 100.0),
            self._invoice(self.customer, 3, 100.0),
            question=False,
        )
        self.assertEqual(order, [(False, "Call 0"), (0, "Call 1")])

    def test_a_record_with_an_attached_task_goes_through_the_orm(self):
        """The attachment of the second task moves to its message; the first task of the same
        record goes through the ORM too, so that the messages keep the tasks' order."""

        def attach(_record, tasks):
            self.env["ir.attachment"].create(
                {"name": "call.txt", "raw": b"notes", "res_model": "mail.activity",
                 "res_id": tasks[1].id}
            )  # fmt: skip

        order, messages, _notifications, _tasks = self._assert_done_as_the_orm(
            self._invoice(self.customer, 3, 100.0),
            self._invoice(self.customer, 3, 100.0),
            prepare=attach,
            question=False,
        )
        self.assertEqual(order, [(False, "Call 0"), (0, "Call 1")])
        self.assertEqual([m["body"].count("Call 1") for m in messages], [0, 1])
