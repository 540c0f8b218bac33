from odoo.service.model import call_kw
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestEventKeep(DunningCommon):
    """An event never vanishes with a user's delete: deleting a draft invoice keeps its
    events, without the link, with the invoice's number."""

    def test_unlink_draft_invoice_keeps_events(self):
        move = self._invoice(self.customer, 10, 100)
        self._run()
        events = move.dunning_event_ids
        self.assertTrue(events)
        name = move.name
        env = self.env(user=self.invoicing_user, context={"allowed_company_ids": self.company.ids})
        call_kw(env["account.move"], "button_draft", [move.ids], {})
        call_kw(env["account.move"], "unlink", [move.ids], {})
        self.assertFalse(move.exists())
        events = events.exists()
        self.assertTrue(events, "the events stay")
        self.assertFalse(events.move_id)
        self.assertEqual(set(events.mapped("move_name")), {name})
        self.assertEqual(events.partner_id, self.customer)
