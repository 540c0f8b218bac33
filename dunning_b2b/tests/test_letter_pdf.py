import io
import os
import re
import shutil
import subprocess
import unittest
from contextlib import contextmanager
from datetime import date, timedelta
from unittest.mock import patch

from odoo import Command
from odoo.tests import freeze_time, tagged
from odoo.tools import format_amount, format_date
from odoo.tools.pdf import PdfFileReader

from odoo.addons.base.models.ir_actions_report import IrActionsReport

from .common import RUN_DATE
from .conversations_common import ConversationCommon

MM = 72 / 25.4  # PDF points per millimetre


@tagged("post_install", "-at_install")
class TestLetterPdf(ConversationCommon):
    """Letters as PDF with the wkhtmltopdf installed here (Debian's, unpatched Qt): several
    customers in one call, letterhead, window address, what the letter says."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        germany = cls.env.ref("base.de")
        cls.company.write({"vat": "DE123456788", "company_registry": "HRB 98765"})
        cls.company.partner_id.write(
            {
                "street": "Hauptstrasse 5",
                "zip": "10115",
                "city": "Berlin",
                "country_id": germany.id,
            }
        )
        cls.env["res.partner.bank"].create(
            {"acc_number": "DE89370400440532013000", "partner_id": cls.company.partner_id.id}
        )
        cls.customer.write(
            {
                "street": "12 Harbour Road",
                "street2": "Building C",
                "zip": "94105",
                "city": "San Francisco",
                "state_id": cls.env.ref("base.state_us_5").id,
                "country_id": cls.env.ref("base.us").id,
            }
        )
        cls.other = cls._customer(
            "Bolt Industries",
            "ap@bolt.test",
            street="Rue du Port 3",
            zip="69002",
            city="Lyon",
            country_id=cls.env.ref("base.fr").id,
        )

    @contextmanager
    def _spy_wkhtmltopdf(self):
        """Record the HTML bodies given to wkhtmltopdf, one list per call."""
        calls = []
        original = IrActionsReport._run_wkhtmltopdf

        def spy(report, bodies, *args, **kwargs):
            calls.append(list(bodies))
            return original(report, bodies, *args, **kwargs)

        with patch.object(IrActionsReport, "_run_wkhtmltopdf", spy):
            yield calls

    def _pdf(self, report, partners, user=None):
        Report = self.env["ir.actions.report"].with_user(user or self.collector)
        # Inside tests Odoo turns wkhtmltopdf's refusal of several documents (unpatched Qt)
        # into a skip: here it is a failure.
        try:
            with freeze_time(RUN_DATE):
                content, report_type = Report.with_context(
                    force_report_rendering=True
                )._render_qweb_pdf(report, partners.ids)
        except unittest.SkipTest as error:
            self.fail(f"the letters were not rendered: {error}")
        self.assertEqual(report_type, "pdf")
        if os.environ.get("DUNNING_LETTER_PDF_DIR"):  # to look at them (README screenshots)
            path = os.path.join(os.environ["DUNNING_LETTER_PDF_DIR"], f"{self._testMethodName}.pdf")
            with open(path, "wb") as file:
                file.write(content)
        return content

    def _pages(self, content):
        """The text of each page, spaces normalised."""
        reader = PdfFileReader(io.BytesIO(content), strict=False, overwriteWarnings=False)
        return [" ".join(page.extract_text().split()) for page in reader.pages]

    def _amount(self, amount, currency=None):
        text = format_amount(self.env, amount, currency or self.company.currency_id)
        return " ".join(text.replace("\xa0", " ").split())

    def _old_history(self):
        """An invoice of last year, reminded in December and paid long ago: its reminders
        are not the history of this year's invoices."""
        old = self._invoice_on(
            self.customer, date(2025, 11, 1), date(2025, 12, 1), 400, ref="PO-OLD"
        )
        for day in (date(2025, 12, 12), date(2025, 12, 20)):
            with freeze_time(day):
                self._run(run_date=day)
        old_events = self._events(old).filtered(lambda e: e.event_type in ("email", "letter"))
        self.assertTrue(old_events, "the old invoice was reminded")
        self._pay(old, 400)
        return old_events

    # Finding: "Print Letters for two customers fails: 'Tried to convert multiple documents
    # in wkhtmltopdf using unpatched QT'"; "A single letter has no letterhead and no bank
    # details, and the customer block is the name alone, with no postal address";
    # "A formal notice for INV/2026/00049 (invoiced 09/23/2026) says 'We reminded you of
    # these invoices on 12/12/2025, 12/20/2025, ...'"; "A demand letter demands an invoice
    # under open dispute".
    def test_two_formal_notices_in_one_call(self):
        old_events = self._old_history()
        current = self._invoice_on(
            self.customer, date(2026, 1, 10), date(2026, 2, 9), 1234.5, ref="PO-NEW"
        )
        disputed = self._invoice(self.customer, 25, 777, ref="PO-DISPUTED")
        reminded = date(2026, 2, 12)
        with freeze_time(reminded):
            self._run(run_date=reminded)
        self._dispute(disputed)
        other_invoice = self._invoice(self.other, 20, 500, ref="PO-BOLT")
        self._run()
        with self._spy_wkhtmltopdf() as calls:
            content = self._pdf("dunning_b2b.report_formal_notice", self.customer | self.other)
        self.assertEqual(len(calls), 2, "one wkhtmltopdf call per customer")
        pages = self._pages(content)
        self.assertGreaterEqual(len(pages), 2, "a page per customer at least")
        text = " ".join(pages)
        first = next(i for i, page in enumerate(pages) if "Acme Trading" in page)
        second = next(i for i, page in enumerate(pages) if "Bolt Industries" in page)
        self.assertNotEqual(first, second, "each customer's letter starts on a new page")
        self.assertNotIn("Rue du Port", pages[first])
        # The customers' postal addresses, for the envelope's window.
        for line in ("12 Harbour Road", "Building C", "94105 San Francisco", "California"):
            self.assertIn(line, pages[first])
        self.assertIn("United States", pages[first])
        for line in ("Rue du Port 3", "69002 Lyon", "France"):
            self.assertIn(line, pages[second])
        # The letterhead and footer: the company's address, VAT and registration numbers,
        # and its bank account.
        for page in (pages[first], pages[second]):
            self.assertIn("Hauptstrasse 5", page)
            self.assertIn("10115 Berlin", page)
        self.assertIn("DE123456788", text)
        self.assertIn("HRB 98765", text)
        self.assertIn("DE89 3704 0044 0532 0130 00", text)
        self.assertIn("Page 1 of", pages[first])
        # Only this year's reminders about the lines of this letter.
        self.assertIn(format_date(self.env, reminded), pages[first])
        for event in old_events:
            self.assertNotIn(format_date(self.env, event.date), text)
        # The disputed invoice is shown apart and not demanded.
        self.assertIn(current.name, text)
        self.assertIn(other_invoice.name, pages[second])
        demanded, under_review = text.split("Under review: not demanded", 1)
        self.assertNotIn(disputed.name, demanded)
        self.assertIn(disputed.name, under_review)
        self.assertIn(f"Total due {self._amount(1234.5)}", demanded)

    # Finding: "The PDF attached to an email during the daily run has no styling (rendered
    # while no web server was up: 29 'network error' warnings in the demo's install log)".
    def test_letter_rendered_without_web_server(self):
        self._invoice(self.customer, 50, 900)
        self.escalation.attach_letter = True
        self._run()
        message = self._messages().filtered(lambda m: m.level_id == self.escalation)
        self.assertTrue(message)
        with self._spy_wkhtmltopdf() as calls, freeze_time(RUN_DATE):
            ((name, content),) = message.with_context(
                force_report_rendering=True
            )._get_letter_attachments()
        self.assertTrue(name.endswith(".pdf"))
        self.assertTrue(content.startswith(b"%PDF"))
        (body,) = calls[0]
        self.assertIn("<style", body, "styles embedded in the page")
        self.assertFalse(
            re.search(r"<link|<base|/web/assets|<script", body),
            "nothing to load from the web server",
        )
        self.assertIn("Demand for payment", " ".join(self._pages(content)))

    # Finding: "A demand letter ... says nothing of the open promise".
    def test_letter_states_promise_credits_and_dated_deadline(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.other.lang = "fr_FR"
        move = self._invoice(self.other, 50, 900)
        eur = self.setup_other_currency("EUR")
        self._invoice(self.other, 50, 250, currency=eur)
        self._run()
        self._promise(move, 300, 5)
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.other.id,
                "invoice_date": RUN_DATE - timedelta(days=3),
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Return", "quantity": 1, "price_unit": 100,
                         "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )  # fmt: skip
        refund.action_post()
        with freeze_time(RUN_DATE):
            values = self.env["report.dunning_b2b.report_demand_letter"]._get_report_values(
                self.other.ids
            )["letters"][self.other.id]
        (promise,) = values["promises"]
        self.assertEqual((promise["date"], promise["amount"]), (RUN_DATE + timedelta(days=5), 300))
        # Totals per currency; the credit nets only the amount in its currency.
        totals = {total["currency"]: total["net"] for total in values["totals"]}
        self.assertEqual(totals, {self.company.currency_id: 800, eur: 250})
        text = " ".join(self._pages(self._pdf("dunning_b2b.report_demand_letter", self.other)))
        self.assertIn(refund.name, text)
        deadline = format_date(self.env, values["deadline"], lang_code="fr_FR")
        self.assertIn(deadline, text)
        self.assertIn(format_date(self.env, promise["date"], lang_code="fr_FR"), text)

    # Finding: "the customer block is the name alone, with no postal address: it cannot go
    # in an envelope".
    def test_address_in_the_envelope_window(self):
        """DIN 5008 form B: the address field starts 45 mm from the top and 20 mm from the
        left edge, 85 x 45 mm, its first 17.7 mm for the return address; the customer's name
        opens the address, inside the window of a C5/C6/DL envelope."""
        self._invoice(self.customer, 20, 700)
        self._run()
        content = self._pdf("dunning_b2b.report_formal_notice", self.customer)
        # Positions as poppler reads them (poppler-utils: scripts/system_deps.sh).
        self.assertTrue(shutil.which("pdftotext"), "pdftotext (poppler-utils) is installed")
        bbox = subprocess.run(
            ["pdftotext", "-bbox", "-f", "1", "-l", "1", "-", "-"],
            input=content,
            capture_output=True,
            check=True,
        ).stdout.decode()
        found = [
            (float(x) / MM, float(y) / MM)
            for x, y in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>Acme<', bbox)
        ]
        self.assertTrue(found, "the customer's name is on the first page")
        left, top = found[0]
        self.assertTrue(24 <= left <= 30, f"{left:.1f} mm from the left edge")
        self.assertTrue(45 + 17.7 <= top <= 90, f"{top:.1f} mm from the top edge")
