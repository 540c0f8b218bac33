from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SaleHoldCommon

# A 1x1 transparent PNG: the signature the portal expects.
SIGNATURE = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6"
    "kgAAAABJRU5ErkJggg=="
)


@tagged("post_install", "-at_install")
class TestSaleCreditHoldUi(SaleHoldCommon, HttpCase):
    """In the browser: the salesperson's quotation of a held customer, and the portal."""

    def test_salesperson_sees_the_banner_and_is_refused(self):
        order = self._order()
        self.start_tour(
            f"/odoo/action-sale.action_quotations_with_onboarding/{order.id}",
            "dunning_b2b_sale_held_quotation",
            login="seller",
        )
        self.assertEqual(order.state, "draft")

    def test_portal_signature_of_a_held_customer(self):
        order = self._order()
        order.write({"require_signature": True, "require_payment": False})
        order.action_quotation_sent()
        self.authenticate(None, None)
        result = self.make_jsonrpc_request(
            f"/my/orders/{order.id}/accept",
            {
                "access_token": order._portal_ensure_token(),
                "name": "Buyer at Acme",
                "signature": SIGNATURE,
            },
        )
        self.assertTrue(result.get("force_refresh"), result)
        self.assertEqual(order.signed_by, "Buyer at Acme")
        self.assertEqual(order.state, "sent", "signed, not confirmed")
        self.assertTrue(self._order_events(order, "order_portal_blocked"))
        message = order.message_ids.filtered(lambda m: "was not confirmed" in (m.body or ""))
        self.assertEqual(len(message), 1)
        self.assertIn(self.seller.partner_id, message.notified_partner_ids)
        self.assertIn(self.collector.partner_id, message.notified_partner_ids)

    def test_portal_order_page_of_an_approved_order(self):
        """The approval fields are internal (groups): the customer's order page still
        renders for the customer's portal user."""
        order = self._order()
        order.with_user(self.manager).action_dunning_approve()
        order.action_quotation_sent()
        contact = self.env["res.partner"].create(
            {"name": "Paula Portal", "parent_id": self.customer.id, "email": "paula@acme.test"}
        )
        new_test_user(
            self.env,
            login="paula",
            groups="base.group_portal",
            partner_id=contact.id,
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.authenticate("paula", "paula")
        response = self.url_open(f"/my/orders/{order.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(order.name, response.text)
        self.assertNotIn("Max Manager", response.text)
