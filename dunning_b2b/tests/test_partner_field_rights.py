from odoo import Command
from odoo.exceptions import AccessError
from odoo.service.model import call_kw
from odoo.tests import new_test_user, tagged

from .test_credit_hold import CreditHoldCommon


@tagged("post_install", "-at_install")
class TestPartnerFieldRights(CreditHoldCommon):
    """The dunning fields of a customer are edited by collections people only, on the
    server: a user with Odoo's Contact Creation right (most salespeople) set
    ``dunning_key_account``, ``dunning_policy_id`` and a pinned segment on a customer; and
    a portal user read their own company's ``credit_hold_reason``, who set it and when."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        contacts = cls.env.ref("base.group_partner_manager")
        cls.salesperson.group_ids = [Command.link(contacts.id)]
        cls.other_policy = cls.policy.copy({"name": "Key accounts"})

    def _call(self, user, method, *args):
        return call_kw(self.env["res.partner"].with_user(user), method, list(args), {})

    def test_contact_creation_does_not_give_the_dunning_fields(self):
        for vals in (
            {"dunning_key_account": True},
            {"dunning_policy_id": self.other_policy.id},
            {"dunning_segment": "high_large", "dunning_segment_pinned": True},
            {"dunning_segment_pinned": True},
            {"dunning_collector_id": self.salesperson.id},
            {"name": "Acme Trading SA", "dunning_policy_id": self.other_policy.id},
        ):
            with self.assertRaisesRegex(AccessError, "Collections /"):
                self._call(self.salesperson, "write", self.customer.ids, vals)
        with self.assertRaisesRegex(AccessError, "Collections / Manager"):
            self._call(
                self.salesperson,
                "create",
                {"name": "New Buyer", "is_company": True, "dunning_key_account": True},
            )
        self.assertFalse(self.env["res.partner"].search([("name", "=", "New Buyer")]))
        customer = self.customer
        self.assertFalse(customer.dunning_key_account)
        self.assertFalse(customer.dunning_policy_id)
        self.assertFalse(customer.dunning_segment_pinned)
        # The contact itself stays theirs to edit, and to create without dunning values.
        self._call(self.salesperson, "write", customer.ids, {"phone": "+32 2 555 01 01"})
        self._call(
            self.salesperson,
            "create",
            {"name": "Other Buyer", "is_company": True, "dunning_key_account": False},
        )

    def test_collectors_and_managers_edit_what_design_says(self):
        self._call(
            self.collector, "write", self.customer.ids, {"dunning_collector_id": self.manager.id}
        )
        self.assertEqual(self.customer.dunning_collector_id, self.manager)
        for vals in ({"dunning_key_account": True}, {"dunning_policy_id": self.other_policy.id}):
            with self.assertRaisesRegex(AccessError, "Collections / Manager"):
                self._call(self.collector, "write", self.customer.ids, vals)
        self._call(
            self.manager,
            "write",
            self.customer.ids,
            {
                "dunning_key_account": True,
                "dunning_policy_id": self.other_policy.id,
                "dunning_segment": "high_large",
            },
        )
        customer = self.customer
        self.assertTrue(customer.dunning_key_account)
        self.assertEqual(customer.dunning_policy_id, self.other_policy)
        self.assertEqual(customer.dunning_segment, "high_large")
        self.assertTrue(customer.dunning_segment_pinned)

    def test_a_portal_user_reads_nothing_internal_of_their_company(self):
        self._set_by_hand(self.manager, reason="Internal: suspected insolvency, legal reviewing")
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
        internal = [
            "credit_hold_reason",
            "credit_hold_date",
            "credit_hold_user_id",
            "credit_hold_origin",
            "credit_hold_level_id",
            "credit_hold_banner",
            "dunning_segment",
            "dunning_revenue_share",
        ]
        Partner = self.env["res.partner"].with_user(portal)
        self.assertTrue(call_kw(Partner, "read", [self.customer.ids, ["name"]], {}))
        visible = call_kw(Partner, "fields_get", [], {"attributes": ["string"]})
        for field in internal:
            self.assertNotIn(field, visible)
            with self.assertRaises(AccessError):
                call_kw(Partner, "read", [self.customer.ids, [field]], {})
        invoice = self._invoice(self.customer, 50, 1000)
        Move = self.env["account.move"].with_user(portal)
        self.assertTrue(call_kw(Move, "read", [invoice.ids, ["name"]], {}))
        with self.assertRaises(AccessError):
            call_kw(Move, "read", [invoice.ids, ["credit_hold_banner"]], {})

    def test_internal_users_still_read_the_hold_and_its_banner(self):
        self._set_by_hand(self.manager, reason="Bounced cheques")
        (row,) = call_kw(
            self.env["res.partner"].with_user(self.salesperson),
            "read",
            [self.customer.ids, ["credit_hold", "credit_hold_banner", "credit_hold_reason"]],
            {},
        )
        self.assertTrue(row["credit_hold"])
        self.assertIn("Bounced cheques", row["credit_hold_banner"])
        self.assertEqual(row["credit_hold_reason"], "Bounced cheques")
