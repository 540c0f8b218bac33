import re
from datetime import timedelta

from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestPortalLinks(DunningCommon):
    """Every reminder, email or letter, carries a link of its own to the customer's page in
    its company (issue 13)."""

    def _links(self):
        return self.env["dunning.access"].search([("partner_id", "=", self.customer.id)])

    def _token(self, url):
        prefix = f"/dunning/{self.customer.id}/"
        self.assertIn(prefix, url)
        return re.match(r"[\w-]+", url.split(prefix, 1)[1]).group(0)

    def test_each_email_carries_a_new_link(self):
        # Due in 5 days: the pre-due email now, the follow-up email 6 days later.
        self._invoice(self.customer, -5, 400.0)
        self._run()
        message = self._messages()
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.mail_message_id.id)])
        self.assertIn("View and pay online", mail.body_html)
        access = self._links()
        self.assertEqual((access.message_id, access.origin), (message, "email"))
        self.assertEqual(access.company_id, self.company)
        token = self._token(mail.body_html)
        self.assertEqual(self.env["dunning.access"]._find(self.customer.id, token), access)
        self.assertFalse(self.env["dunning.access"]._find(self.customer.id + 1, token))
        # Valid for the company's days, from the day it was sent.
        self.assertAlmostEqual(
            access.date_expires - access.create_date, timedelta(days=60), delta=timedelta(minutes=1)
        )
        # The next stage's email carries another link; the first one stays valid.
        self._run(run_date=self.run_date + timedelta(days=6))
        second = self._messages() - message
        self.assertEqual(second.level_id, self.follow_up)
        mail = self.env["mail.mail"].search([("mail_message_id", "=", second.mail_message_id.id)])
        second_token = self._token(mail.body_html)
        self.assertNotEqual(second_token, token)
        self.assertEqual(
            self.env["dunning.access"]._find(self.customer.id, second_token).message_id, second
        )
        self.assertEqual(len(self._links()), 2)

    def test_preview_makes_no_link(self):
        self._invoice(self.customer, 20, 400.0)
        self._run()
        message = self._messages().filtered(lambda m: m.state == "draft")
        self.assertTrue(message)
        self.assertIn(
            "personal link is added when the message is sent",
            message.with_user(self.collector).preview_body_html,
        )
        self.assertFalse(self._links())

    def test_letter_prints_the_link(self):
        self._invoice(self.customer, 20, 400.0)
        Report = self.env["ir.actions.report"].with_user(self.collector)
        html = Report._render_qweb_html("dunning_b2b.report_formal_notice", self.customer.ids)[0]
        access = self._links()
        self.assertEqual(access.origin, "letter")
        token = self._token(html.decode())
        self.assertEqual(self.env["dunning.access"]._find(self.customer.id, token), access)
        # The statement, too.
        Report._render_qweb_html("dunning_b2b.report_customer_statement", self.customer.ids)
        self.assertEqual(len(self._links()), 2)

    def test_link_validity_setting(self):
        self.company.dunning_link_days = 10
        self.env["dunning.access"]._create_link(self.customer, self.company)
        access = self._links()
        self.assertAlmostEqual(
            access.date_expires - access.create_date, timedelta(days=10), delta=timedelta(minutes=1)
        )
        with self.assertRaisesRegex(Exception, "Customer Page Link Validity"):
            self.company.dunning_link_days = 0
