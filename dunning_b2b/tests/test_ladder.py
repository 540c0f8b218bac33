from datetime import timedelta

from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestLadder(DunningCommon):
    """Stages reached by real invoices in a real run."""

    def test_stage_boundaries(self):
        expected = {
            -8: False, -7: self.pre_due, 0: self.pre_due, 1: self.follow_up, 15: self.follow_up,
            16: self.formal, 45: self.formal, 46: self.escalation, 90: self.escalation,
            91: self.final,
        }  # fmt: skip
        moves = {days: self._invoice(self.customer, days, 100 + days) for days in expected}
        self._run()
        for days, level in expected.items():
            with self.subTest(days=days):
                self.assertEqual(moves[days].dunning_level_id, level or self.env["dunning.level"])
                if level:
                    self.assertEqual(moves[days].dunning_date, self.run_date)
                    self.assertEqual(len(self._events(moves[days], "stage")), 1)
                else:
                    self.assertFalse(moves[days].dunning_event_ids)

    def test_late_found_invoice_enters_its_stage_directly(self):
        move = self._invoice(self.customer, 50, 900)
        self._run()
        self.assertEqual(move.dunning_level_id, self.escalation)
        (stage_event,) = self._events(move, "stage")
        self.assertIn(self.pre_due.name, stage_event.note)
        self.assertIn(self.formal.name, stage_event.note)
        messages = self._messages()
        self.assertEqual(messages.level_id, self.escalation, "skipped stages send nothing")

    def test_stages_advance_over_successive_runs(self):
        move = self._invoice(self.customer, 0, 500)
        self._run(run_date=self.run_date - timedelta(days=3))  # 3 days before due
        self.assertEqual(move.dunning_level_id, self.pre_due)
        self._run(run_date=self.run_date + timedelta(days=1))
        self.assertEqual(move.dunning_level_id, self.follow_up)
        self._run(run_date=self.run_date + timedelta(days=16))
        self.assertEqual(move.dunning_level_id, self.formal)
        self.assertEqual(
            self._events(move, "stage").level_id, self.pre_due | self.follow_up | self.formal
        )
        self.assertEqual(len(self._messages()), 3)

    def test_paid_invoice_is_never_dunned(self):
        move = self._invoice(self.customer, 20, 300)
        self._pay(move, 300)
        self.assertEqual(move.payment_state, "paid")
        stats = self._run()
        self.assertFalse(move.dunning_level_id)
        self.assertFalse(move.dunning_event_ids)
        self.assertFalse(self._messages())
        self.assertEqual(stats["advanced"], 0)

    def test_partially_paid_invoice_shows_its_residual(self):
        move = self._invoice(self.customer, 20, 1000)
        self._pay(move, 400)
        self.assertEqual(move.payment_state, "partial")
        self._run(run_date=self.run_date)
        self.assertEqual(move.dunning_level_id, self.formal)
        (event,) = self._events(move, "stage")
        self.assertEqual(event.amount_residual, 600)
        message = self._messages()
        self.assertEqual(message.amount_text, move.currency_id.format(600))
        body = message.level_id.mail_template_id._render_field("body_html", message.ids)[message.id]
        self.assertIn(move.currency_id.format(600).replace(" ", "\xa0"), body)

    def test_excluded_invoice_keeps_its_stage(self):
        move = self._invoice(self.customer, 5, 250)
        self._run()
        self.assertEqual(move.dunning_level_id, self.follow_up)
        move.with_user(self.collector).action_dunning_exclude()
        self.assertTrue(move.dunning_excluded)
        self.assertEqual(self._events(move, "excluded").user_id, self.collector)
        self.assertEqual(move.dunning_paused_reason, "excluded by hand")

        self._run(run_date=self.run_date + timedelta(days=60))
        self.assertEqual(move.dunning_level_id, self.follow_up, "paused invoices do not advance")

        move.with_user(self.collector).action_dunning_include()
        self.assertTrue(self._events(move, "included"))
        self._run(run_date=self.run_date + timedelta(days=60))
        self.assertEqual(move.dunning_level_id, self.escalation)
        self.assertIn(self.formal.name, self._events(move, "stage").sorted("id")[-1].note)

    def test_second_run_the_same_day_changes_nothing(self):
        self._invoice(self.customer, 20, 100)
        self._invoice(self.customer, 2, 200)
        first = self._run()
        self.assertEqual(first["advanced"], 2)
        counts = (
            self.env["dunning.event"].search_count([]),
            self.env["dunning.message"].search_count([]),
            self.env["mail.mail"].search_count([]),
            self.env["mail.activity"].search_count([]),
        )
        second = self._run()
        self.assertEqual(second["advanced"], 0)
        self.assertEqual(second["emails"], 0)
        self.assertEqual(
            counts,
            (
                self.env["dunning.event"].search_count([]),
                self.env["dunning.message"].search_count([]),
                self.env["mail.mail"].search_count([]),
                self.env["mail.activity"].search_count([]),
            ),
        )

    def test_stage_entry_is_unique_in_the_data(self):
        """Idempotency does not rest on code paths only: the database refuses a second entry."""
        move = self._invoice(self.customer, 20, 100)
        self._run()
        (event,) = self._events(move, "stage")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.cr.savepoint():
            event.sudo().copy()
            self.env.flush_all()

    def test_customer_shows_its_highest_stage(self):
        self._invoice(self.customer, 2, 100)
        self._invoice(self.customer, 50, 200)
        self._run()
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.dunning_level_id, self.escalation)
        self.assertEqual(self.customer.dunning_open_count, 2)
        self.assertEqual(self.customer.dunning_overdue_amount, 300)
        found = self.env["res.partner"].search([("dunning_level_id", "in", self.escalation.ids)])
        self.assertIn(self.customer, found)
