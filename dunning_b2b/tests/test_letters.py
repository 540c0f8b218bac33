import re
from datetime import timedelta

from odoo import Command
from odoo.tests import freeze_time, tagged
from odoo.tools import format_amount, format_date

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestLetters(DunningCommon):
    """Formal notice, demand letter and statement: what the customer reads."""

    def _html(self, report, partners, user=None):
        Report = self.env["ir.actions.report"]
        if user:
            Report = Report.with_user(user)
        with freeze_time(RUN_DATE):
            html, _type = Report._render_qweb_html(report, partners.ids)
        return self._text(html.decode())

    def _text(self, html):
        """What the reader sees: the text without tags, spaces normalised."""
        return " ".join(re.sub(r"<[^>]+>", " ", html).replace("\ufeff", "").split())

    def _amount(self, amount, currency=None):
        return self._text(format_amount(self.env, amount, currency or self.company.currency_id))

    def test_formal_notice_states_invoices_total_and_deadline(self):
        first = self._invoice(self.customer, 20, 1234.5, ref="PO-A17")
        second = self._invoice(self.customer, 30, 800, ref="PO-B22")
        not_due = self._invoice(self.customer, -5, 99)
        self._run()
        html = self._html("dunning_b2b.report_formal_notice", self.customer, self.collector)
        for move in (first, second):
            self.assertIn(move.name, html)
            self.assertIn(move.ref, html)
        self.assertNotIn(not_due.name, html, "only overdue invoices are claimed")
        self.assertIn(self._amount(2034.5), html)
        deadline = format_date(self.env, RUN_DATE + timedelta(days=10))
        self.assertIn(deadline, html)
        self.assertIn(f"orders placed after {deadline} require prepayment", html)
        self.assertIn(self.company.name, html, "company letterhead")
        self.assertIn(self.collector.name, html, "the contact")

    def test_demand_letter_pdf_and_event(self):
        move = self._invoice(self.customer, 50, 900)
        self.escalation.attach_letter = True  # printed in batch only, by default
        self._run()
        self.company.dunning_letter_deadline_days = 7
        html = self._html("dunning_b2b.report_demand_letter", self.customer)
        self.assertIn("Demand for payment", html)
        self.assertIn(format_date(self.env, RUN_DATE + timedelta(days=7)), html)
        self.assertIn("collection agency", html)
        self.assertIn(move.name, html)
        with self.allow_pdf_render(), freeze_time(RUN_DATE):
            pdf, report_type = (
                self.env["ir.actions.report"]
                .with_user(self.collector)
                .with_context(force_report_rendering=True)
                ._render_qweb_pdf("dunning_b2b.report_demand_letter", self.customer.ids)
            )
        self.assertEqual(report_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        sent, printed = move.dunning_event_ids.filtered(lambda e: e.event_type == "letter").sorted(
            "id"
        )
        self.assertIn("Demand letter attached to the email", sent.note)
        event = printed
        self.assertEqual(event.user_id, self.collector)
        self.assertIn("Demand letter printed", event.note)
        self.assertEqual(event.level_id, self.escalation)

    def test_batch_letters_follow_each_stage(self):
        demanded = self._customer("Demanded", "d@test.example")
        self._invoice(demanded, 50, 900)
        self._invoice(self.customer, 20, 700)
        with freeze_time(RUN_DATE):
            self._run()
        rows = self.env["dunning.worklist"].search([("company_id", "=", self.company.id)])
        # Neither letter left with an email (the formal notice waits for review, stage 4
        # does not attach its letter by default): both are to print for the post.
        self.assertEqual(rows.filtered("letter_due").partner_id, self.customer | demanded)
        action = rows.with_user(self.collector).action_print_letters()
        self.assertEqual(action["report_name"], "dunning_b2b.report_dunning_letter")
        with freeze_time(RUN_DATE):
            self.env["ir.actions.report"].with_user(self.collector)._render_qweb_pdf(
                action["report_name"], action["context"]["active_ids"]
            )
        html = self._html(action["report_name"], rows.partner_id)
        self.assertIn("Formal notice of overdue invoices", html)
        self.assertIn("Demand for payment", html)
        self.assertFalse(rows.filtered("letter_due"), "printed, nothing left to print")
        letters = self.env["dunning.event"].search([("event_type", "=", "letter")])
        printed = letters.filtered(lambda e: "printed" in e.note)
        self.assertEqual(printed.partner_id, self.customer | demanded)
        self.assertEqual(printed.user_id, self.collector)

    def test_letter_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.lang = "fr_FR"
        self._invoice(self.customer, 20, 700)
        self._run()
        html = self._html("dunning_b2b.report_formal_notice", self.customer)
        deadline = RUN_DATE + timedelta(days=10)
        self.assertIn(format_date(self.env, deadline, lang_code="fr_FR"), html)

    def test_statement_nets_credit_note_and_unapplied_payment(self):
        eur = self.setup_other_currency("EUR")
        invoice = self._invoice(self.customer, 40, 1000)
        self._invoice(self.customer, 10, 300, currency=eur)
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": RUN_DATE - timedelta(days=5),
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Return", "quantity": 1, "price_unit": 200,
                         "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )  # fmt: skip
        refund.action_post()
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 300,
                "date": RUN_DATE - timedelta(days=2),
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        self.assertTrue(payment.move_id, "the payment is an open item of the receivable")
        values = self.env["report.dunning_b2b.report_customer_statement"]._get_statement_values(
            self.customer, self.company, RUN_DATE
        )
        sections = {section["currency"]: section for section in values["sections"]}
        usd = sections[self.company.currency_id]
        self.assertEqual(usd["total"], 500)
        self.assertEqual(usd["buckets"], {"0-30": -500, "31-60": 1000, "61-90": 0, "90+": 0})
        self.assertEqual(
            sorted(item["label"] for item in usd["items"]), ["Credit note", "Invoice", "Payment"]
        )
        self.assertEqual(sections[eur]["total"], 300)
        html = self._html("dunning_b2b.report_customer_statement", self.customer)
        for document in (invoice, refund, payment.move_id):
            self.assertIn(document.name, html)
        self.assertIn(self._amount(500), html)
        self.assertIn(self._amount(-500), html)
        self.assertIn(self._amount(300, eur), html)
