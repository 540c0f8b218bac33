from odoo.exceptions import AccessError, UserError
from odoo.service.model import call_kw
from odoo.tests import tagged

from .test_credit_hold import CreditHoldCommon


@tagged("post_install", "-at_install")
class TestCreditHoldWrite(CreditHoldCommon):
    """Writing res.partner.credit_hold is honoured or refused, never dropped: it was accepted
    and did nothing (no hold, no event), and the salesperson then confirmed an order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Contact Creation, as most salespeople and managers have: they may edit contacts.
        contacts = cls.env.ref("base.group_partner_manager")
        for user in (cls.manager, cls.collector, cls.salesperson, cls.invoicing_user):
            user.group_ids = [(4, contacts.id)]

    def _write(self, user, partner, value):
        Partner = self.env["res.partner"].with_user(user) if user else self.env["res.partner"]
        return call_kw(Partner, "write", [partner.ids, {"credit_hold": value}], {})

    def test_a_manager_sets_and_clears_a_hold_by_writing_the_field(self):
        self._write(self.manager, self.customer, True)
        hold = self._hold(states=("active",))
        self.assertEqual(len(hold), 1)
        self.assertEqual(hold.origin, "manager")
        self.assertEqual(hold.reason, f"Set by {self.manager.name}")
        self.customer.invalidate_recordset()
        self.assertTrue(self.customer.credit_hold)
        self.assertEqual(len(self._partner_events("hold_set")), 1)
        self._write(self.manager, self.customer, True)  # already held: nothing more
        self.assertEqual(len(self._partner_events("hold_set")), 1)
        self._write(self.manager, self.customer, False)
        self.assertFalse(self._hold(states=("active",)))
        self.assertEqual(len(self._partner_events("hold_lifted")), 1)
        self.customer.invalidate_recordset()
        self.assertFalse(self.customer.credit_hold)

    def test_a_manager_without_contact_rights_writes_the_field_too(self):
        contacts = self.env.ref("base.group_partner_manager")
        self.manager.group_ids = [(3, contacts.id)]
        self.assertFalse(self.manager.has_group("base.group_partner_manager"))
        self._write(self.manager, self.customer, True)
        self.assertEqual(self._hold(states=("active",)).reason, f"Set by {self.manager.name}")
        with self.assertRaises(AccessError):  # the contact's other data stays out of reach
            call_kw(
                self.env["res.partner"].with_user(self.manager),
                "write",
                [self.customer.ids, {"credit_hold": False, "name": "Renamed"}],
                {},
            )

    def test_the_superuser_write_takes_effect(self):
        self.env["res.partner"].sudo().browse(self.customer.id).credit_hold = True
        self.assertEqual(len(self._hold(states=("active",))), 1)

    def test_anyone_else_gets_an_error_naming_who_can(self):
        for user in (self.collector, self.salesperson, self.invoicing_user):
            with self.assertRaisesRegex(AccessError, "Collections / Manager"):
                self._write(user, self.customer, True)
        self.assertFalse(self._hold())

    def test_a_stage_hold_is_not_cleared_by_a_write(self):
        self._invoice(self.customer, 50, 500.0)
        self._run()
        hold = self._hold(states=("active",))
        self.assertEqual(hold.origin, "stage")
        with self.assertRaisesRegex(UserError, "Lift Credit Hold"):
            self._write(self.manager, self.customer, False)
        self.assertEqual(hold.state, "active")

    def test_a_salesperson_creates_a_contact_without_touching_holds(self):
        partner = call_kw(
            self.env["res.partner"].with_user(self.salesperson),
            "create",
            [{"name": "New Prospect", "credit_hold": False}],
            {},
        )
        self.assertTrue(partner)
