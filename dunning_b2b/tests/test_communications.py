from datetime import timedelta

from odoo.tests import freeze_time, tagged
from odoo.tools import format_amount as odoo_format_amount
from odoo.tools import mute_logger

from ..tools import amount_formatter
from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestCommunications(DunningCommon):
    """Grouped emails, tasks, chatter and the audit trail."""

    def test_one_grouped_email_lists_every_invoice(self):
        first = self._invoice(self.customer, 20, 1234.5, ref="PO-A17")
        second = self._invoice(self.customer, 30, 800, ref="PO-B22")
        self.formal.automatic = True  # send without review for this test
        self._run()
        message = self._messages()
        self.assertEqual(len(message), 1)
        self.assertEqual(message.move_ids, first | second)
        self.assertEqual(message.state, "queued")
        self.assertEqual(message.recipient_ids, self.customer)

        mail_message = message.mail_message_id
        self.assertEqual(mail_message.model, "res.partner")
        self.assertEqual(mail_message.res_id, self.customer.id)
        body = str(mail_message.body)
        for move, amount in ((first, "1,234.50"), (second, "800.00")):
            self.assertIn(move.name, body)
            self.assertIn(move.ref, body)
            self.assertIn(amount, body)
        self.assertIn("2,034.50", body, "the total is stated")
        self.assertIn(first.payment_reference, body)
        self.assertIn(self.collector.name, body, "the collector is the contact")

        mails = self.env["mail.mail"].search([("mail_message_id", "=", mail_message.id)])
        mail = mails.filtered(lambda m: self.customer in m.recipient_ids)
        self.assertEqual(mail.state, "outgoing", "queued, sent by the mail queue after commit")

    def test_events_and_chatter_on_invoice_and_customer(self):
        move = self._invoice(self.customer, 3, 400)
        self._run()
        self.assertEqual(set(move.dunning_event_ids.mapped("event_type")), {"stage", "email"})
        email_event = self._events(move, "email")
        self.assertEqual(email_event.message_id, self._messages())
        self.assertEqual(email_event.level_id, self.follow_up)
        self.assertEqual(email_event.days_overdue, 3)
        self.assertEqual(email_event.amount_residual, 400)
        logs = move.message_ids.mapped("body")
        self.assertTrue(any(self.follow_up.name in str(body) for body in logs))
        self.assertTrue(any("ap@acme.test" in str(body) for body in logs))
        self.assertIn(self._messages().mail_message_id, self.customer.message_ids)

    def test_stage_reviewed_by_a_person(self):
        move = self._invoice(self.customer, 20, 700)
        stats = self._run()
        message = self._messages()
        self.assertEqual(message.state, "draft")
        self.assertFalse(message.mail_message_id)
        self.assertEqual(stats["drafts"], 1)
        self.assertTrue(self._events(move, "email_draft"))
        review = message.activity_ids
        self.assertEqual(review.user_id, self.collector)
        self.assertIn(move.name, str(review.note))

        message.with_user(self.collector).action_send()
        self.assertEqual(message.state, "queued")
        self.assertFalse(message.activity_ids, "the review task is done once sent")
        self.assertTrue(message.mail_message_id)
        self.assertEqual(self._events(move, "email").user_id, self.collector)

    def test_a_reviewed_message_tells_the_figures_of_the_day_it_is_sent(self):
        """Prepared on day 20 and sent the next day, the email says 21 days overdue (it said
        the figures of the day it was prepared)."""
        self._invoice(self.customer, 20, 700)
        self._run()
        message = self._messages()
        self.assertEqual(message.max_days_overdue, 20)
        with freeze_time(self.run_date + timedelta(days=1)):
            message.with_user(self.collector).action_send()
        self.assertEqual(message.date, self.run_date + timedelta(days=1))
        self.assertEqual(message.max_days_overdue, 21)
        self.assertIn(">21<", message.mail_message_id.body.replace(" ", ""))

    def test_stage_task_goes_to_the_collector(self):
        move = self._invoice(self.customer, 25, 5000)
        other = self._invoice(self.customer, 20, 700)
        self._run()
        task = self.customer.activity_ids.filtered(lambda a: a.summary == self.formal.name)
        self.assertEqual(task.user_id, self.collector)
        self.assertIn(move.name, str(task.note))
        self.assertIn(other.name, str(task.note))
        # One event for the task, on the customer, naming its documents; each invoice's
        # own history has its stage.
        events = self.env["dunning.event"].search(
            [("partner_id", "=", self.customer.id), ("event_type", "=", "activity")]
        )
        self.assertEqual(
            (len(events), events.move_id, events.level_id), (1, move.browse(), self.formal)
        )
        self.assertIn(f"{move.name}, {other.name}", events.note)
        for invoice in move | other:
            self.assertFalse(self._events(invoice, "activity"))
            self.assertTrue(self._events(invoice, "stage"))
        # A task of many documents names the first ones and counts the rest.
        self.assertEqual(
            self.env["dunning.stage.entry"]._name_documents(move | other, limit=1),
            f"{move.name} and 1 more",
        )
        # Written in bulk, the task is what mail.activity.create would have made.
        self.assertEqual(task.res_name, self.customer.display_name)
        self.assertEqual(task.res_model, "res.partner")
        self.assertEqual(
            task.activity_type_id, self.formal.activity_type_id or task.activity_type_id
        )
        self.assertFalse(task.automated, "as the ORM created them: not an activity_schedule one")
        self.assertEqual(task.user_tz, self.collector.tz)
        self.assertEqual(task.date_deadline, self.run_date + timedelta(self.formal.activity_delay))
        self.assertIn(self.collector.partner_id, self.customer.message_partner_ids)
        self.assertIn(task, self.customer.with_user(self.collector).activity_ids)
        task.with_user(self.collector).action_feedback(feedback="Called.")
        self.assertFalse(task.exists() and task.active)

    def test_customer_collector_overrides_the_company_default(self):
        self.customer.with_company(self.company).dunning_collector_id = self.manager
        self._invoice(self.customer, 20, 5000)
        self._run()
        self.assertEqual(self.customer.activity_ids.user_id, self.manager)

    def test_customer_without_email_gets_a_task(self):
        silent = self._customer("Silent Ltd")
        move = self._invoice(silent, 3, 90)
        stats = self._run()
        self.assertEqual(stats["no_email"], 1)
        self.assertFalse(self._messages(silent))
        (event,) = self._events(move, "no_email")
        self.assertIn("No email address", event.note)
        task = silent.activity_ids
        self.assertEqual(len(task), 1)
        self.assertEqual(task.user_id, self.collector)
        self.assertIn("no email address", task.summary)

    def test_billing_contacts_receive_the_email(self):
        billing = self.env["res.partner"].create(
            {"name": "Accounts payable", "type": "invoice", "email": "billing@acme.test",
             "parent_id": self.customer.id}
        )  # fmt: skip
        self._invoice(self.customer, 3, 90)
        self._run()
        self.assertEqual(self._messages().recipient_ids, self.customer | billing)

    def test_email_in_the_customer_language(self):
        """The shipped French translation is used for a French-speaking customer."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"].search([("name", "=", "dunning_b2b")])._update_translations(
            ["fr_FR"]
        )
        self.customer.lang = "fr_FR"
        english = self._customer("English Ltd", "ap@english.test", lang="en_US")
        self._invoice(self.customer, 3, 1234.5)
        self._invoice(english, 3, 90)
        self._run()
        french_mail = self._messages().mail_message_id
        self.assertEqual(french_mail.subject, f"{self.company.name} : paiement en retard")
        body = str(french_mail.body)
        self.assertIn("Jours de retard", body)
        self.assertIn("Selon nos écritures", body)
        self.assertIn("1\xa0234,50", body.replace("&nbsp;", "\xa0"))
        english_mail = self._messages(english).mail_message_id
        self.assertEqual(english_mail.subject, f"{self.company.name}: payment overdue")
        self.assertIn("Days overdue", str(english_mail.body))

    def test_multi_currency_totals(self):
        eur = self.setup_other_currency("EUR")
        self._invoice(self.customer, 3, 100)
        self._invoice(self.customer, 4, 250, currency=eur)
        self._run()
        message = self._messages()
        self.assertEqual(len(message.move_ids.currency_id), 2)
        self.assertIn(eur.format(250), message.amount_text)
        self.assertIn(self.company.currency_id.format(100), message.amount_text)

    def test_bulk_amount_format_matches_odoo(self):
        """The engine's cached formatter writes amounts exactly as format_amount does."""
        self.env["res.lang"]._activate_lang("fr_FR")
        currencies = [
            self.company.currency_id,
            self.setup_other_currency("EUR"),
            self.env.ref("base.JPY"),
        ]
        amounts = [0.0, 0.005, 7.5, 1234567.891, -9876.5, -0.4]
        for lang in ("en_US", "fr_FR"):
            env = self.env(context=dict(self.env.context, lang=lang))
            format_amount = amount_formatter(env)
            for currency in currencies:
                for amount in amounts:
                    self.assertEqual(
                        format_amount(amount, currency),
                        odoo_format_amount(env, amount, currency),
                        f"{amount} {currency.name} in {lang}",
                    )

    def test_email_reply_to_and_body_as_odoo_would_write_them(self):
        self._invoice(self.customer, 3, 400)
        self._run()
        mail_message = self._messages().mail_message_id
        # Answers go to the collector (issue 12); this company has no catchall to add
        # (test_how_to_pay: with one, issue 13).
        self.assertFalse(self.company.catchall_email)
        self.assertEqual(mail_message.reply_to, self.collector.email_formatted)
        mail = self.env["mail.mail"].search([("mail_message_id", "=", mail_message.id)])
        self.assertEqual(str(mail_message.body), mail.body_html, "the chatter shows the email")

    def test_email_reply_to_without_a_collector_address_as_odoo_would_write_it(self):
        """A collector without an email address: the chatter's default address."""
        self.collector.email = False
        self.company.email = "billing@company.test"
        self._invoice(self.customer, 3, 400)
        self._run()
        mail_message = self._messages().mail_message_id
        expected = self.customer._notify_get_reply_to(
            default=mail_message.email_from, author_id=mail_message.author_id.id
        )[self.customer.id]
        self.assertTrue(mail_message.reply_to)
        self.assertEqual(mail_message.reply_to, expected)

    def test_chatter_copy_of_a_template_with_unsafe_markup_is_sanitized(self):
        """The chatter keeps its own sanitizing rules: what a template editor may put in an
        email (page styles, fixed overlays) never reaches the customer's chatter."""
        template = self.follow_up.mail_template_id.copy()
        template.body_html = (
            '<style>p { display: none; }</style><div style="position: fixed; top: 0">'
            "Pay to another account</div><p>Hello {{ object.partner_id.name }}</p>"
        )
        self.follow_up.mail_template_id = template
        other = self._customer("Plain Ltd", "ap@plain.test")
        self.formal.automatic = True
        self._invoice(self.customer, 3, 400)
        self._invoice(other, 20, 500)  # the shipped formal notice: no markup to strip
        self._run()
        chatter = str(self._messages().mail_message_id.body)
        self.assertNotIn("<style", chatter)
        self.assertNotIn("position", chatter)
        self.assertIn("Pay to another account", chatter)
        mail = self.env["mail.mail"].search(
            [("mail_message_id", "=", self._messages().mail_message_id.id)]
        )
        self.assertIn("<style", mail.body_html, "the email itself is the template's")
        shipped = self._messages(other)
        shipped_mail = self.env["mail.mail"].search(
            [("mail_message_id", "=", shipped.mail_message_id.id)]
        )
        self.assertEqual(
            str(shipped.mail_message_id.body), shipped_mail.body_html, "not sanitized again"
        )

    def test_salesperson_notified_at_formal_notice(self):
        move = self._invoice(self.customer, 20, 700)
        move.invoice_user_id = self.invoicing_user
        self._run()
        (note,) = self.env["mail.message"].search(
            [("partner_ids", "in", self.invoicing_user.partner_id.ids),
             ("message_type", "=", "user_notification")]
        )  # fmt: skip
        self.assertIn(self.customer.name, str(note.body))
        self.assertIn(move.name, str(note.body))
        self.assertIn(self.formal.name, str(note.body))

    @mute_logger("odoo.addons.dunning_b2b.models.dunning_message")
    def test_template_failure_for_one_customer_does_not_stop_the_run(self):
        template = self.follow_up.mail_template_id
        template.body_html = (
            "<p><t t-out=\"1 / 0 if object.partner_id.ref == 'BROKEN' else 'ok'\"/></p>"
        )
        broken = self._customer("Broken Data Inc", "ap@broken.test", ref="BROKEN")
        broken_move = self._invoice(broken, 3, 50)
        good_move = self._invoice(self.customer, 3, 60)
        stats = self._run()
        self.assertEqual(stats["emails"], 1)
        self.assertEqual(stats["errors"], 1)
        self.assertEqual(self._messages().state, "queued")
        self.assertEqual(self._messages(broken).state, "draft")
        self.assertTrue(self._events(broken_move, "error"))
        self.assertTrue(broken.activity_ids)
        self.assertEqual(broken_move.dunning_level_id, self.follow_up)
        self.assertTrue(self._events(good_move, "email"))
