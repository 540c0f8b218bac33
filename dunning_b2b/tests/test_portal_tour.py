from datetime import timedelta

from odoo.tests import tagged

from .portal_common import PortalCommon


@tagged("post_install", "-at_install")
class TestBuyerJourney(PortalCommon):
    """In the browser, as the buyer who opens a reminder's link: promise, dispute, pay
    (issue 13)."""

    def test_buyer_journey(self):
        self.move.button_draft()
        self.move.ref = "TOUR-A"
        self.move.action_post()
        second = self._invoice_on(
            self.customer, self.today - timedelta(days=30), self.today -
            timedelta(days=2), 500.0, ref="TOUR-B"
        )  # fmt: skip
        method = self.env.ref("payment_demo.payment_method_demo")
        provider = (
            self.env.ref("payment.payment_provider_demo")
            .sudo()
            .copy({"company_id": self.company.id, "state": "test", "is_published": True})
        )
        provider.payment_method_ids = method
        self.start_tour("/" + self.path, "dunning_b2b_buyer_journey")
        promise = self.env["dunning.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(promise.channel, "portal")
        self.assertEqual(promise.move_ids, self.move | second)
        dispute = self.env["dunning.dispute"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((dispute.move_id, dispute.reason), (self.move, "pricing"))
        self.assertIn(second.payment_state, ("paid", "in_payment"))
        self.assertNotIn(self.move.payment_state, ("paid", "in_payment"))
