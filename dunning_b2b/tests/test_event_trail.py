from datetime import date

from odoo.exceptions import AccessError
from odoo.service.model import call_kw
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestEventTrail(DunningCommon):
    """dunning.event is append-only: the engine and the actions write it; nobody creates,
    changes or deletes an event over RPC, managers included (a collector could forge a
    "promise kept" event dated 400 days back in a manager's name)."""

    def test_nobody_forges_changes_or_deletes_an_event(self):
        move = self._invoice(self.customer, 20, 500.0)
        self._run()
        event = self._events(move, "stage")[:1]
        self.assertTrue(event)
        forged = {
            "event_type": "promise_kept",
            "date": date(2025, 1, 1),
            "partner_id": self.customer.id,
            "company_id": self.company.id,
            "user_id": self.manager.id,
        }
        for user in (self.collector, self.manager):
            Event = self.env["dunning.event"].with_user(user)
            with self.assertRaises(AccessError):
                call_kw(Event, "create", [forged], {})
            with self.assertRaises(AccessError):
                call_kw(Event, "write", [event.ids, {"note": "edited"}], {})
            with self.assertRaises(AccessError):
                call_kw(Event, "unlink", [event.ids], {})
            self.assertTrue(call_kw(Event, "read", [event.ids, ["event_type"]], {}))
        self.assertNotEqual(event.note, "edited")
        self.assertFalse(self.env["dunning.event"].search([("event_type", "=", "promise_kept")]))

    def test_the_actions_still_write_the_trail(self):
        """Run now, as a collector, writes its events through the engine."""
        move = self._invoice(self.customer, 20, 500.0)
        self.customer.with_user(self.collector).action_dunning_run()
        self.assertTrue(self._events(move, "stage"))
