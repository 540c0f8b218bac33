from datetime import datetime, timedelta

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.service.model import call_kw
from odoo.tests import freeze_time, tagged

from .common import RUN_DATE
from .conversations_common import ConversationCommon


@tagged("post_install", "-at_install")
class TestPromiseTerms(ConversationCommon):
    """What was promised (invoices, amount, day, customer, company) is fixed once recorded:
    a promise on other terms is a new promise, and only a manager extends one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inv_a = cls._invoice(cls.customer, 5, 3000)
        cls.inv_b = cls._invoice(cls.customer, 5, 1750)

    def _env(self, user, **context):
        return self.env(user=user, context={"allowed_company_ids": user.company_ids.ids, **context})

    def _create_as(self, user, vals):
        env = self._env(user)
        ids = call_kw(env["dunning.promise"], "create", [vals], {})
        return self.env["dunning.promise"].browse(ids)

    def _recorded(self):
        with freeze_time(RUN_DATE):
            return self._create_as(
                self.collector,
                {
                    "partner_id": self.customer.id,
                    "move_ids": [Command.set((self.inv_a | self.inv_b).ids)],
                    "amount": 2200,
                    "promise_date": self._day(10).isoformat(),
                },
            )

    def test_terms_are_locked_once_recorded(self):
        promise = self._recorded()
        self.assertEqual(promise.amount_open_start, 4750)
        env = self._env(self.collector)
        other = self._customer("Other Customer")
        attempts = {
            "Invoices": {"move_ids": [Command.unlink(self.inv_b.id)]},
            "Promised Date": {"promise_date": "2099-12-31"},
            "Promised Amount": {"amount": 100},
            "Customer": {"partner_id": other.id},
        }
        for label, vals in attempts.items():
            with self.subTest(field=label), freeze_time(RUN_DATE):
                with self.assertRaises(AccessError) as caught:
                    call_kw(env["dunning.promise"], "write", [promise.ids, vals], {})
                message = str(caught.exception)
                self.assertIn(label, message)
                self.assertIn("cancel it and record a new promise", message)
                self.assertIn("Extended Until", message)
        # Not even a manager: a manager extends the promise instead.
        manager_env = self._env(self.manager)
        with freeze_time(RUN_DATE), self.assertRaises(AccessError):
            call_kw(manager_env["dunning.promise"], "write", [promise.ids, {"amount": 100}], {})
        with freeze_time(RUN_DATE):
            call_kw(
                manager_env["dunning.promise"],
                "write",
                [promise.ids, {"extension_date": self._day(20).isoformat()}],
                {},
            )
        self.assertEqual(promise.move_ids, self.inv_a | self.inv_b)
        self.assertEqual(promise.promise_date, self._day(10))
        self.assertEqual(promise.extension_date, self._day(20))
        # The note and the same values written unchanged (a form's save) still pass.
        call_kw(
            env["dunning.promise"],
            "write",
            [promise.ids, {"note": "Will pay on Friday", "amount": 2200}],
            {},
        )

        # Marked kept with nothing paid: nothing is "paid" towards it.
        with freeze_time(RUN_DATE):
            call_kw(env["dunning.promise"], "action_mark_kept", [promise.ids], {})
        self.assertEqual(promise.state, "kept")
        self.assertEqual(promise.amount_paid, 0)

    def test_superuser_may_fix_terms(self):
        promise = self._recorded()
        with freeze_time(RUN_DATE):
            promise.sudo().write({"promise_date": self._day(12)})
        self.assertEqual(promise.promise_date, self._day(12))


@tagged("post_install", "-at_install")
class TestDunningDay(ConversationCommon):
    """The day of a user's action is today in the user's own time zone, not in the time
    zone the request's context says."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector.tz = "Europe/Brussels"
        cls.move = cls._invoice(cls.customer, 5, 1000)

    def _create(self, promise_date):
        # 10:00 UTC: 11:00 in Brussels (RUN_DATE), 22:00 the day before at UTC-12.
        env = self.env(user=self.collector)
        # As RPC does: the request's context comes in the call.
        context = {"allowed_company_ids": self.collector.company_ids.ids, "tz": "Etc/GMT+12"}
        with freeze_time(datetime(RUN_DATE.year, RUN_DATE.month, RUN_DATE.day, 10, 0)):
            ids = call_kw(
                env["dunning.promise"],
                "create",
                [
                    {
                        "partner_id": self.customer.id,
                        "move_ids": [Command.set(self.move.ids)],
                        "amount": 500,
                        "promise_date": promise_date.isoformat(),
                    }
                ],
                {"context": context},
            )
        return self.env["dunning.promise"].browse(ids)

    def test_context_tz_cannot_back_date(self):
        with self.assertRaises(ValidationError) as caught:
            self._create(RUN_DATE - timedelta(days=1))
        self.assertIn("Promised Date", str(caught.exception))
        promise = self._create(RUN_DATE)
        self.assertEqual(promise.date, RUN_DATE, "recorded on the user's own day")
        self.assertEqual(promise.event_ids.date, RUN_DATE)
