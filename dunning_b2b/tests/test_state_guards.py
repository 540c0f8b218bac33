from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.service.model import call_kw
from odoo.tests import freeze_time, tagged

from .common import RUN_DATE
from .conversations_common import ConversationCommon


@tagged("post_install", "-at_install")
class TestStateGuards(ConversationCommon):
    """States and outcomes change through their buttons only: a collector wrote
    ``state='kept'`` on a broken promise, and ``state='resolved'``, ``outcome='credit_note'``
    on an open dispute (which released the invoice and lifted the credit hold), over RPC;
    managers could too. Only the superuser (the engine, the actions) writes them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A large customer: Acme is no key account, the escalation stage holds it.
        cls._invoice(cls._customer("Big Buyer", "ap@big.test"), -30, 100000)

    def _call(self, user, model, method, *args):
        return call_kw(self.env[model].with_user(user), method, list(args), {})

    def test_nobody_keeps_a_broken_promise_by_writing_it(self):
        move = self._invoice(self.customer, 5, 1000)
        promise = self._promise(move, 1000, 2)
        self._run(run_date=self._day(3))
        self.assertEqual(promise.state, "broken")
        for user in (self.collector, self.manager):
            with self.assertRaisesRegex(AccessError, "Mark as Kept or Mark as Broken"):
                self._call(user, "dunning.promise", "write", promise.ids, {"state": "kept"})
            with self.assertRaisesRegex(AccessError, "Paid Towards It"):
                self._call(user, "dunning.promise", "write", promise.ids, {"amount_paid": 1000})
        self.assertEqual((promise.state, promise.amount_paid), ("broken", 0))
        self.assertFalse(self._events(move, "promise_kept"))

    def test_nobody_creates_a_promise_already_kept(self):
        move = self._invoice(self.customer, 5, 1000)
        vals = {
            "partner_id": self.customer.id,
            "move_ids": [Command.set(move.ids)],
            "amount": 1000,
            "promise_date": self._day(10),
            "state": "kept",
        }
        for user in (self.collector, self.manager):
            with freeze_time(RUN_DATE), self.assertRaisesRegex(AccessError, "Status"):
                self._call(user, "dunning.promise", "create", vals)
        # Nor as a default in the context.
        vals.pop("state")
        Promise = self.env["dunning.promise"].with_user(self.collector)
        with freeze_time(RUN_DATE), self.assertRaisesRegex(AccessError, "Status"):
            call_kw(Promise, "create", [vals], {"context": {"default_state": "kept"}})
        self.assertFalse(
            self.env["dunning.promise"].search([("partner_id", "=", self.customer.id)])
        )
        # The initial state is what a new promise has anyway.
        with freeze_time(RUN_DATE):
            self._call(self.collector, "dunning.promise", "create", dict(vals, state="open"))

    def test_nobody_resolves_a_dispute_by_writing_it(self):
        move = self._invoice(self.customer, 50, 1000)
        self._run()
        hold = self.env["dunning.credit.hold"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(hold.state, "active")
        dispute = self._dispute(move, "pricing")
        for user in (self.collector, self.manager):
            with self.assertRaisesRegex(AccessError, "Resolve or Reject button"):
                self._call(
                    user,
                    "dunning.dispute",
                    "write",
                    dispute.ids,
                    {"state": "resolved", "outcome": "credit_note"},
                )
            with self.assertRaisesRegex(AccessError, "Outcome"):
                self._call(user, "dunning.dispute", "write", dispute.ids, {"outcome": "corrected"})
        self.assertEqual((dispute.state, dispute.outcome), ("open", False))
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertEqual(hold.state, "active", "the invoice was not released")
        with freeze_time(RUN_DATE), self.assertRaisesRegex(AccessError, "Status"):
            self._call(
                self.collector,
                "dunning.dispute",
                "create",
                {"move_id": move.id, "reason": "other", "state": "resolved"},
            )

    def test_nobody_decides_a_hold_or_a_message_by_writing_it(self):
        self._invoice(self.customer, 50, 1000)
        self._invoice(self.customer, 20, 500)  # formal notice: a message to review
        self._run()
        hold = self.env["dunning.credit.hold"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(hold.state, "active")
        with self.assertRaisesRegex(AccessError, "Lift Hold"):
            self._call(self.manager, "dunning.credit.hold", "write", hold.ids, {"state": "lifted"})
        with self.assertRaisesRegex(AccessError, "Put on Credit Hold"):
            self._call(
                self.manager,
                "dunning.credit.hold",
                "create",
                {"partner_id": self.customer.id, "state": "active", "reason": "by hand"},
            )
        self.assertEqual(hold.state, "active")
        draft = self._messages().filtered(lambda m: m.state == "draft")[:1]
        self.assertTrue(draft)
        for user in (self.collector, self.manager):
            with self.assertRaisesRegex(AccessError, "Send or Cancel button"):
                self._call(user, "dunning.message", "write", draft.ids, {"state": "queued"})
        self.assertEqual(draft.state, "draft")

    def test_the_buttons_and_the_superuser_still_change_states(self):
        kept = self._promise(self._invoice(self.customer, 5, 1000), 1000, 10)
        broken = self._promise(self._invoice(self.customer, 5, 800), 800, 10)
        with freeze_time(self._day(1)):
            self._call(self.collector, "dunning.promise", "action_mark_kept", kept.ids)
            self._call(self.collector, "dunning.promise", "action_mark_broken", broken.ids)
        self.assertEqual((kept.state, broken.state), ("kept", "broken"))
        self.assertIn(
            "marked as kept by Colette Collector", self._events(kept.move_ids, "promise_kept").note
        )
        self.assertIn(
            "marked as broken by Colette Collector",
            self._events(broken.move_ids, "promise_broken").note,
        )
        self.assertEqual(self._events(kept.move_ids, "promise_kept").user_id, self.collector)
        # A decided promise is not decided again.
        with self.assertRaisesRegex(UserError, "open promise"):
            self._call(self.collector, "dunning.promise", "action_mark_kept", broken.ids)
        # Only collectors decide promises.
        cancelled = self._promise(self._invoice(self.customer, 5, 700), 700, 10)
        with self.assertRaises(AccessError):
            self._call(self.salesperson, "dunning.promise", "action_mark_kept", cancelled.ids)
        self._call(self.collector, "dunning.promise", "action_cancel", cancelled.ids)
        self.assertEqual(cancelled.state, "cancelled")
        # The superuser (the engine, data fixes) writes states.
        cancelled.sudo().write({"state": "open"})
        self.assertEqual(cancelled.state, "open")
        # Other fields stay editable while the promise is open.
        self._call(self.collector, "dunning.promise", "write", cancelled.ids, {"note": "Friday"})
        self.assertEqual(cancelled.note, "Friday")
