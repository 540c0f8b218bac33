from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import SaleHoldCommon


@tagged("post_install", "-at_install")
class TestSaleCreditHold(SaleHoldCommon):
    """Orders of a customer on credit hold: banner, refusal, approval, prepayment."""

    def test_salesperson_sees_the_banner(self):
        order = self._order().with_user(self.seller)
        self.assertTrue(order.credit_hold)
        self.assertIn(
            "Credit hold since 03/02/2026: Three invoices 60 days late.", order.credit_hold_banner
        )
        self.assertIn("Contact Colette Collector", order.credit_hold_banner)
        arch = order.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="credit_hold_banner"', arch)
        self.assertIn("action_dunning_request_approval", arch)
        self.assertNotIn("action_dunning_approve", arch, "only managers approve")
        self.assertFalse(self._order(partner=self.free_customer).credit_hold)

    def test_confirmation_is_refused(self):
        order = self._order().with_user(self.seller)
        with self.assertRaisesRegex(
            UserError, "cannot be confirmed: Acme Trading is on credit hold"
        ):
            order.action_confirm()
        self.assertEqual(order.state, "draft")
        free = self._order(partner=self.free_customer).with_user(self.seller)
        free.action_confirm()
        self.assertEqual(free.state, "sale")

    def test_approval_flow(self):
        order = self._order().with_user(self.seller)
        with self.assertRaisesRegex(UserError, "Request Approval"):
            order.action_confirm()
        order.action_dunning_request_approval()
        self.assertEqual(order.dunning_approval_state, "requested")
        self.assertIn(self.manager, order.sudo().activity_ids.user_id)
        self.assertEqual(len(self._order_events(order, "order_approval_requested")), 1)
        with self.assertRaisesRegex(UserError, "Approval was requested"):
            order.action_confirm()
        with self.assertRaises(AccessError):
            order.action_dunning_approve()
        order.with_user(self.manager).action_dunning_approve()
        self.assertEqual(order.dunning_approval_state, "approved")
        self.assertEqual(order.dunning_approved_by_id, self.manager)
        (event,) = self._order_events(order, "order_approved")
        self.assertEqual(event.user_id, self.manager)
        self.assertEqual(event.partner_id, self.customer)
        log = order.message_ids.filtered(lambda m: self.seller.partner_id in m.notified_partner_ids)
        self.assertEqual(len(log), 1, "the salesperson is told")
        self.assertIn("Max Manager approved", log.body)
        self.assertFalse(
            order.sudo().activity_ids.filtered(lambda a: a.user_id == self.manager),
            "the decision closes the managers' task",
        )
        order.action_confirm()
        self.assertEqual(order.state, "sale")

    def test_a_larger_order_needs_a_new_approval(self):
        order = self._order().with_user(self.seller)
        order.with_user(self.manager).action_dunning_approve()
        self.assertEqual(order.dunning_approved_amount, 1000)
        order.order_line.product_uom_qty = 1
        self.assertFalse(order._dunning_hold_blocks_confirmation(), "a smaller order is covered")
        order.order_line.product_uom_qty = 3
        with self.assertRaisesRegex(UserError, "The approval covered"):
            order.action_confirm()
        order.action_dunning_request_approval()
        self.assertEqual(order.dunning_approval_state, "requested")

    def test_refusal(self):
        order = self._order().with_user(self.seller)
        order.action_dunning_request_approval()
        order.with_user(self.manager).action_dunning_refuse()
        self.assertEqual(order.dunning_approval_state, "refused")
        self.assertTrue(self._order_events(order, "order_refused"))
        with self.assertRaisesRegex(UserError, "refused this order"):
            order.action_confirm()

    def test_block_policy(self):
        self.company.dunning_hold_sale_policy = "block"
        order = self._order().with_user(self.seller)
        with self.assertRaisesRegex(UserError, "wait until collections lifts the hold"):
            order.action_confirm()
        with self.assertRaises(UserError):
            order.action_dunning_request_approval()
        with self.assertRaisesRegex(UserError, "not approved in this company"):
            order.with_user(self.manager).action_dunning_approve()

    def test_prepayment_policy(self):
        self.company.dunning_hold_sale_policy = "prepayment"
        order = self._order().with_user(self.seller)
        with self.assertRaisesRegex(UserError, "down payment of"):
            order.action_confirm()
        provider = self.env["payment.provider"].create({"name": "Test", "code": "none"})
        transaction = self.env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                "amount": order.amount_total,
                "currency_id": order.currency_id.id,
                "partner_id": self.customer.id,
                "reference": "TEST-HOLD-1",
                "sale_order_ids": [Command.set(order.ids)],
                "state": "done",
            }
        )
        order.invalidate_recordset(["amount_paid"])
        self.assertEqual(order.amount_paid, order.amount_total)
        confirmed = transaction._check_amount_and_confirm_order()
        self.assertEqual(confirmed, order)
        self.assertEqual(order.state, "sale")

    def test_online_confirmation_notifies_salesperson_and_collector(self):
        order = self._order()
        public = self.env.ref("base.public_user")
        # As the portal does when the customer signs: sudo, as the public user.
        order.with_user(public).sudo()._validate_order()
        self.assertEqual(order.state, "draft", "the held order is not confirmed")
        (event,) = self._order_events(order, "order_portal_blocked")
        message = order.message_ids.filtered(lambda m: "confirmed" in (m.body or ""))[:1]
        self.assertIn("was not confirmed", message.body)
        self.assertIn(self.seller.partner_id, message.notified_partner_ids)
        self.assertIn(self.collector.partner_id, message.notified_partner_ids)
        self.assertIn("Credit hold since", event.note)

    def test_invoicing_a_confirmed_order_is_not_blocked(self):
        order = self._order(partner=self.free_customer)
        order.action_confirm()
        self.env["dunning.credit.hold"]._set_by_manager(self.free_customer, "Cheque bounced")
        self.assertTrue(order.credit_hold)
        moves = order._create_invoices()
        self.assertEqual(moves.partner_id, self.free_customer)
        self.assertTrue(moves.credit_hold)
        message = order.message_ids.filtered(lambda m: "invoiced" in (m.body or ""))[:1]
        self.assertIn("Cheque bounced", message.body)
        self.assertIn(self.seller.partner_id, message.notified_partner_ids)
        self.assertTrue(self._order_events(order, "order_invoiced_on_hold"))

    def test_hold_in_company_a_does_not_block_company_b(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        self.seller.write({"company_ids": [Command.link(company_b.id)]})
        order_b = self._order(company=company_b)
        self.assertFalse(order_b.credit_hold)
        order_b.with_user(self.seller).with_company(company_b).action_confirm()
        self.assertEqual(order_b.state, "sale")
        with self.assertRaises(UserError):
            self._order().with_user(self.seller).action_confirm()
