import re

from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .portal_common import PortalCommon


@tagged("post_install", "-at_install")
class TestPortalPay(PortalCommon):
    """Paying from the buyer's page through Odoo's payment stack, with the demo provider
    (issue 13)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.method = cls.env.ref("payment_demo.payment_method_demo")
        cls.provider = (
            cls.env.ref("payment.payment_provider_demo")
            .sudo()
            .copy({"company_id": cls.company.id, "state": "test", "is_published": True})
        )
        cls.provider.payment_method_ids = cls.method
        cls.refund = cls._credit_note(cls.customer, 200.0)

    def _pay_page(self, line_ids):
        return self.url_open(f"/{self.path}/pay", params={"line": line_ids})

    def _transaction(self, route, amount):
        return self.make_jsonrpc_request(
            route,
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.method.id,
                "token_id": None,
                "amount": amount,
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": f"/{self.path}?done=payment",
                "access_token": "whatever",
            },
        )

    def test_pay_with_the_demo_provider_reconciles_and_stops_dunning(self):
        self._run(run_date=self.today)
        row = self.env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        self.assertTrue(row, "the customer is on the worklist before paying")
        page = self._pay_page(self.line.ids)
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_payment_form", page.text)
        # 1,000.00 open, less the 200.00 credit note: 800.00 to pay.
        self.assertIn('data-amount="800.0"', page.text)
        route = re.search(r'data-transaction-route="([^"]+)"', page.text).group(1)
        # The browser's amount is ignored: the server computes what is owed.
        with mute_logger("odoo.addons.payment.models.payment_transaction"):
            values = self._transaction(route, 1.0)
        tx = (
            self.env["payment.transaction"].sudo().search([("reference", "=", values["reference"])])
        )
        self.assertEqual((tx.amount, tx.invoice_ids), (800.0, self.move))
        self.assertEqual(tx.partner_id, self.customer)
        self.make_jsonrpc_request(
            "/payment/demo/simulate_payment",
            {"reference": tx.reference, "payment_details": "4242", "simulated_state": "done"},
        )
        self.assertEqual(tx.state, "done")
        tx._post_process()
        self.assertEqual(self.move.payment_state, "paid")
        self.assertTrue(self.refund.line_ids.filtered("reconciled"), "the credit is used")
        self.assertFalse(
            self.env["dunning.line"]._get_open_items(self.company, partner_ids=self.customer.ids)
        )
        # In the audit trail of the invoice, and told to the collector.
        event = self._events(self.move, "online_payment")
        self.assertEqual(len(event), 1)
        self.assertIn("800.00", event.note)
        note = self.customer.message_ids.filtered(lambda m: "Paid online" in str(m.body))
        self.assertIn(self.collector.partner_id, note.partner_ids)
        # Dunning stopped at once: the worklist row is gone, the page lists nothing.
        self.assertFalse(row.exists() and row.amount_overdue)
        self.assertIn("Nothing is open", self._get().text)

    def test_pay_page_refuses_what_is_not_payable(self):
        response = self._pay_page([self.other_move.line_ids[0].id])
        self.assertIn("Select the invoices you want to pay", response.text)
        self.assertNotIn("o_payment_form", response.text)
        # A forged selection on the transaction route: nothing created.
        with mute_logger("odoo.http"), self.assertRaises(Exception):  # noqa: B017
            self._transaction(f"/{self.path}/transaction/{self.other_move.line_ids[0].id}", 777.0)
        self.assertFalse(
            self.env["payment.transaction"].sudo().search([("partner_id", "=", self.other.id)])
        )

    def test_credits_covering_the_selection(self):
        small = self._invoice_on(self.customer, self.today, self.today, 150.0)
        line = small.line_ids.filtered(lambda ln: ln.account_type == "asset_receivable")
        response = self._pay_page(line.ids)
        self.assertIn("Your open credits cover the selected invoices", response.text)

    def test_no_saved_card_by_link(self):
        """Whoever holds a reminder's link neither sees nor uses the customer's saved
        payment details, and cannot save new ones for the customer."""
        token = (
            self.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": self.method.id,
                    "partner_id": self.customer.id,
                    # Not digits: "4242" once turned up in the page's registry hash.
                    "payment_details": "SAVEDQZ",
                    "provider_ref": "demo-card",
                }
            )
        )
        page = self._pay_page(self.line.ids)
        self.assertNotIn("SAVEDQZ", page.text)
        self.assertNotIn('data-payment-option-type="token"', page.text)
        self.assertNotIn("o_payment_tokenize_checkbox", page.text)
        route = re.search(r'data-transaction-route="([^"]+)"', page.text).group(1)
        with mute_logger("odoo.http"), self.assertRaises(Exception):  # noqa: B017
            self.make_jsonrpc_request(
                route,
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": self.method.id,
                    "token_id": token.id,
                    "amount": 800.0,
                    "flow": "token",
                    "tokenization_requested": False,
                    "landing_route": "/",
                    "access_token": "x",
                },
            )
        self.assertFalse(
            self.env["payment.transaction"].sudo().search([("token_id", "=", token.id)])
        )

    def test_a_credit_is_deducted_once_across_payments(self):
        """1,000.00 and 500.00 open, one credit of 200.00: the first payment started asks
        800.00 (the credit deducted); while it is under way the second asks 500.00, not
        300.00. Both paid, both invoices are settled."""
        second = self._invoice_on(self.customer, self.today, self.today, 500.0)
        line = second.line_ids.filtered(lambda ln: ln.account_type == "asset_receivable")
        amounts, references = [], []
        for selected in (self.line, line):
            page = self._pay_page(selected.ids)
            route = re.search(r'data-transaction-route="([^"]+)"', page.text).group(1)
            with mute_logger("odoo.addons.payment.models.payment_transaction"):
                values = self._transaction(route, 1.0)
            tx = (
                self.env["payment.transaction"]
                .sudo()
                .search([("reference", "=", values["reference"])])
            )
            amounts.append(tx.amount)
            references.append(tx.reference)
        self.assertEqual(amounts, [800.0, 500.0])
        for reference in references:
            self.make_jsonrpc_request(
                "/payment/demo/simulate_payment",
                {"reference": reference, "payment_details": "4242", "simulated_state": "done"},
            )
        self.env["payment.transaction"].sudo().search(
            [("reference", "in", references)]
        )._post_process()
        self.assertEqual(self.move.payment_state, "paid")
        self.assertEqual(second.payment_state, "paid")

    def test_validation_transactions_are_refused(self):
        page = self._pay_page(self.line.ids)
        route = re.search(r'data-transaction-route="([^"]+)"', page.text).group(1)
        with mute_logger("odoo.http"), self.assertRaises(Exception):  # noqa: B017
            self.make_jsonrpc_request(
                route,
                {
                    "provider_id": self.provider.id,
                    "payment_method_id": self.method.id,
                    "token_id": None,
                    "amount": 0.0,
                    "flow": "direct",
                    "tokenization_requested": False,
                    "landing_route": "/",
                    "is_validation": True,
                    "access_token": "x",
                },
            )
        self.assertFalse(
            self.env["payment.transaction"].sudo().search([("operation", "=", "validation")])
        )

    def test_logged_in_stranger_pays_for_the_links_customer(self):
        stranger = new_test_user(
            self.env, login="stranger", password="stranger-pass-1", groups="base.group_portal"
        )
        stranger.partner_id.parent_id = self.other
        self.authenticate("stranger", "stranger-pass-1")
        page = self._pay_page(self.line.ids)
        route = re.search(r'data-transaction-route="([^"]+)"', page.text).group(1)
        with mute_logger("odoo.addons.payment.models.payment_transaction"):
            values = self._transaction(route, 800.0)
        tx = (
            self.env["payment.transaction"].sudo().search([("reference", "=", values["reference"])])
        )
        self.assertEqual(tx.partner_id, self.customer)
