from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .portal_common import PortalCommon


@tagged("post_install", "-at_install")
class TestPortalPage(PortalCommon):
    """The buyer's page opened by a reminder's link (issue 13)."""

    def test_valid_link_shows_the_customers_open_items(self):
        refund = self._credit_note(self.customer, 200.0)
        response = self._get()
        self.assertEqual(response.status_code, 200)
        text = response.text
        self.assertIn(self.move.name, text)
        self.assertIn(refund.name, text)
        # 1,000.00 open less 200.00 of credit: 800.00 to pay.
        self.assertIn("800.00", text)
        self.assertNotIn(self.other_move.name, text, "another customer's invoice")
        self.assertNotIn("777.00", text)
        self.assertEqual(self.access.open_count, 1)
        self.assertTrue(self.access.first_opened)

    def _assert_plain_page(self, response):
        self.assertEqual(response.status_code, 404)
        self.assertIn("This link is not valid", response.text)
        self.assertNotIn(self.move.name, response.text)
        self.assertNotIn("1,000.00", response.text)

    def test_expired_link(self):
        self.access.sudo().date_expires = fields.Datetime.now() - timedelta(minutes=1)
        self._assert_plain_page(self._get())
        self.assertEqual(self.access.open_count, 0)

    def test_revoked_link(self):
        self.access.with_user(self.manager).action_revoke()
        self.assertEqual(self.access.revoked_by_id, self.manager)
        event = self.env["dunning.event"].search(
            [("partner_id", "=", self.customer.id), ("event_type", "=", "link_revoked")]
        )
        self.assertEqual((len(event), event.user_id), (1, self.manager))
        self._assert_plain_page(self._get())

    def test_collector_cannot_revoke(self):
        with self.assertRaises(Exception):  # noqa: B017 - AccessError, rights checked first
            self.access.with_user(self.collector).action_revoke()
        self.assertFalse(self.access.revoked)

    def test_other_customers_url_and_wrong_tokens(self):
        token = self.path.rsplit("/", 1)[1]
        # Customer A's token on customer B's URL.
        self._assert_plain_page(self._get(f"dunning/{self.other.id}/{token}"))
        response = self._get(f"dunning/{self.other.id}/{token}")
        self.assertNotIn(self.other_move.name, response.text)
        # A token one character off, and no token at all.
        wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
        self._assert_plain_page(self._get(f"dunning/{self.customer.id}/{wrong}"))
        self._assert_plain_page(self._get(f"dunning/{self.customer.id}/x"))

    def test_token_is_long_random_and_stored_hashed(self):
        token = self.path.rsplit("/", 1)[1]
        self.assertGreaterEqual(len(token), 43)
        self.assertNotEqual(self.access.sudo().token_hash, token)
        self.assertNotIn(token, self.access.sudo().token_hash)
        __, url = self.env["dunning.access"]._create_link(self.customer, self.company)
        self.assertNotEqual(url, self.url, "a new link per reminder")

    def test_link_of_another_company_shows_nothing_of_this_one(self):
        company_b = self.setup_other_company(name="Company B")["company"]
        __, url = self.env["dunning.access"]._create_link(self.customer, company_b)
        response = self._get(url.split("/", 3)[3])
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(self.move.name, response.text)
        self.assertIn("Nothing is open", response.text)

    def test_statement_pdf(self):
        response = self._get(self.path + "/statement")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        # The statement downloaded from the page logs no letter.
        self.assertFalse(
            self.env["dunning.event"].search(
                [("partner_id", "=", self.customer.id), ("event_type", "=", "letter")]
            )
        )

    def test_page_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["dunning_b2b"], ["de_DE"], overwrite=True)
        self.customer.lang = "de_DE"
        text = self._get().text
        for german in ("Offene Posten", "Auswahl bezahlen", "Meine Zusage erfassen"):
            self.assertIn(german, text)
        self.assertNotIn("Open items", text)
