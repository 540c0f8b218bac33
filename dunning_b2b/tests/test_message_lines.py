import re
from collections import defaultdict
from datetime import timedelta

from odoo import Command
from odoo.tests import freeze_time, tagged
from odoo.tools import format_amount, format_date

from .common import RUN_DATE, DunningCommon


@tagged("post_install", "-at_install")
class TestMessageLines(DunningCommon):
    """Reminders, task notes and letters list receivable lines (each instalment with its own
    due date and open amount), the open credits in the same currency and the net amount
    asked, as the customer reads them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.minimum_amount = 5.0
        cls.usd = cls.company.currency_id
        cls.half_and_half = cls.env["account.payment.term"].create(
            {
                "name": "50% at 30 days, 50% at 90 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 30}),
                    Command.create({"value": "percent", "value_amount": 50, "nb_days": 90}),
                ],
            }
        )

    # ------------------------------------------------------------ helpers
    def _instalment_invoice(self, partner, amount, invoice_date):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": invoice_date,
                "invoice_payment_term_id": self.half_and_half.id,
                "ref": "PO-SPLIT",
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Machine", "quantity": 1, "price_unit": amount,
                         "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )  # fmt: skip
        move.action_post()
        return move

    def _refund(self, partner, amount, currency=None):
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "invoice_date": RUN_DATE - timedelta(days=3),
                "currency_id": (currency or self.usd).id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Return", "quantity": 1, "price_unit": amount,
                         "tax_ids": [Command.clear()]}
                    )
                ],
            }
        )  # fmt: skip
        refund.action_post()
        return refund

    def _receivable(self, moves):
        return moves.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable" and line.balance > 0
        ).sorted("date_maturity")

    def _message(self, level, lines, partner=None):
        """A message as the engine writes it (as sudo, like the scheduler)."""
        partner = partner or self.customer
        return (
            self.env["dunning.message"]
            .sudo()
            .create(
                {
                    "date": RUN_DATE,
                    "partner_id": partner.id,
                    "company_id": self.company.id,
                    "level_id": level.id,
                    "move_ids": [Command.set(lines.move_id.ids)],
                    "line_ids": [Command.set(lines.ids)],
                    "recipient_ids": [Command.set(partner.ids)],
                    "collector_id": self.collector.id,
                }
            )
            .with_user(self.collector)
        )

    def _text(self, html):
        """What the reader sees: the text without tags, spaces normalised."""
        html = str(html).replace("&nbsp;", " ").replace("\ufeff", "")
        return " ".join(re.sub(r"<[^>]+>", " ", html).split())

    def _body(self, message):
        """The email body the stage's real template writes for the message."""
        template = message.level_id.mail_template_id.with_user(self.collector)
        with freeze_time(RUN_DATE):
            body = template._render_field("body_html", message.ids, compute_lang=True)
        return self._text(body[message.id])

    def _letter(self, partner=None, report="dunning_b2b.report_formal_notice"):
        with freeze_time(RUN_DATE):
            html, _type = (
                self.env["ir.actions.report"]
                .with_user(self.collector)
                ._render_qweb_html(report, (partner or self.customer).ids)
            )
        return self._text(html.decode())

    def _amount(self, amount, currency=None, lang="en_US"):
        env = self.env(context=dict(self.env.context, lang=lang))
        return self._text(format_amount(env, amount, currency or self.usd))

    # ------------------------------------------------------------ instalments
    def test_instalment_listed_with_its_own_due_date_and_amount(self):
        move = self._instalment_invoice(self.customer, 1000, RUN_DATE - timedelta(days=60))
        first, second = self._receivable(move)
        self.assertEqual(first.date_maturity, RUN_DATE - timedelta(days=30))
        self.assertEqual(move.invoice_date_due, second.date_maturity, "the header's date")
        message = self._message(self.follow_up, first)
        body = self._body(message)
        self.assertIn(f"{move.name} instalment 1 of 2 PO-SPLIT", body)
        self.assertIn(format_date(self.env, first.date_maturity), body)
        self.assertIn(f"{format_date(self.env, first.date_maturity)} 30 {self._amount(500)}", body)
        self.assertNotIn(format_date(self.env, move.invoice_date_due), body)
        self.assertNotIn(self._amount(1000), body, "the instalment, not the invoice")
        self.assertEqual(message.amount_text, self.usd.format(500))
        self.assertEqual(message.max_days_overdue, 30)

        letter = self._letter()
        self.assertIn(f"{move.name} instalment 1 of 2 PO-SPLIT", letter)
        self.assertIn(format_date(self.env, first.date_maturity), letter)
        self.assertIn(self._amount(500), letter)
        self.assertNotIn(format_date(self.env, second.date_maturity), letter, "not yet due")
        self.assertNotIn(self._amount(1000), letter)

    def test_instalment_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"].search([("name", "=", "dunning_b2b")])._update_translations(
            ["fr_FR"]
        )
        self.customer.lang = "fr_FR"
        move = self._instalment_invoice(self.customer, 1000, RUN_DATE - timedelta(days=60))
        first = self._receivable(move)[0]
        self._refund(self.customer, 200)
        body = self._body(self._message(self.follow_up, first))
        self.assertIn("échéance 1 sur 2", body)
        self.assertIn("Vos crédits ouverts", body)
        self.assertIn(f"Montant net dû {self._amount(300, lang='fr_FR')}", body)

    # ------------------------------------------------------------ credits
    def test_open_credit_note_partly_covering_is_listed_and_net_asked(self):
        invoice = self._invoice(self.customer, 20, 1000)
        refund = self._refund(self.customer, 300)
        message = self._message(self.formal, self._receivable(invoice))
        body = self._body(message)
        self.assertIn(invoice.name, body)
        self.assertIn(refund.name, body, "the open credit is listed")
        self.assertIn(f"Total of the items above {self._amount(1000)}", body)
        self.assertIn(f"Less your open credits {self._amount(-300)}", body)
        self.assertIn(f"Net amount due {self._amount(700)}", body)
        self.assertEqual(message.amount_text, self.usd.format(700))

        letter = self._letter()
        self.assertIn(refund.name, letter)
        self.assertIn(f"Net amount due {self._amount(700)}", letter)

    def test_eur_credit_is_not_netted_with_a_usd_invoice(self):
        eur = self.setup_other_currency("EUR")
        usd_invoice = self._invoice(self.customer, 20, 1000)
        eur_invoice = self._invoice(self.customer, 20, 400, currency=eur)
        eur_credit = self._refund(self.customer, 150, currency=eur)
        message = self._message(self.formal, self._receivable(usd_invoice | eur_invoice))
        body = self._body(message)
        self.assertIn(eur_credit.name, body)
        self.assertIn(f"Total due {self._amount(1000)}", body, "USD: nothing netted")
        self.assertIn(f"Net amount due {self._amount(250, eur)}", body)
        self.assertEqual(message.amount_text, f"{eur.format(250)} + {self.usd.format(1000)}")
        letter = self._letter()
        self.assertIn(f"Total due {self._amount(1000)}", letter)
        self.assertIn(f"Net amount due {self._amount(250, eur)}", letter)

        # A customer owing only USD is not shown its EUR credit: it nets nothing.
        other = self._customer("Dollar Only", "ap@dollar.test")
        usd_only = self._invoice(other, 20, 600)
        eur_only_credit = self._refund(other, 100, currency=eur)
        message = self._message(self.formal, self._receivable(usd_only), partner=other)
        body = self._body(message)
        self.assertNotIn(eur_only_credit.name, body)
        self.assertIn(f"Total due {self._amount(600)}", body)
        self.assertEqual(message.amount_text, self.usd.format(600))

    # ------------------------------------------------------------ tolerance
    def test_a_few_cents_left_after_a_payment_are_not_listed(self):
        nearly_paid = self._invoice(self.customer, 20, 500)
        self._pay(nearly_paid, 499.98)
        other = self._invoice(self.customer, 20, 300)
        message = self._message(self.formal, self._receivable(nearly_paid | other))
        body = self._body(message)
        self.assertNotIn(nearly_paid.name, body)
        self.assertNotIn(self._amount(0.02), body)
        self.assertIn(f"Total due {self._amount(300)}", body)
        self.assertEqual(message.amount_text, self.usd.format(300))
        self.assertEqual(message.invoice_count, 1)
        letter = self._letter()
        self.assertNotIn(nearly_paid.name, letter)
        self.assertIn(other.name, letter)

    # ------------------------------------------------------------ through the engine
    def test_daily_run_emails_the_overdue_instalment(self):
        move = self._instalment_invoice(self.customer, 1000, RUN_DATE - timedelta(days=33))
        first, second = self._receivable(move)
        self._run()
        message = self._messages()
        self.assertEqual(message.line_ids, first)
        self.assertEqual(message.level_id, self.follow_up)
        body = self._text(message.mail_message_id.body)
        self.assertIn(f"{move.name} instalment 1 of 2 PO-SPLIT", body)
        self.assertIn(f"{format_date(self.env, first.date_maturity)} 3 {self._amount(500)}", body)
        self.assertNotIn(format_date(self.env, second.date_maturity), body)
        self.assertIn(f"Total due {self._amount(500)}", body)
        (event,) = self._events(move, "email")
        self.assertEqual((event.move_line_id, event.amount_residual), (first, 500))

    def test_daily_run_asks_the_net_amount_when_credits_cover_part(self):
        invoice = self._invoice(self.customer, 3, 1000)
        refund = self._refund(self.customer, 300)
        self._run()
        body = self._text(self._messages().mail_message_id.body)
        self.assertIn(refund.name, body)
        self.assertIn(f"Less your open credits {self._amount(-300)}", body)
        self.assertIn(f"Net amount due {self._amount(700)}", body)
        self.assertIn(invoice.name, body)

    # ------------------------------------------------------------ phone tasks
    def test_phone_task_lists_the_open_lines_of_the_unanswered_email(self):
        move = self._instalment_invoice(self.customer, 1000, RUN_DATE - timedelta(days=60))
        first = self._receivable(move)[0]
        paid = self._invoice(self.customer, 10, 300)
        message = self._message(self.follow_up, first | self._receivable(paid))
        message.sudo().state = "queued"
        # The engine's state of the lines: both at the stage of the email.
        self.env["dunning.line"].sudo().create(
            [
                {
                    "move_line_id": line.id,
                    "move_id": line.move_id.id,
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "currency_id": line.currency_id.id,
                    "level_id": self.follow_up.id,
                    "level_date": RUN_DATE,
                    "due_date": line.date_maturity,
                }
                for line in first | self._receivable(paid)
            ]
        )
        self._pay(paid, 300)
        call_day = RUN_DATE + timedelta(days=self.follow_up.call_delay)
        stats = defaultdict(int)
        self.env["dunning.message"].sudo()._create_call_tasks(
            self.company, call_day, self.env.user, stats
        )
        self.assertEqual(stats["call_tasks"], 1)
        task = self.customer.activity_ids.filtered(
            lambda a: (
                a.activity_type_id == self.env.ref("dunning_b2b.mail_activity_type_dunning_call")
            )
        )
        note = self._text(task.note)
        self.assertIn(
            f"{move.name}, instalment 1 of 2: {self._amount(500)} due "
            f"{format_date(self.env, first.date_maturity)}",
            note,
        )
        self.assertNotIn(paid.name, note, "paid since the email: nothing to phone about")
        self.assertNotIn(self._amount(1000), note)
        (event,) = self.env["dunning.event"].search([("event_type", "=", "call_task")])
        self.assertEqual((event.move_line_id, event.amount_residual), (first, 500))

    # ------------------------------------------------------------ letters
    def test_formal_notice_history_is_about_its_own_lines(self):
        old = self._invoice_on(
            self.customer, RUN_DATE - timedelta(days=200), RUN_DATE - timedelta(days=170), 800
        )
        invoice = self._invoice(self.customer, 20, 700)
        self._pay(old, 800)
        line = self._receivable(invoice)
        base = {"partner_id": self.customer.id, "company_id": self.company.id,
                "event_type": "email", "note": "Sent"}  # fmt: skip
        reminded = RUN_DATE - timedelta(days=10)
        self.env["dunning.event"].sudo().create(
            [
                dict(base, move_id=old.id, date=RUN_DATE - timedelta(days=150)),
                dict(base, move_id=old.id, date=RUN_DATE - timedelta(days=120)),
                dict(base, move_id=invoice.id, move_line_id=line.id, date=reminded),
            ]
        )
        letter = self._letter()
        self.assertIn(
            f"We reminded you of these invoices on {format_date(self.env, reminded)} .", letter
        )
        self.assertNotIn(format_date(self.env, RUN_DATE - timedelta(days=150)), letter)
        self.assertNotIn(format_date(self.env, RUN_DATE - timedelta(days=120)), letter)

    def test_statement_lists_each_instalment(self):
        move = self._instalment_invoice(self.customer, 1000, RUN_DATE - timedelta(days=60))
        first, second = self._receivable(move)
        statement = self._letter(report="dunning_b2b.report_customer_statement")
        self.assertIn(f"{move.name} instalment 1 of 2", statement)
        self.assertIn(f"{move.name} instalment 2 of 2", statement)
        self.assertIn(format_date(self.env, first.date_maturity), statement)
        self.assertIn(format_date(self.env, second.date_maturity), statement)
        self.assertIn(f"Balance due {self._amount(1000)}", statement)
