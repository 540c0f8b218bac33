from datetime import timedelta

from odoo import Command
from odoo.tests import new_test_user, tagged

from .portal_common import PortalCommon


@tagged("post_install", "-at_install")
class TestPortalAccount(PortalCommon):
    """A portal user of the customer finds the same page under My Account (issue 13)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buyer = new_test_user(
            cls.env,
            login="buyer",
            password="buyer-pass-1",
            groups="base.group_portal",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.buyer.partner_id.parent_id = cls.customer
        cls.stranger = new_test_user(
            cls.env,
            login="stranger",
            password="stranger-pass-1",
            groups="base.group_portal",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.stranger.partner_id.parent_id = cls.other

    def test_my_account_page(self):
        self.authenticate("buyer", "buyer-pass-1")
        home = self.url_open("/my/home")
        self.assertIn("/my/dunning", home.text)
        response = self.url_open("/my/dunning", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith(f"/my/dunning/{self.company.id}"))
        page = self.url_open(f"/my/dunning/{self.company.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.move.name, page.text)
        self.assertNotIn(self.other_move.name, page.text)
        # A promise from My Account: recorded for the portal user's customer.
        form = self._promise_form_for(f"my/dunning/{self.company.id}")
        self.assertEqual(form.status_code, 303)
        promise = self.env["dunning.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual((promise.channel, promise.user_id), ("portal", self.buyer))

    def _promise_form_for(self, path):
        date = (self.today + timedelta(days=5)).isoformat()
        return self._post(
            "promise", [("line", self.line.id), ("promise_date", date), ("amount", "")], path=path
        )

    def test_portal_user_of_another_customer_sees_only_their_own(self):
        self.authenticate("stranger", "stranger-pass-1")
        page = self.url_open(f"/my/dunning/{self.company.id}")
        self.assertIn(self.other_move.name, page.text)
        self.assertNotIn(self.move.name, page.text)
        # Posting this customer's line from the other customer's page records nothing.
        self._promise_form_for(f"my/dunning/{self.company.id}")
        self.assertFalse(
            self.env["dunning.promise"].search([("partner_id", "in", self.customer.ids)])
        )

    def test_company_not_granted_and_internal_users(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        self.authenticate("buyer", "buyer-pass-1")
        self.assertEqual(self.url_open(f"/my/dunning/{company_b.id}").status_code, 404)
        self.authenticate("collector", "collector")
        self.assertEqual(self.url_open(f"/my/dunning/{self.company.id}").status_code, 404)
