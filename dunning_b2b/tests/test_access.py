from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestAccess(DunningCommon):
    """Collectors work the lists; only managers configure ladders."""

    def test_only_managers_edit_stages(self):
        for user in (self.invoicing_user, self.collector):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.formal.with_user(user).write({"day_offset": 20})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["dunning.policy"].with_user(user).create({"name": "Mine"})
        self.formal.with_user(self.manager).write({"day_offset": 20})
        self.assertEqual(self.formal.day_offset, 20)

    def test_users_read_stages_and_history(self):
        move = self._invoice(self.customer, 20, 100)
        self._run()
        as_invoicing = move.with_user(self.invoicing_user)
        self.assertEqual(as_invoicing.dunning_level_id.name, self.formal.name)
        self.assertTrue(as_invoicing.dunning_event_ids)

    def test_history_cannot_be_rewritten(self):
        move = self._invoice(self.customer, 20, 100)
        self._run()
        event = self._events(move, "stage")
        for user in (self.collector, self.manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                event.with_user(user).write({"note": "nothing happened"})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                event.with_user(user).unlink()

    def test_run_now_needs_collections_rights(self):
        move = self._invoice(self.customer, 20, 100)
        with self.assertRaises(AccessError):
            move.with_user(self.invoicing_user).action_dunning_run()
        self.assertFalse(move.dunning_level_id)
        with freeze_time(RUN_DATE):
            action = move.with_user(self.collector).action_dunning_run()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("1 open item(s) moved", action["params"]["message"])
        self.assertEqual(move.dunning_level_id, self.formal)
        self.assertEqual(self._events(move, "stage").user_id, self.collector)

    def test_run_now_on_customers(self):
        move = self._invoice(self.customer, 3, 100)
        untouched = self._invoice(self._customer("Other", "o@o.test"), 3, 100)
        with freeze_time(RUN_DATE):
            self.customer.with_user(self.collector).action_dunning_run()
        self.assertEqual(move.dunning_level_id, self.follow_up)
        self.assertFalse(untouched.dunning_level_id)

    def test_invoicing_user_cannot_send_reviewed_messages(self):
        self._invoice(self.customer, 20, 100)
        self._run()
        message = self._messages()
        with self.assertRaises(AccessError):
            message.with_user(self.invoicing_user).action_send()
        self.assertEqual(message.state, "draft")
