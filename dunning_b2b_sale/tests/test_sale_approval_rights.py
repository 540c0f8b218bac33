from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.service.model import call_kw
from odoo.tests import new_test_user, tagged

from odoo.addons.dunning_b2b.tests.common import RUN_DATE

from .common import SaleHoldCommon

APPROVAL = {
    "dunning_approval_state": "approved",
    "dunning_approved_amount": 1e9,
}


@tagged("post_install", "-at_install")
class TestSaleApprovalRights(SaleHoldCommon):
    """Found: a salesperson approved their own order of a customer on credit hold with a
    plain ``write`` of the approval fields, then confirmed it with no event; the same raised
    the amount of a real, smaller approval. A portal customer read who decided."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.approval = dict(APPROVAL, dunning_approved_by_id=cls.manager.id)

    def _call(self, user, method, args, **kwargs):
        env = self.env(user=user, context={"allowed_company_ids": user.company_ids.ids})
        return call_kw(env["sale.order"], method, args, kwargs)

    def _assert_refused(self, user, method, args, **kwargs):
        with self.assertRaisesRegex(AccessError, "Request Approval.*Approve Order"):
            self._call(user, method, args, **kwargs)

    def test_salesperson_cannot_approve_by_writing(self):
        order = self._order()
        self._assert_refused(self.seller, "write", [order.ids, self.approval])
        for name, value in self.approval.items():
            self._assert_refused(self.seller, "write", [order.ids, {name: value}])
        self._assert_refused(
            self.seller, "write", [order.ids, {"dunning_approved_partner_id": self.customer.id}]
        )
        self.assertFalse(order.dunning_approval_state)
        with self.assertRaisesRegex(UserError, "Request Approval"):
            self._call(self.seller, "action_confirm", [order.ids])
        self.assertEqual(order.state, "draft")
        self.assertFalse(self._order_events(order, "order_approved"))
        # Managers included: they decide with Approve Order, which leaves the event.
        self._assert_refused(self.manager, "write", [order.ids, self.approval])

    def test_salesperson_cannot_raise_an_approval(self):
        order = self._order()
        self._call(self.seller, "action_dunning_request_approval", [order.ids])
        self._call(self.manager, "action_dunning_approve", [order.ids])
        self.assertEqual(order.dunning_approved_amount, 1000)
        self._assert_refused(self.seller, "write", [order.ids, {"dunning_approved_amount": 1e9}])
        self._call(
            self.seller,
            "write",
            [
                order.ids,
                {"order_line": [Command.update(order.order_line.id, {"product_uom_qty": 3})]},
            ],
        )
        with self.assertRaisesRegex(UserError, "The approval covered"):
            self._call(self.seller, "action_confirm", [order.ids])
        self.assertEqual(order.dunning_approved_amount, 1000)
        self.assertEqual(order.state, "draft")

    def test_no_approval_created_or_copied(self):
        self._assert_refused(
            self.seller,
            "create",
            [
                {
                    "partner_id": self.customer.id,
                    "user_id": self.seller.id,
                    "order_line": [
                        Command.create({"product_id": self.product.id, "product_uom_qty": 2})
                    ],
                    **self.approval,
                }
            ],
        )
        self.assertFalse(self.env["sale.order"].search([("dunning_approval_state", "!=", False)]))
        order = self._order()
        self._call(self.seller, "action_dunning_request_approval", [order.ids])
        self._call(self.manager, "action_dunning_approve", [order.ids])
        (copy_id,) = self._call(self.seller, "copy", [order.ids])
        copy = self.env["sale.order"].browse(copy_id)
        self.assertFalse(copy.dunning_approval_state)
        self.assertFalse(copy.dunning_approved_by_id)
        self.assertFalse(copy.dunning_approved_amount)
        with self.assertRaisesRegex(UserError, "Request Approval"):
            self._call(self.seller, "action_confirm", [copy.ids])
        self._assert_refused(
            self.seller, "copy", [order.ids], default={"dunning_approval_state": "approved"}
        )

    def test_request_approve_confirm_still_works(self):
        order = self._order()
        self._call(self.seller, "action_dunning_request_approval", [order.ids])
        self.assertEqual(order.dunning_approval_state, "requested")
        with self.assertRaises(AccessError):
            self._call(self.seller, "action_dunning_approve", [order.ids])
        self._call(self.manager, "action_dunning_approve", [order.ids])
        self.assertEqual(order.dunning_approval_state, "approved")
        self.assertEqual(order.dunning_approved_by_id, self.manager)
        self.assertEqual(order.dunning_approved_partner_id, self.customer)
        self.assertEqual(order.dunning_approved_currency_id, order.currency_id)
        self.assertEqual(len(self._order_events(order, "order_approved")), 1)
        self._call(self.seller, "action_confirm", [order.ids])
        self.assertEqual(order.state, "sale")

    def test_an_approval_covers_its_customer_currency_and_total(self):
        order = self._order()
        self._call(self.manager, "action_dunning_approve", [order.ids])
        self.assertTrue(order.dunning_approval_covered)
        # A smaller order stays covered.
        line = order.order_line
        self._call(
            self.seller,
            "write",
            [order.ids, {"order_line": [Command.update(line.id, {"product_uom_qty": 1})]}],
        )
        self.assertTrue(order.dunning_approval_covered)
        # Another customer on hold: the approval was not given for them.
        other = self._customer("Other Held", "ap@other.test")
        self.env["dunning.credit.hold"].sudo().create(
            {
                "partner_id": other.id,
                "company_id": self.company.id,
                "origin": "manager",
                "state": "active",
                "reason": "Bounced cheques",
                "date_start": RUN_DATE,
                "user_id": self.manager.id,
            }
        )
        self._call(self.seller, "write", [order.ids, {"partner_id": other.id}])
        self.assertFalse(order.dunning_approval_covered)
        with self.assertRaisesRegex(UserError, "The approval was given for Acme Trading"):
            self._call(self.seller, "action_confirm", [order.ids])
        self._call(self.seller, "write", [order.ids, {"partner_id": self.customer.id}])
        self.assertTrue(order.dunning_approval_covered)
        # The same figure in another currency is not the approved amount.
        currency = self.setup_other_currency("EUR")
        pricelist = self.env["product.pricelist"].create(
            {"name": "EUR", "currency_id": currency.id, "company_id": self.company.id}
        )
        self._call(self.seller, "write", [order.ids, {"pricelist_id": pricelist.id}])
        self.assertEqual(order.currency_id, currency)
        self.assertFalse(order.dunning_approval_covered)
        with self.assertRaisesRegex(UserError, "The approval was given for"):
            self._call(self.seller, "action_confirm", [order.ids])
        self.assertEqual(order.state, "draft")
        # A new request and decision cover the order as it is now.
        self._call(self.seller, "action_dunning_request_approval", [order.ids])
        self._call(self.manager, "action_dunning_approve", [order.ids])
        self._call(self.seller, "action_confirm", [order.ids])
        self.assertEqual(order.state, "sale")

    def test_a_portal_customer_reads_no_approval(self):
        order = self._order()
        self._call(self.manager, "action_dunning_approve", [order.ids])
        contact = self.env["res.partner"].create(
            {"name": "Paula Portal", "parent_id": self.customer.id, "email": "paula@acme.test"}
        )
        portal = new_test_user(
            self.env,
            login="paula",
            groups="base.group_portal",
            partner_id=contact.id,
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.assertTrue(self._call(portal, "read", [order.ids, ["name", "amount_total"]]))
        visible = self._call(portal, "fields_get", [], attributes=["string"])
        for name in (
            "dunning_approval_state",
            "dunning_approved_by_id",
            "dunning_approved_amount",
            "dunning_approved_currency_id",
            "dunning_approved_partner_id",
            "dunning_approval_covered",
            "dunning_hold_sale_policy",
            "credit_hold",
            "credit_hold_banner",
        ):
            self.assertNotIn(name, visible)
            with self.assertRaises(AccessError):
                self._call(portal, "read", [order.ids, [name]])
        # Internal users still read them, and the views that show them load for them.
        (row,) = self._call(
            self.seller, "read", [order.ids, ["dunning_approval_state", "dunning_approved_by_id"]]
        )
        self.assertEqual(row["dunning_approval_state"], "approved")
        views = self._call(
            self.seller,
            "get_views",
            [
                [
                    (False, "form"),
                    (self.env.ref("sale.view_quotation_tree").id, "list"),
                    (False, "search"),
                ]
            ],
        )["views"]
        self.assertIn('name="dunning_approval_state"', views["form"]["arch"])
        self.assertIn('name="dunning_approval_state"', views["list"]["arch"])
        self.assertIn("dunning_approval_requested", views["search"]["arch"])

    def test_our_views_validate_without_warnings(self):
        """No "Access Rights Inconsistency" (a field of internal users shown to everyone)."""
        View = self.env["ir.ui.view"]
        ours = View.browse(
            self.env["ir.model.data"]
            .search(
                [
                    ("module", "in", ("dunning_b2b", "dunning_b2b_sale")),
                    ("model", "=", "ir.ui.view"),
                ]
            )
            .mapped("res_id")
        )
        # The views we extend, and the views built on them (primary extensions).
        roots = ours.inherit_id
        views = (
            ours | roots | View.search([("inherit_id", "in", roots.ids), ("mode", "=", "primary")])
        )
        self.assertTrue(views)
        with self.assertNoLogs("odoo.addons.base.models.ir_ui_view", "WARNING"):
            views._check_xml()
