import base64
import email
import io
import re

from PIL import Image

from odoo.tests import freeze_time, tagged

from .common import RUN_DATE, DunningCommon


def _pixels(png):
    """An image's pixels in black and white."""
    image = Image.open(io.BytesIO(png)).convert("L")
    return image.size, image.point(lambda value: 255 if value > 127 else 0).tobytes()


def _difference(png, data_uri):
    """The share of pixels that differ between two images: two renderings of one code
    differ by their time stamp and by a shade here and there, two codes by a third of their
    pixels."""
    (size, mine), (other_size, theirs) = (
        _pixels(png),
        _pixels(base64.b64decode(data_uri.split(",", 1)[1])),
    )
    assert size == other_size, (size, other_size)
    return sum(a != b for a, b in zip(mine, theirs, strict=True)) / len(mine)


IBAN = "BE15 0015 5962 7230"
BIC = "GEBABEBB"


@tagged("post_install", "-at_install")
class TestHowToPay(DunningCommon):
    """Issue 12: what an email (and a letter, a statement) says about paying, who the
    customer answers, and who writes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR")
        cls.company.partner_id.write(
            {
                "street": "12 Rue de la Paix",
                "zip": "75002",
                "city": "Paris",
                "country_id": cls.env.ref("base.fr").id,
            }
        )
        cls.company.vat = False
        # As in a real database: the company's address and a catchall for answers.
        cls.company.email = "info@company.test"
        cls.company.alias_domain_id = cls.env["mail.alias.domain"].create(
            {"name": "company.test", "catchall_alias": "catchall"}
        )
        bank = cls.env["res.bank"].create({"name": "BNP Paribas Fortis", "bic": BIC})
        cls.bank_account = cls.env["res.partner.bank"].create(
            {
                "acc_number": IBAN.replace(" ", ""),
                "partner_id": cls.company.partner_id.id,
                "bank_id": bank.id,
                "currency_id": cls.eur.id,
            }
        )

    def _eur_invoice(self, days_overdue, amount, reference):
        move = self._invoice(self.customer, days_overdue, amount, currency=self.eur)
        move.payment_reference = reference
        return move

    def _send_formal_notice(self):
        """Two EUR invoices at the formal notice, reviewed and sent by the collector."""
        moves = self._eur_invoice(20, 1000.0, "RF18539007547034") | self._eur_invoice(
            25, 250.0, "INV-REF-2"
        )
        self._run()
        message = self._messages()
        self.assertEqual((message.level_id, message.state), (self.formal, "draft"))
        with freeze_time(RUN_DATE):
            message.with_user(self.collector).action_send()
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.mail_message_id.id)])
        self.assertEqual(len(mail), 1)
        return moves, message, mail

    def _outgoing(self, mail):
        """The email as the mail queue would hand it to the SMTP server."""
        [values] = mail._prepare_outgoing_list()
        return self.env["ir.mail_server"]._build_email__(
            email_from=values["email_from"],
            email_to=values["email_to"],
            subject=values["subject"],
            body=values["body"],
            body_alternative=values["body_alternative"],
            reply_to=values["reply_to"],
            attachments=values["attachments"],
            subtype="html",
            subtype_alternative="plain",
            headers=values["headers"],
        )

    def test_account_qr_code_sepa_is_installed_for_these_tests(self):
        """scripts/test.sh installs account_qr_code_sepa with the addons: the QR path is
        tested, not skipped."""
        module = self.env["ir.module.module"]._get("account_qr_code_sepa")
        self.assertEqual(module.state, "installed")

    # Finding: "the bank detail is a bare account number".
    def test_email_tells_iban_bic_references_and_shows_the_sepa_qr_code(self):
        moves, message, mail = self._send_formal_notice()
        body = mail.body_html
        self.assertIn(IBAN, body, "the IBAN, in groups of four")
        self.assertIn(BIC, body)
        self.assertIn(self.company.name, body, "the account holder")
        for move in moves:
            self.assertIn(move.payment_reference, body)
        self.assertIn("1,250.00", body, "the amount to transfer")
        self.assertNotIn("data-oe-", body, "no editor markup in an email")
        # The QR code: an inline image attached with its Content-ID.
        cids = re.findall(r'<img[^>]*src="cid:([^"]+)"', body)
        self.assertEqual(len(cids), 1, body)
        self.assertNotIn("data:image", body, "mail clients such as Gmail do not show data: images")
        outgoing = self._outgoing(mail)
        related = [
            part for part in outgoing.walk() if part.get_content_type() == "multipart/related"
        ]
        self.assertEqual(len(related), 1, outgoing.as_string()[:2000])
        images = [part for part in related[0].walk() if part.get_content_type() == "image/png"]
        self.assertEqual(len(images), 1)
        self.assertEqual(images[0]["Content-ID"], f"<{cids[0]}>")
        png = images[0].get_content()
        self.assertTrue(png.startswith(b"\x89PNG"))

        # The same code as Odoo's SEPA QR for this account, amount and references.
        def odoo_code(amount, references):
            return self.bank_account.build_qr_code_base64(
                amount, references, "", self.eur, self.customer, "sct_qr"
            )

        self.assertLess(_difference(png, odoo_code(1250.0, "INV-REF-2, RF18539007547034")), 0.03)
        self.assertGreater(_difference(png, odoo_code(1000.0, "RF18539007547034")), 0.1)
        # Nothing left as an ordinary attachment but the letter of the stage.
        names = [part.get_filename() for part in outgoing.walk() if part.get_filename()]
        self.assertEqual([name for name in names if name.startswith("dunning-payment-qr")], cids)
        # The chatter copy shows the code too, from the attachment.
        self.assertRegex(str(message.mail_message_id.body), r'src="/web/image/\d+\?access_token=')

    def test_no_qr_code_in_a_currency_without_one(self):
        """A USD amount on a USD account: account, references, no code."""
        self.env["res.partner.bank"].create(
            {
                "acc_number": "123456789",
                "partner_id": self.company.partner_id.id,
                "currency_id": self.company.currency_id.id,
            }
        )
        move = self._invoice(self.customer, 3, 400.0)
        self._run()
        mail = self.env["mail.mail"].search(
            [("mail_message_id", "=", self._messages().mail_message_id.id)]
        )
        self.assertIn("123456789", mail.body_html)
        self.assertNotIn(IBAN, mail.body_html, "the EUR account is not offered for USD")
        self.assertIn(move.payment_reference, mail.body_html)
        self.assertNotIn("<img", mail.body_html)

    # Finding: "Reply-To is the company's generic address, not the collector's".
    def test_reply_to_is_the_collector_or_the_collections_address(self):
        _moves, message, mail = self._send_formal_notice()
        # The collector first; the catchall after it only files the answer in the chatter
        # (issue 13), it does not take it from the collector.
        addresses = [
            address for __, address in email.utils.getaddresses([self._outgoing(mail)["Reply-To"]])
        ]
        self.assertEqual(addresses, [self.collector.email, self.company.catchall_email])
        self.assertTrue(message.mail_message_id.reply_to.startswith(self.collector.email_formatted))
        # A collections mailbox set in Settings takes the answers instead.
        settings = self.env["res.config.settings"].create({})
        settings.dunning_reply_to = "collections@company.test"
        settings.execute()
        self.assertEqual(self.company.dunning_reply_to, "collections@company.test")
        other = self._customer("Other SA", "ap@other.test")
        self._invoice(other, 3, 90.0)
        self._run()
        self.assertEqual(self._messages(other).mail_message_id.reply_to, "collections@company.test")

    # Finding: "no company address".
    def test_company_address_closes_the_email(self):
        _moves, _message, mail = self._send_formal_notice()
        body = mail.body_html
        for part in ("12 Rue de la Paix", "75002", "Paris", "France"):
            self.assertIn(part, body)
        self.assertGreater(body.index("12 Rue de la Paix"), body.index("Kind regards"))

    # Finding: the deadline is "within 10 days", without a date.
    def test_deadline_is_a_date_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"].search([("name", "=", "dunning_b2b")])._update_translations(
            ["fr_FR"]
        )
        self.customer.lang = "fr_FR"
        _moves, message, mail = self._send_formal_notice()
        self.assertIn("12 mars 2026", mail.body_html, "sent on 2 March, 10 days to pay")
        self.assertNotIn("10 days", mail.body_html)
        self.assertNotIn("10 jours", mail.body_html)
        self.assertIn("Nous vous demandons de régler le total dû au plus tard le", mail.body_html)
        self.assertEqual(str(message.deadline_date), "2026-03-12")
        # The stage's own deadline: the escalation gives 7 days.
        self.assertEqual(self.escalation.deadline_days, 7)
        self.formal.deadline_days = 5
        message.invalidate_recordset(["deadline_date", "deadline_text"])
        self.assertEqual(message.deadline_text, "7 mars 2026")

    def test_letter_how_to_pay_template(self):
        """The block letters and statements call (t-call dunning_b2b.letter_how_to_pay with
        company, partner, lines, currency): from move lines or from rows."""
        moves = self._eur_invoice(20, 1000.0, "RF18539007547034") | self._eur_invoice(
            25, 250.0, "INV-REF-2"
        )
        lines = moves.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        rows = self.env["dunning.line.render"]._get_line_rows(lines, RUN_DATE)
        for given in (lines, rows):
            html = str(
                self.env["ir.qweb"]._render(
                    "dunning_b2b.letter_how_to_pay",
                    {
                        "company": self.company,
                        "partner": self.customer,
                        "lines": given,
                        "currency": self.eur,
                    },
                )
            )
            for text in (IBAN, BIC, "RF18539007547034", "INV-REF-2", "1,250.00"):
                self.assertIn(text, html)
            self.assertIn('src="data:image/png;base64,', html, "a PDF shows the code as is")

    def test_statement_tells_how_to_pay(self):
        """How to pay, everywhere: the customer statement too (it had no bank details)."""
        self._eur_invoice(20, 1000.0, "RF18539007547034")
        html = str(
            self.env["ir.actions.report"]
            .with_context(dunning_letter_date=RUN_DATE)
            ._render_qweb_html("dunning_b2b.report_customer_statement", self.customer.ids)[0]
        )
        for text in (IBAN, BIC, "RF18539007547034", "How to pay"):
            self.assertIn(text, html)
