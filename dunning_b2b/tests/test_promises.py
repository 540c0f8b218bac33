from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, freeze_time, tagged

from .common import RUN_DATE
from .conversations_common import ConversationCommon


@tagged("post_install", "-at_install")
class TestPromises(ConversationCommon):
    """Promises to pay pause their invoices; the daily job keeps or breaks them."""

    def test_promise_pauses_only_covered_invoices(self):
        covered = self._invoice(self.customer, 5, 1000)
        other = self._invoice(self.customer, 5, 700)
        self._run()
        self.assertEqual((covered | other).dunning_level_id, self.follow_up)
        promise = self._promise(covered, 1000, 20)
        self.assertEqual(self._events(covered, "promise").promise_id, promise)
        self.assertIn("Promise to pay", self._bodies(covered))

        self._run(run_date=self._day(11))  # both 16 days overdue
        self.assertEqual(covered.dunning_level_id, self.follow_up, "paused by the promise")
        self.assertEqual(other.dunning_level_id, self.formal, "the customer's others go on")
        with freeze_time(self._day(11)):
            covered.invalidate_recordset(["dunning_paused_reason"])
            self.assertIn("promise to pay by", covered.dunning_paused_reason)
            other.invalidate_recordset(["dunning_paused_reason"])
            self.assertFalse(other.dunning_paused_reason)
        self.assertEqual(promise.state, "open")

    def test_kept_by_the_job(self):
        move = self._invoice(self.customer, 5, 1000)
        promise = self._promise(move, 1000, 10)
        self._pay(move, 1000)
        with freeze_time(self._day(3)):
            stats = self._run(run_date=self._day(3))
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.amount_paid, 1000)
        self.assertEqual(stats["promises_kept"], 1)
        self.assertTrue(self._events(move, "promise_kept"))
        self.assertIn("Promise kept", self._bodies(move))
        self.assertIn("Promise kept", self._bodies(promise))
        # What the collector sees on the customer's dunning tab.
        form = Form(self.customer.with_user(self.collector))
        self.assertEqual(form.dunning_promise_count, 1)
        self.assertEqual(form.dunning_promise_kept_ratio, 100)
        self.assertEqual(form.dunning_promise_broken_count, 0)

    def test_broken_promise_resumes_at_its_stage(self):
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        promise = self._promise(move, 1000, 5)
        self._run(run_date=self._day(5))
        self.assertEqual(promise.state, "open", "open through its date")
        self.assertEqual(move.dunning_level_id, self.follow_up)

        with freeze_time(self._day(15)):
            stats = self._run(run_date=self._day(15))  # 20 days overdue
        self.assertEqual(promise.state, "broken")
        self.assertEqual(stats["promises_broken"], 1)
        self.assertEqual(move.dunning_level_id, self.formal, "the stage its age calls for")
        (broken,) = self._events(move, "promise_broken")
        self.assertEqual(broken.date, self._day(15))
        self.assertIn("Promise broken", self._bodies(move))
        task = self.customer.activity_ids.filtered(lambda a: "Promise broken" in a.summary)
        self.assertEqual(task.user_id, self.collector)
        self.assertEqual(task.activity_type_id.category, "phonecall")
        self.assertIn(move.name, str(task.note))
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.dunning_promise_broken_count, 1)
        self.assertEqual(self.customer.dunning_promise_kept_ratio, 0)

    def test_partial_payment_without_extension_is_broken_with_the_paid_part(self):
        move = self._invoice(self.customer, 5, 1000)
        promise = self._promise(move, 1000, 5)
        self._pay(move, 400)
        self._run(run_date=self._day(6))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(promise.amount_paid, 400)
        self.assertIn(move.currency_id.format(400), self._events(move, "promise_broken").note)

    def test_partial_payment_with_manager_extension_stays_open_for_the_remainder(self):
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        promise = self._promise(move, 1000, 5)
        self._pay(move, 400)
        with self.assertRaises(AccessError):
            promise.with_user(self.collector).write({"extension_date": self._day(15)})
        with freeze_time(self._day(4)):
            promise.with_user(self.manager).write({"extension_date": self._day(15)})
        self.assertTrue(self._events(move, "promise_extended"))
        self.assertEqual(promise.amount_remaining, 600)

        self._run(run_date=self._day(12))  # 17 days overdue, past the promised date
        self.assertEqual(promise.state, "open")
        self.assertEqual(promise.amount_paid, 400)
        self.assertEqual(move.dunning_level_id, self.follow_up, "still paused")

        self._run(run_date=self._day(16))
        self.assertEqual(promise.state, "broken")
        self.assertEqual(move.dunning_level_id, self.formal)

    def test_paid_remainder_within_the_extension_is_kept(self):
        move = self._invoice(self.customer, 5, 1000)
        promise = self._promise(move, 800, 5)
        self._pay(move, 300)
        with freeze_time(self._day(4)):
            promise.with_user(self.manager).extension_date = self._day(15)
        self._run(run_date=self._day(10))
        self.assertEqual(promise.state, "open")
        self._pay(move, 500)
        self._run(run_date=self._day(11))
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.amount_paid, 800)

    def test_cancelled_promise_resumes(self):
        move = self._invoice(self.customer, 5, 1000)
        self._run()
        promise = self._promise(move, 500, 30)
        with freeze_time(RUN_DATE):
            promise.with_user(self.collector).action_cancel()
        self.assertEqual(promise.state, "cancelled")
        self.assertTrue(self._events(move, "promise_cancelled"))
        self._run(run_date=self._day(11))
        self.assertEqual(move.dunning_level_id, self.formal)

    def test_validation_errors_name_the_field(self):
        move = self._invoice(self.customer, 5, 1000)
        other_customer = self._invoice(self._customer("Beta", "b@b.test"), 5, 100)
        other_company = self.setup_other_company()["company"]
        foreign = self._invoice(self.customer, 5, 100, company=other_company)
        cases = [
            (0, 10, {}, "Promised Amount: a promise to pay is for more than zero"),
            (-5, 10, {}, "Promised Amount"),
            (1000.01, 10, {}, "is more than the"),
            (500, -1, {}, "Promised Date:"),
            (500, 10, {"move_ids": [Command.set((move | other_customer).ids)]}, "another customer"),
            (500, 10, {"move_ids": [Command.clear()]}, "Invoices: a promise covers at least one"),
        ]
        before = self.env["dunning.promise"].search_count([])
        for amount, days, vals, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(ValidationError) as caught:
                    self._promise(move, amount, days, **vals)
                self.assertIn(message, str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self._promise(
                move, 500, 10, move_ids=[Command.set((move | foreign).ids)], user=self.env.user
            )
        self.assertIn(other_company.name, str(caught.exception))
        self.assertEqual(self.env["dunning.promise"].search_count([]), before)
        self.assertFalse(move.dunning_event_ids, "nothing half-written")

    def test_closed_promise_is_history(self):
        move = self._invoice(self.customer, 5, 1000)
        promise = self._promise(move, 1000, 2)
        self._run(run_date=self._day(3))
        self.assertEqual(promise.state, "broken")
        with self.assertRaises(Exception):  # noqa: B017 - UserError, then nothing changes
            promise.with_user(self.collector).amount = 10
        self.assertEqual(promise.amount, 1000)

    def test_access(self):
        move = self._invoice(self.customer, 5, 1000)
        promise = self._promise(move, 1000, 10)  # as the collector
        self.assertEqual(promise.user_id, self.collector)
        promise.with_user(self.collector).note = "Will pay on Friday"
        self.assertTrue(promise.with_user(self.invoicing_user).name)
        with self.assertRaises(AccessError):
            promise.with_user(self.invoicing_user).write({"amount": 10})
        with self.assertRaises(AccessError):
            promise.with_user(self.salesperson).write({"amount": 10})
        with self.assertRaises(AccessError):
            self._promise(move, 100, 10, user=self.salesperson)
        self.assertEqual(promise.amount, 1000)
