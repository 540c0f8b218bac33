from odoo import Command
from odoo.service.model import call_kw
from odoo.tests import new_test_user, tagged

from .common import SaleHoldCommon


@tagged("post_install", "-at_install")
class TestOrderEventsKept(SaleHoldCommon):
    """Deleting an order keeps its events in the customer's dunning history."""

    def test_unlink_order_keeps_events(self):
        sales_admin = new_test_user(
            self.env,
            login="sales_admin",
            name="Sally Admin",
            groups="sales_team.group_sale_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        order = self._order()
        env = self.env(user=self.seller, context={"allowed_company_ids": self.company.ids})
        call_kw(env["sale.order"], "action_dunning_request_approval", [order.ids], {})
        event = self._order_events(order, "order_approval_requested")
        self.assertTrue(event)
        name = order.name
        self.assertIn(name, event.note)
        admin_env = self.env(user=sales_admin, context={"allowed_company_ids": self.company.ids})
        call_kw(admin_env["sale.order"], "unlink", [order.ids], {})
        self.assertFalse(order.exists())
        self.assertTrue(event.exists(), "the event stays")
        self.assertFalse(event.sale_order_id)
        self.assertEqual(event.partner_id, self.customer)
        self.assertEqual(event.company_id, self.company)
        self.assertIn(name, event.note)
