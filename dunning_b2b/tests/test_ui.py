from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .conversations_common import ConversationCommon


@tagged("post_install", "-at_install")
class TestCollectorLoopUi(ConversationCommon, HttpCase):
    """In the browser, as the collector: the daily loop on My Worklist (issue 11)."""

    def test_collector_loop(self):
        # Today's dates: the browser and the server act on today.
        today = fields.Date.today()
        due = today - timedelta(days=5)
        move = self._invoice_on(self.customer, due - timedelta(days=30), due, 1000.0)
        self._run(run_date=today)
        row = self.env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(row.collector_id, self.collector)
        self.start_tour(
            "/odoo/action-dunning_b2b.dunning_worklist_action",
            "dunning_b2b_collector_loop",
            login="collector",
        )
        promise = self.env["dunning.promise"].search([("partner_id", "=", self.customer.id)])
        dispute = self.env["dunning.dispute"].search([("move_id", "=", move.id)])
        self.assertEqual((promise.user_id, promise.amount), (self.collector, 1000.0))
        self.assertEqual(dispute.user_id, self.collector)
        self.assertTrue(row.promise_open)
        self.assertTrue(row.dispute_open)

    def test_collector_logs_a_note_on_a_customer(self):
        # A customer the collector chases: dunned in the collector's company.
        self._invoice(self.customer, 5, 1000)
        self._run()
        self.assertFalse(self.customer.with_user(self.collector).has_access("write"))
        self.start_tour(
            f"/odoo/res.partner/{self.customer.id}", "dunning_b2b_collector_note", login="collector"
        )
        note = self.customer.message_ids.filtered(lambda m: "pays next week" in str(m.body))
        self.assertEqual(note.author_id, self.collector.partner_id)
