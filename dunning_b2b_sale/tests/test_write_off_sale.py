from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged

from odoo.addons.dunning_b2b.tests.common import RUN_DATE

from .common import SaleHoldCommon


@tagged("post_install", "-at_install")
class TestWriteOffBlocksOrders(SaleHoldCommon):
    """A customer written off is on a credit hold marked "written off": its next order
    cannot be confirmed (issue 14)."""

    def test_next_order_is_blocked(self):
        self.company.dunning_bad_debt_account_id = self.env["account.account"].create(
            {"code": "681700", "name": "Bad debts", "account_type": "expense"}
        )
        customer = self.free_customer
        with freeze_time(RUN_DATE):
            self._invoice(customer, 120, 2000.0)
            free = self._order(partner=customer).with_user(self.seller)
            self.assertFalse(free.credit_hold)
            self.env["dunning.resolution.write.off"].with_user(self.manager).with_context(
                active_model="res.partner", active_id=customer.id
            ).create({"reason": "Customer insolvent"}).action_confirm()
            order = self._order(partner=customer).with_user(self.seller)
            self.assertTrue(order.credit_hold)
            self.assertIn("Written off: Customer insolvent", order.credit_hold_banner)
            with self.assertRaisesRegex(UserError, "Free Customer is on credit hold"):
                order.action_confirm()
        self.assertEqual(order.state, "draft")
        self.assertEqual(
            customer.with_company(self.company).credit_limit, self.company.currency_id.rounding
        )
