import re
from datetime import timedelta

from odoo.exceptions import UserError
from odoo.tests import freeze_time, tagged
from odoo.tools import html2plaintext

from .common import DunningCommon


def _cells(html):
    """The text of an HTML table without spaces, to find ">21<"-like cells."""
    return str(html or "").replace(" ", "").replace("\n", "")


def _without_link(html):
    """The email's text without the block of the link to the customer's page."""
    found = re.search(r'<div class="dunning-online-link".*?</div>', str(html), re.S)
    return html2plaintext(str(html).replace(found.group(0), "") if found else str(html))


@tagged("post_install", "-at_install")
class TestMessagePreview(DunningCommon):
    """Messages to review show the email and the letter the customer will get, before Send,
    with the figures of the day they are sent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.first = cls._invoice(cls.customer, 20, 1234.5, ref="PO-A17")
        cls.second = cls._invoice(cls.customer, 25, 700, ref="PO-B22")

    def _draft(self):
        self._run()
        message = self._messages()
        self.assertEqual((message.state, message.level_id), ("draft", self.formal))
        return message

    def test_collector_reads_the_email_with_the_figures_of_today(self):
        """Prepared on day 20 and opened the next day, the preview says 21 and 26 days
        overdue and lists both invoices, their references and amounts, the total, the
        subject and the recipients."""
        message = self._draft()
        with freeze_time(self.run_date + timedelta(days=1)):
            (values,) = message.with_user(self.collector).read(
                ["preview_subject", "preview_email_from", "preview_email_to", "preview_body_html"]
            )
        body = values["preview_body_html"]
        for move, amount in ((self.first, "1,234.50"), (self.second, "700.00")):
            self.assertIn(move.name, body)
            self.assertIn(move.ref, body)
            self.assertIn(amount, body)
        self.assertIn("1,934.50", body, "the total asked")
        self.assertIn(">21<", _cells(body), "days overdue of today, not of the run")
        self.assertIn(">26<", _cells(body))
        self.assertNotIn(">20<", _cells(body))
        self.assertIn("formal notice", values["preview_subject"])
        self.assertIn("ap@acme.test", values["preview_email_to"])
        self.assertTrue(values["preview_email_from"])
        # The message's own figures, as its views show them, are today's too.
        with freeze_time(self.run_date + timedelta(days=1)):
            shown = message.with_user(self.collector).with_context(dunning_render_today=True)
            self.assertEqual(shown.max_days_overdue, 26)
        self.assertEqual(message.max_days_overdue, 25, "the message itself is not changed")
        self.assertEqual(message.date, self.run_date)

    def test_preview_is_the_email_sent(self):
        """Previewed and sent the same day: the email sent is the one previewed; once sent,
        the preview shows the email sent."""
        message = self._draft()
        day = self.run_date + timedelta(days=3)
        with freeze_time(day):
            collector_message = message.with_user(self.collector)
            subject = collector_message.preview_subject
            body = collector_message.preview_body_html
            collector_message.action_send()
        sent = message.mail_message_id
        self.assertEqual(message.state, "queued")
        self.assertEqual(sent.subject, subject)
        # The same email, but for the link to the customer's page: made when it is sent.
        self.assertIn("personal link is added when the message is sent", body)
        self.assertIn("View and pay online", sent.body)
        self.assertEqual(_without_link(sent.body), _without_link(body))
        self.assertIn(">23<", _cells(sent.body))
        message.invalidate_recordset()
        shown = message.with_user(self.collector)
        self.assertEqual(html2plaintext(shown.preview_body_html), html2plaintext(sent.body))
        self.assertEqual(shown.preview_subject, sent.subject)

    def test_preview_is_sanitized(self):
        """The body shown is sanitized like a chatter message: a script that got into the
        template (written in the database, past the template's own sanitizer) does not run
        in the collector's browser."""
        template = self.formal.mail_template_id
        self.env.cr.execute(
            """UPDATE mail_template
                  SET body_html = jsonb_build_object(
                          'en_US', (body_html->>'en_US') || '<script>alert(1)</script>')
                WHERE id = %s""",
            [template.id],
        )
        template.invalidate_recordset(["body_html"])
        message = self._draft()
        rendered, _errors = message._render_emails()
        self.assertIn("<script>", str(rendered[message.id]["body_html"]), "the test's premise")
        with freeze_time(self.run_date):
            body = message.with_user(self.collector).preview_body_html
        self.assertIn(self.first.name, body)
        self.assertNotIn("<script", body)
        self.assertNotIn("alert(1)", body)

    def test_collector_previews_the_letter(self):
        """The stage's letter for this customer, as the report the web client renders (the
        customers and the date in the action's data and context), with today's figures;
        previewing prints nothing, so no letter event."""
        message = self._draft()
        day = self.run_date + timedelta(days=1)
        with freeze_time(day):
            action = message.with_user(self.collector).action_preview_letter()
            self.assertEqual(action["type"], "ir.actions.report")
            self.assertEqual(action["report_name"], "dunning_b2b.report_formal_notice")
            self.assertEqual(action["report_type"], "qweb-html")
            self.assertEqual(action["context"]["active_ids"], self.customer.ids)
            self.assertEqual(action["context"]["allowed_company_ids"][0], self.company.id)
            # As /report/html/<report> renders it: no ids in the URL, the action's context.
            html, kind = (
                self.env["ir.actions.report"]
                .with_user(self.collector)
                .with_context(**action["context"])
                ._render_qweb_html(action["report_name"], None, data=dict(action["data"]))
            )
        html = html.decode()
        self.assertEqual(kind, "html")
        self.assertIn(self.customer.name, html)
        for move in (self.first, self.second):
            self.assertIn(move.name, html)
        self.assertIn(">21<", _cells(html))
        self.assertFalse(self._events(self.first, "letter"), "a preview is not a letter sent")

    def test_letter_preview_of_the_demand_stage(self):
        """Another stage, another letter: the demand letter of the escalation stage."""
        self.escalation.automatic = False
        self._invoice(self.customer, 50, 300)
        self._run()
        message = self._messages().filtered(lambda m: m.level_id == self.escalation)
        self.assertTrue(message.with_user(self.collector).has_letter)
        action = message.with_user(self.collector).action_preview_letter()
        self.assertEqual(action["report_name"], "dunning_b2b.report_demand_letter")
        html, _kind = (
            self.env["ir.actions.report"]
            .with_user(self.collector)
            .with_context(**action["context"])
            ._render_qweb_html(action["report_name"], self.customer.ids, data=action["data"])
        )
        self.assertIn(self.customer.name, html.decode())

    def test_stage_without_letter(self):
        self.formal.write({"send_letter": False, "attach_letter": False})
        message = self._draft()
        self.assertFalse(message.with_user(self.collector).has_letter)
        with self.assertRaisesRegex(UserError, "Send Letter"):
            message.with_user(self.collector).action_preview_letter()
