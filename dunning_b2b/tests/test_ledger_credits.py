from datetime import timedelta

from odoo.tests import freeze_time, tagged

from .common import RUN_DATE, DunningCommon
from .lines_common import LinesMixin

CREDIT_TASK = "dunning_b2b.mail_activity_type_dunning_credit"


@tagged("post_install", "-at_install")
class TestLedgerCredits(LinesMixin, DunningCommon):
    """Open credits are applied to a customer's debts oldest first, once: no reminder asks
    for nothing, two reminders never deduct the same credit, the tolerance applies to what
    is left, and the collector's task follows the ledger."""

    def _asked(self, message):
        """The net amount a message asks, per currency, as its table states it."""
        data = message._get_render_data()[message.id]
        return [total["net"] for total in data["summary"]]

    def _credit_tasks(self, partner=None):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", (partner or self.customer).id),
                ("activity_type_id", "=", self.env.ref(CREDIT_TASK).id),
            ]
        )

    def test_credit_covering_the_overdue_leaves_the_rest_to_ask(self):
        overdue = self._invoice(self.customer, 10, 500.0)
        soon = self._invoice(self.customer, -3, 1000.0)
        self._credit_note(self.customer, 1200.0)
        self._run()
        self.assertFalse(overdue.dunning_level_id, "covered by the credit")
        self.assertEqual(soon.dunning_level_id, self.pre_due)
        (message,) = self._messages()
        self.assertEqual(self._asked(message), [300.0], "1,500 owed less 1,200 credited")
        self.assertEqual(len(self._credit_tasks()), 1)

    def test_two_reminders_of_a_day_never_deduct_the_same_credit(self):
        self._invoice(self.customer, 5, 1000.0)
        self._invoice(self.customer, 20, 1000.0)
        self._credit_note(self.customer, 500.0)
        self._run()
        messages = self._messages()
        self.assertEqual(messages.level_id, self.follow_up | self.formal)
        asked = {message.level_id: self._asked(message) for message in messages}
        # The credit goes to the oldest debt: the formal notice's invoice.
        self.assertEqual(asked[self.formal], [500.0])
        self.assertEqual(asked[self.follow_up], [1000.0])
        self.assertEqual(sum(sum(values) for values in asked.values()), 1500.0)

    def test_tolerance_applies_to_what_credits_leave(self):
        overdue = self._invoice(self.customer, 10, 100.0)
        soon = self._invoice(self.customer, -3, 1000.0)
        self._credit_note(self.customer, 97.0)
        self._run()
        self.assertFalse(overdue.dunning_level_id, "3.00 left is below the minimum")
        self.assertEqual(soon.dunning_level_id, self.pre_due)
        (message,) = self._messages()
        self.assertEqual(message.line_ids.move_id, soon)
        self.assertEqual(self._asked(message), [1000.0])

    def test_excluded_invoice_does_not_make_a_reminder_ask_nothing(self):
        excluded = self._invoice(self.customer, 30, 1000.0)
        excluded.action_dunning_exclude()
        chased = self._invoice(self.customer, 20, 1000.0)
        self._credit_note(self.customer, 1000.0)
        self._run()
        self.assertEqual(chased.dunning_level_id, self.formal)
        (message,) = self._messages()
        self.assertEqual(self._asked(message), [1000.0], "1,000 is owed net, and asked")
        state = self.env["dunning.line"].search([("move_id", "=", excluded.id)])
        self.assertIn("excluded by hand", state.pause_reason)

    def test_run_now_on_one_invoice_nets_the_whole_customer(self):
        older = self._invoice(self.customer, 25, 1000.0)
        newer = self._invoice(self.customer, 20, 1000.0)
        self._credit_note(self.customer, 1500.0)
        with freeze_time(RUN_DATE):
            self.env["dunning.engine"].with_user(self.collector)._action_run(moves=newer)
        self.assertEqual(newer.dunning_level_id, self.formal, "500 of it is owed")
        self.assertFalse(self._credit_tasks(), "its own net is not covered")
        self._run()
        self.assertFalse(older.dunning_level_id, "the credit covers the older one")
        self.assertEqual(len(self._credit_tasks()), 1)
        self.assertEqual(len(self._messages()), 1)
        self.assertEqual(self._asked(self._messages()), [500.0])

    def test_credit_task_is_closed_when_the_credit_is_applied(self):
        invoice = self._invoice(self.customer, 20, 1000.0)
        refund = self._credit_note(self.customer, 1000.0)
        self._run()
        self.assertEqual(len(self._credit_tasks()), 1)
        # Running again asks nothing more, also in another language.
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["dunning.engine"].with_context(lang="fr_FR").sudo()._run(run_date=RUN_DATE)
        self.assertEqual(len(self._credit_tasks()), 1)
        # The collector matches the credit note with the invoice.
        credit_line = refund.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        invoice.js_assign_outstanding_line(credit_line.id)
        self.assertIn(invoice.payment_state, ("paid", "reversed"))
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertFalse(self._credit_tasks())
        self.assertFalse(self._messages())

    def test_stage_filters_find_what_the_lists_show(self):
        first = self._invoice(self.customer, 50, 100.0)
        self._invoice(self.customer, 3, 200.0)
        self._run()
        Move = self.env["account.move"]
        self.assertEqual(first.dunning_level_id, self.escalation)
        self.assertEqual(self.customer.dunning_level_id, self.escalation)
        self.assertNotIn(
            self.customer,
            self.env["res.partner"].search([("dunning_level_id", "=", self.follow_up.id)]),
        )
        self.assertIn(
            self.customer,
            self.env["res.partner"].sudo().search([("dunning_level_id", "=", self.escalation.id)]),
        )
        self.assertNotIn(
            self.customer,
            self.env["res.partner"].sudo().search([("dunning_level_id", "=", False)]),
        )
        self.assertIn(first, Move.search([("dunning_level_id", "=", self.escalation.id)]))
        self.assertNotIn(first, Move.search([("dunning_level_id", "=", False)]))
