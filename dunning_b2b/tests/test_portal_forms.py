import base64
from datetime import timedelta

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.dunning_access import RATE_LIMIT
from .portal_common import PortalCommon


@tagged("post_install", "-at_install")
class TestPortalForms(PortalCommon):
    """Promise and dispute from the buyer's page: validated as in the back office, errors
    shown on the page and nothing created (issue 13)."""

    def _promises(self):
        return self.env["dunning.promise"].search([("partner_id", "=", self.customer.id)])

    def _disputes(self):
        return self.env["dunning.dispute"].search([("partner_id", "=", self.customer.id)])

    def _promise_form(self, days=7, amount="", lines=None):
        date = self.today + timedelta(days=days)
        lines = self.line.ids if lines is None else lines
        return [("line", line) for line in lines] + [
            ("promise_date", date.isoformat()),
            ("amount", amount),
            ("note", "Paying after our board meeting"),
        ]

    def test_promise_in_the_past_is_refused(self):
        response = self._post("promise", self._promise_form(days=-1))
        self.assertEqual(response.status_code, 200)
        self.assertIn("is in the past", response.text)
        self.assertIn("o_dunning_error", response.text)
        self.assertFalse(self._promises())

    def test_promise_above_open_is_refused(self):
        response = self._post("promise", self._promise_form(amount="1000.01"))
        self.assertIn("is more than the", response.text)
        self.assertFalse(self._promises())
        # The form keeps what the buyer typed.
        self.assertIn('value="1000.01"', response.text)

    def test_promise_without_items_or_with_bad_amount(self):
        response = self._post("promise", self._promise_form(lines=[]))
        self.assertIn("Select the invoices you promise to pay", response.text)
        response = self._post("promise", self._promise_form(amount="lots"))
        self.assertIn("Amount: enter a number", response.text)
        # Another customer's line is no item of this page.
        response = self._post("promise", self._promise_form(lines=[self.other_move.line_ids[0].id]))
        self.assertIn("Select the invoices you promise to pay", response.text)
        self.assertFalse(self._promises())
        self.assertFalse(self.env["dunning.promise"].search([("partner_id", "=", self.other.id)]))

    def test_promise_is_recorded_from_the_portal(self):
        response = self._post("promise", self._promise_form(amount="600"))
        self.assertEqual(response.status_code, 303)
        self.assertIn("done=promise", response.headers["Location"])
        promise = self._promises()
        self.assertEqual(
            (promise.channel, promise.amount, promise.move_ids, promise.state),
            ("portal", 600.0, self.move, "open"),
        )
        self.assertEqual(promise.promise_date, self.today + timedelta(days=7))
        event = self._events(self.move, "promise")
        self.assertEqual(len(event), 1)
        self.assertIn("the customer on their page", event.note)
        # The collector is told in the customer's chatter.
        note = self.customer.message_ids.filtered(lambda m: "promised on their page" in str(m.body))
        self.assertIn(self.collector.partner_id, note.partner_ids)
        self.assertIn("board meeting", str(note.body))
        # The page now shows the promise.
        page = self._get()
        self.assertIn("Promised for", page.text)

    def test_dispute_needs_a_reason_and_a_comment(self):
        lines = [("line", self.line.id)]
        response = self._post("dispute", [*lines, ("reason", ""), ("comment", "Wrong price")])
        self.assertIn("Reason: choose what is wrong", response.text)
        response = self._post("dispute", [*lines, ("reason", "pricing"), ("comment", " ")])
        self.assertIn("Comment: tell us what is wrong", response.text)
        response = self._post("dispute", [*lines, ("reason", "bogus"), ("comment", "x")])
        self.assertIn("Reason: choose what is wrong", response.text)
        self.assertFalse(self._disputes())

    def test_dispute_with_attachment(self):
        self.env["dunning.dispute.reason"].search(
            [("reason", "=", "pricing"), ("company_id", "in", (self.company.id, False))]
        )
        response = self._post(
            "dispute",
            [("line", self.line.id), ("reason", "pricing"), ("comment", "Price list says 900")],
            files={"attachment": ("quote.pdf", b"%PDF-1.4 quote", "application/pdf")},
        )
        self.assertEqual(response.status_code, 303)
        dispute = self._disputes()
        self.assertEqual(
            (dispute.move_id, dispute.reason, dispute.state), (self.move, "pricing", "open")
        )
        self.assertEqual(dispute.description, "Price list says 900")
        self.assertTrue(dispute.owner_id, "the owner its reason calls for")
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "dunning.dispute"), ("res_id", "=", dispute.id)]
        )
        self.assertEqual(base64.b64decode(attachment.datas), b"%PDF-1.4 quote")
        self.assertEqual(len(self._events(self.move, "dispute")), 1)
        self.assertIn("Under review", self._get().text)

    def test_forms_need_the_csrf_token(self):
        with mute_logger("odoo.http"):
            response = self._post("promise", self._promise_form(), csrf=False)
        self.assertEqual(response.status_code, 400)
        with mute_logger("odoo.http"):
            response = self._post(
                "dispute", [("line", self.line.id), ("reason", "pricing"), ("comment", "x")],
                csrf=False,
            )  # fmt: skip
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._promises() or self._disputes())

    def test_submissions_are_rate_limited_per_link(self):
        for __ in range(RATE_LIMIT):
            self._post("promise", self._promise_form(days=-1))
        response = self._post("promise", self._promise_form())
        self.assertEqual(response.status_code, 429)
        self.assertFalse(self._promises())
        # Another link of the same customer is not limited by this one.
        __, url = self.env["dunning.access"]._create_link(self.customer, self.company)
        response = self._post("promise", self._promise_form(), path=url.split("/", 3)[3])
        self.assertEqual(response.status_code, 303)

    def test_revoked_link_cannot_post(self):
        page = self._get()
        token = self._csrf(page)
        self.access.with_user(self.manager).action_revoke()
        response = self.url_open(
            f"/{self.path}/promise", data=[*self._promise_form(), ("csrf_token", token)],
            allow_redirects=False,
        )  # fmt: skip
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self._promises())

    # Review findings: the buyer cannot push dunning away, and bad input is said on the page.
    def test_promise_horizon_and_no_second_promise(self):
        response = self._post("promise", self._promise_form(days=31))
        self.assertIn("we can accept a promise up to", response.text)
        self.assertFalse(self._promises())
        self.assertEqual(self._post("promise", self._promise_form(days=30)).status_code, 303)
        response = self._post("promise", self._promise_form(days=10))
        self.assertIn("already promised or under review", response.text)
        self.assertEqual(len(self._promises()), 1)

    def test_no_promise_on_a_disputed_invoice_and_one_dispute_at_a_time(self):
        dispute = [("line", self.line.id), ("reason", "pricing"), ("comment", "Wrong price")]
        self.assertEqual(self._post("dispute", dispute).status_code, 303)
        response = self._post("dispute", [*dispute[:1], ("reason", "quality"), ("comment", "x")])
        self.assertIn("already looking into a problem", response.text)
        self.assertEqual(len(self._disputes()), 1)
        response = self._post("promise", self._promise_form())
        self.assertIn("already promised or under review", response.text)
        self.assertFalse(self._promises())

    def test_bad_amounts_and_dates_are_said_on_the_page(self):
        for amount in ("nan", "inf", "-inf"):
            response = self._post("promise", self._promise_form(amount=amount))
            self.assertEqual(response.status_code, 200, amount)
            self.assertIn("Amount: enter a number", response.text)
        form = [item for item in self._promise_form() if item[0] != "promise_date"]
        response = self._post("promise", [*form, ("promise_date", "")])
        self.assertIn("Payment date: enter the date", response.text)
        self.assertFalse(self._promises())

    def test_promise_over_two_currencies_says_so(self):
        foreign = self.env.ref("base.EUR")
        if foreign == self.company.currency_id:
            foreign = self.env.ref("base.USD")
        foreign.active = True
        other = self._invoice_on(self.customer, self.today, self.today, 300.0, currency=foreign)
        line = other.line_ids.filtered(lambda ln: ln.account_type == "asset_receivable")
        response = self._post("promise", self._promise_form(lines=[self.line.id, line.id]))
        self.assertIn("one currency at a time", response.text)
        self.assertFalse(self._promises())

    def test_dispute_without_a_configured_owner_goes_to_the_collector(self):
        self.company.dunning_collector_id = False
        response = self._post(
            "dispute", [("line", self.line.id), ("reason", "quality"), ("comment", "Broken")]
        )
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertTrue(self._disputes().owner_id)
