from odoo.tests import tagged

from .conversations_common import ConversationCommon


@tagged("post_install", "-at_install")
class TestEmailCommitments(ConversationCommon):
    """What an email says besides the lines it asks for (issue 12): "a demand letter demands
    an invoice under open dispute and says nothing of the open promise" — emails too said
    nothing of either."""

    def test_email_lists_disputed_invoices_apart_and_states_the_open_promise(self):
        asked = self._invoice(self.customer, 5, 1000)
        disputed = self._invoice(self.customer, 5, 300)
        promised = self._invoice(self.customer, 5, 500)
        self._run()  # the early follow-up, for all three
        self._dispute(disputed)
        self._promise(promised, 500, 20)
        self._run(run_date=self._day(12))  # the formal notice: the other two are paused
        message = self._messages()[-1]
        self.assertEqual(message.move_ids, asked)
        body = str(message.invoice_table_html)
        under_review = body.index("Under review: not demanded.")
        self.assertIn(disputed.name, body[under_review:])
        self.assertNotIn(disputed.name, body[:under_review], "not among the invoices asked")
        promise_at = body.index("We have noted your promise to pay")
        self.assertIn(promised.name, body[promise_at:])
        self.assertIn("03/22/2026", body[promise_at:], "the promised date")
        self.assertIn("1,000.00", body)
        self.assertNotIn("1,800.00", body, "the total asks for the asked invoice alone")

    def test_no_commitment_no_paragraph(self):
        self._invoice(self.customer, 5, 1000)
        self._run()
        mail = self.env["mail.mail"].search(
            [("mail_message_id", "=", self._messages().mail_message_id.id)]
        )
        self.assertNotIn("Under review", str(mail.body_html))
        self.assertNotIn("promise to pay", str(mail.body_html))

    def test_a_line_disputed_after_the_message_was_prepared_is_not_asked(self):
        """A message waiting for review listed an invoice that was disputed since: it asked
        for it in the total and said, in the same email, that it was not asked."""
        first = self._invoice(self.customer, 20, 1000)
        second = self._invoice(self.customer, 20, 300)
        self._run()
        message = self._messages()[-1]
        self.assertEqual(message.move_ids, first | second)
        self._dispute(second)
        message.invalidate_recordset()
        body = str(message.invoice_table_html)
        under_review = body.index("Under review: not demanded.")
        self.assertNotIn(second.name, body[:under_review], "not among the invoices asked")
        self.assertIn(second.name, body[under_review:])
        self.assertIn("1,000.00", body[:under_review])
        self.assertNotIn("1,300.00", body, "the total leaves the disputed invoice out")

    def test_a_promise_part_paid_is_stated_at_what_is_left(self):
        """The promise was stated at its first amount after a part payment ("promise to pay
        1,000" when 400 were left)."""
        asked = self._invoice(self.customer, 5, 1000)
        promised = self._invoice(self.customer, 5, 1000)
        self._run()
        self._promise(promised, 1000, 20)
        self._pay(promised, 600)
        self._run(run_date=self._day(12))
        message = self._messages()[-1]
        self.assertEqual(message.move_ids, asked)
        body = str(message.invoice_table_html)
        promise_at = body.index("We have noted your promise to pay")
        self.assertIn("400.00", body[promise_at:])
        self.assertNotIn("1,000.00", body[promise_at:])

    def test_the_emails_of_a_run_read_their_lines_together(self):
        """The emails of a run are rendered for hundreds of customers at once: reading their
        lines costs the same number of queries for two customers as for six (each message
        read its own lines before: one more query per customer)."""

        def queries(count):
            customers = [
                self._customer(f"Batch {count}-{n}", f"b{count}{n}@x.test") for n in range(count)
            ]
            for customer in customers:
                self._invoice(customer, 5, 100.0 * count)
                self._invoice(customer, 5, 10.0 * count)
            self._run()
            messages = self.env["dunning.message"].search(
                [("partner_id", "in", [c.id for c in customers])]
            )
            self.assertEqual(len(messages), count)
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            data = messages._get_render_data()
            self.assertEqual([len(data[m.id]["rows"]) for m in messages], [2] * count)
            return self.env.cr.sql_log_count - before

        queries(1)  # the caches of the first rendering (languages, views) warmed up
        self.assertEqual(queries(2), queries(6))
