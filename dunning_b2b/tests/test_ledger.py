from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import RUN_DATE, DunningCommon
from .lines_common import LinesMixin


@tagged("post_install", "-at_install")
class TestLedger(LinesMixin, DunningCommon):
    """The ladder works on the ledger's open receivable lines: instalments on their own due
    dates, open credits netted per currency, a tolerance, documents that change after
    posting, and any number of runs a day."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.term_30_90 = cls.half_30_half_90  # from LinesMixin
        cls.term_3 = cls.env["account.payment.term"].create(
            {
                "name": "Three thirds: 10, 40, 70 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 30, "nb_days": 10}),
                    Command.create({"value": "percent", "value_amount": 30, "nb_days": 40}),
                    Command.create({"value": "percent", "value_amount": 40, "nb_days": 70}),
                ],
            }
        )

    # ---------------------------------------------------------------- helpers
    def _instalment_invoice(self, partner, invoice_date, amount, term, currency=None):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": invoice_date,
                "invoice_payment_term_id": term.id,
                "currency_id": (currency or self.company.currency_id).id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Machines",
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
        move.action_post()
        return move

    def _receivable_lines(self, move):
        return move.line_ids.filtered(lambda line: line.account_type == "asset_receivable").sorted(
            "date_maturity"
        )

    def _payment_on_account(self, partner, amount):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": amount,
                "date": RUN_DATE - timedelta(days=3),
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        return payment

    def _stage_of_line(self, line):
        state = self.env["dunning.line"].search([("move_line_id", "=", line.id)])
        return state.level_id

    def _staged(self, move):
        return self._events(move, "stage").mapped("level_id")

    # ------------------------------------------------------------ instalments
    def test_first_instalment_overdue_is_chased_on_its_own_date(self):
        # Invoiced 60 days before the run: the first half was due 30 days ago, the second
        # is due in 30 days. The header's due date is the last instalment's.
        move = self._instalment_invoice(
            self.customer, RUN_DATE - timedelta(days=60), 2000.0, self.term_30_90
        )
        first, second = self._receivable_lines(move)
        self.assertEqual(move.invoice_date_due, second.date_maturity)
        self._run()
        self.assertEqual(self._stage_of_line(first), self.formal)
        self.assertFalse(self._stage_of_line(second))
        self.assertEqual(move.dunning_level_id, self.formal)
        event = self._events(move, "stage")
        self.assertEqual(event.move_line_id, first)
        self.assertEqual(event.amount_residual, 1000.0)
        self.assertEqual(event.days_overdue, 30)
        message = self._messages()
        self.assertEqual(message.line_ids, first)
        # 23 days later the first instalment is 53 days overdue: escalation, and the second
        # (due in 7 days) gets its own pre-due reminder, listing only itself.
        self._run(run_date=RUN_DATE + timedelta(days=23))
        self.assertEqual(self._stage_of_line(first), self.escalation)
        self.assertEqual(self._stage_of_line(second), self.pre_due)
        pre_due_message = self._messages().filtered(lambda m: m.level_id == self.pre_due)
        self.assertEqual(pre_due_message.line_ids, second)
        self.assertEqual(move.dunning_level_id, self.escalation)

    def test_three_instalments_one_paid(self):
        move = self._instalment_invoice(
            self.customer, RUN_DATE - timedelta(days=50), 3000.0, self.term_3
        )
        first, second, third = self._receivable_lines(move)
        self._pay(move, 900.0)  # the first third
        self.assertTrue(first.reconciled)
        self.assertFalse(second.reconciled)
        self._run()
        self.assertFalse(self._events(move, "stage").filtered(lambda e: e.move_line_id == first))
        # Second third: due 10 days ago (follow-up); last one due in 20 days (nothing yet).
        self.assertEqual(self._stage_of_line(second), self.follow_up)
        self.assertFalse(self._stage_of_line(third))
        self.assertEqual(self._events(move, "stage").amount_residual, 900.0)
        labels = self.env["dunning.line"]._get_line_labels(second.ids)
        self.assertIn("instalment 2 of 3", labels[second.id])

    # ----------------------------------------------------------------- credits
    def test_credit_note_covering_the_overdue_is_not_chased(self):
        move = self._invoice(self.customer, 20, 1000.0)
        self._credit_note(self.customer, 1000.0)
        self._run()
        self.assertFalse(self._staged(move))
        self.assertFalse(self._messages())
        self.assertFalse(
            self.env["dunning.credit.hold"].search([("partner_id", "=", self.customer.id)])
        )
        tasks = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        self.assertEqual(tasks.mapped("summary"), [f"Apply the open credit [{self.company.name}]"])
        self.assertIn(move.name, str(tasks.note))
        self.assertEqual(tasks.user_id, self.collector)
        # Walking the whole ladder: still nothing, and no second task.
        for days in (30, 60, 100):
            self._run(run_date=RUN_DATE + timedelta(days=days))
        self.assertFalse(self._staged(move))
        self.assertEqual(
            self.env["mail.activity"].search_count(
                [("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
            ),
            1,
        )
        state = self.env["dunning.line"].search([("move_id", "=", move.id)])
        self.assertIn("covered by open credits", state.pause_reason)

    def test_payment_on_account_covering_the_overdue_is_not_chased(self):
        move = self._invoice(self.customer, 20, 1000.0)
        self._payment_on_account(self.customer, 1200.0)
        self._run()
        self.assertFalse(self._staged(move))
        self.assertFalse(self._messages())

    def test_credit_covering_part_is_netted_not_ignored(self):
        move = self._invoice(self.customer, 20, 1000.0)
        self._credit_note(self.customer, 400.0)
        self._run()
        self.assertEqual(self._staged(move), self.formal)
        items = self.env["dunning.line"]._get_open_items(self.company, RUN_DATE)
        credit = [item for item in items if item.is_credit]
        self.assertEqual([item.amount for item in credit], [-400.0])

    def test_credit_in_another_currency_does_not_net(self):
        eur = self.setup_other_currency("EUR")
        move = self._invoice(self.customer, 20, 1000.0)
        self._credit_note(self.customer, 1000.0, currency=eur)
        self._run()
        self.assertEqual(self._staged(move), self.formal)
        self.assertEqual(self._messages().line_ids, self._receivable_lines(move))

    # ---------------------------------------------------------------- tolerance
    def test_a_few_cents_left_are_not_chased(self):
        self.assertGreater(self.policy.minimum_amount, 0)
        move = self._invoice(self.customer, 20, 100.0)
        self._pay(move, 99.98)
        self.assertEqual(move.amount_residual, 0.02)
        for days in (0, 30, 60, 100):
            self._run(run_date=RUN_DATE + timedelta(days=days))
        self.assertFalse(self._staged(move))
        self.assertFalse(self._messages())

    def test_small_line_beside_a_large_one_is_not_listed(self):
        small = self._invoice(self.customer, 20, 100.0)
        self._pay(small, 99.5)
        large = self._invoice(self.customer, 20, 800.0)
        self._run()
        self.assertFalse(self._staged(small))
        self.assertEqual(self._staged(large), self.formal)
        self.assertEqual(self._messages().move_ids, large)

    # ---------------------------------------------------------- opening balance
    def test_opening_balance_entry_is_chased(self):
        receivable = self.company_data["default_account_receivable"]
        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "date": RUN_DATE - timedelta(days=40),
                "journal_id": self.company_data["default_journal_misc"].id,
                "line_ids": [
                    Command.create(
                        {
                            "name": "Opening balance",
                            "account_id": receivable.id,
                            "partner_id": self.customer.id,
                            "debit": 750.0,
                            "date_maturity": RUN_DATE - timedelta(days=20),
                        }
                    ),
                    Command.create(
                        {
                            "name": "Opening balance",
                            "account_id": self.company_data["default_account_revenue"].id,
                            "credit": 750.0,
                        }
                    ),
                ],
            }
        )
        entry.action_post()
        self._run()
        self.assertEqual(self._staged(entry), self.formal)
        self.assertEqual(self._messages().move_ids, entry)

    # ---------------------------------------------------------------- lifecycle
    def test_reset_to_draft_and_new_due_date_walks_again(self):
        move = self._invoice(self.customer, 5, 1000.0)
        self._run()
        self.assertEqual(self._staged(move), self.follow_up)
        move.button_draft()
        restart = self._events(move, "restart")
        self.assertEqual(len(restart), 1)
        self.assertIn("Reset to draft", restart.note)
        self.assertFalse(move.dunning_level_id)
        new_due = RUN_DATE + timedelta(days=55)
        move.write({"invoice_date_due": new_due})
        move.action_post()
        self.assertEqual(move.invoice_date_due, new_due)
        self._run(run_date=RUN_DATE + timedelta(days=1))
        self.assertFalse(move.dunning_level_id)
        # Its pre-due and follow-up reminders for the new date do go out.
        self._run(run_date=new_due - timedelta(days=7))
        self.assertEqual(move.dunning_level_id, self.pre_due)
        self._run(run_date=new_due + timedelta(days=1))
        self.assertEqual(move.dunning_level_id, self.follow_up)
        levels = self._messages().mapped("level_id")
        self.assertEqual(levels, self.follow_up | self.pre_due)
        self.assertEqual(len(self._messages().filtered(lambda m: m.level_id == self.follow_up)), 2)

    def test_due_date_changed_while_staged_restarts(self):
        move = self._invoice(self.customer, 5, 1000.0)
        self._run()
        line = self._receivable_lines(move)
        # A correction made in SQL or by an import, without reset: the engine still sees it.
        new_due = RUN_DATE + timedelta(days=30)
        self.env.cr.execute(
            "UPDATE account_move_line SET date_maturity = %s WHERE id = %s", (new_due, line.id)
        )
        line.invalidate_recordset(["date_maturity"])
        self._run(run_date=RUN_DATE + timedelta(days=1))
        restart = self._events(move, "restart")
        self.assertEqual(len(restart), 1)
        self.assertIn("Due date changed", restart.note)
        self.assertFalse(move.dunning_level_id)
        state = self.env["dunning.line"].search([("move_line_id", "=", line.id)])
        self.assertEqual((state.cycle, state.due_date), (2, new_due))

    def test_cancelled_invoice_stops_and_says_why(self):
        move = self._invoice(self.customer, 20, 1000.0)
        self._run()
        move.button_draft()
        move.button_cancel()
        self.assertIn("Reset to draft", self._events(move, "restart").note)
        self._run(run_date=RUN_DATE + timedelta(days=40))
        self.assertEqual(self._staged(move), self.formal)
        self.assertFalse(move.dunning_level_id)

    def test_reversed_invoice_says_why(self):
        move = self._invoice(self.customer, 20, 1000.0)
        self._run()
        move._reverse_moves([{"date": RUN_DATE}], cancel=True)
        self.assertEqual(move.payment_state, "reversed")
        restart = self._events(move, "restart")
        self.assertIn("Reversed by", restart.note)
        self._run(run_date=RUN_DATE + timedelta(days=40))
        self.assertEqual(self._staged(move), self.formal)

    # ---------------------------------------------------------- re-entrant runs
    def test_three_runs_a_day_with_new_invoices_between(self):
        first = self._invoice(self.customer, 5, 100.0)
        stats = self._run()
        second = self._invoice(self.customer, 6, 200.0)
        stats2 = self._run()
        third = self._invoice(self.customer, 20, 300.0)
        fourth = self._invoice(self.customer, 21, 400.0)
        stats3 = self._run()
        for run_stats in (stats, stats2, stats3):
            self.assertFalse(run_stats.get("failed_customers"), run_stats)
        self.assertFalse(self.env["dunning.event"].search([("event_type", "=", "error")]))
        for move, level in (
            (first, self.follow_up),
            (second, self.follow_up),
            (third, self.formal),
            (fourth, self.formal),
        ):
            self.assertEqual(self._staged(move), level)
        follow_ups = self._messages().filtered(lambda m: m.level_id == self.follow_up)
        # The first follow-up was sent: the second invoice gets a message of its own.
        self.assertEqual([m.move_ids for m in follow_ups], [first, second])
        formal = self._messages().filtered(lambda m: m.level_id == self.formal)
        self.assertEqual(formal.move_ids, third | fourth)
        # A fourth run changes nothing, and no line is announced twice at a stage.
        before = self.env["dunning.event"].search_count([])
        self._run()
        self.assertEqual(self.env["dunning.event"].search_count([]), before)

    def test_formal_notice_for_review_takes_a_later_line_of_the_day(self):
        third = self._invoice(self.customer, 20, 300.0)
        self._run()
        draft = self._messages()
        self.assertEqual(draft.state, "draft")
        fourth = self._invoice(self.customer, 22, 400.0)
        self._run()
        self.assertEqual(self._messages(), draft)
        self.assertEqual(draft.move_ids, third | fourth)
        review_tasks = self.env["mail.activity"].search(
            [("res_model", "=", "dunning.message"), ("res_id", "=", draft.id)]
        )
        self.assertEqual(len(review_tasks), 1)

    def test_worklist_send_before_the_daily_run(self):
        self._invoice(self.customer, 5, 100.0)
        self._run()
        self.env["dunning.worklist"]._refresh(self.company, RUN_DATE)
        row = self.env["dunning.worklist"].search([("partner_id", "=", self.customer.id)])
        # The next morning the collector sends the current stage's message again from the
        # worklist, before the daily run moves a new invoice into that stage.
        row.with_user(self.collector).action_send_stage_message()
        late = self._invoice(self.customer, 1, 250.0)
        stats = self._run()
        self.assertFalse(stats.get("failed_customers"), stats)
        self.assertEqual(self._staged(late), self.follow_up)
        self.assertIn(late, self._messages().move_ids)

    # --------------------------------------------------------- the open items list
    def test_collector_reads_open_items_by_stage_and_cannot_forge_them(self):
        move = self._instalment_invoice(
            self.customer, RUN_DATE - timedelta(days=60), 2000.0, self.term_30_90
        )
        self._run()
        Line = self.env["dunning.line"].with_user(self.collector)
        action = self.env.ref("dunning_b2b.dunning_line_action")
        groups = Line.formatted_read_group(
            [("is_open", "=", True), ("level_id", "!=", False)],
            ["level_id"],
            ["amount_residual:sum", "__count"],
        )
        self.assertEqual(
            [(group["level_id"][0], group["__count"]) for group in groups],
            [(self.formal.id, 1)],
        )
        self.assertTrue(Line.get_views([(False, "list"), (False, "search")]))
        self.assertEqual(action.res_model, "dunning.line")
        line = Line.search([("move_id", "=", move.id), ("level_id", "!=", False)])
        with self.assertRaises(AccessError):
            line.write({"level_id": self.final.id})
        with self.assertRaises(AccessError):
            Line.create(
                {
                    "move_line_id": line.move_line_id.id,
                    "move_id": move.id,
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                }
            )
        # The invoice shows its stage to whoever reads it, a collector included.
        self.assertEqual(move.with_user(self.collector).dunning_level_id, self.formal)
        self.assertEqual(
            self.env["account.move"]
            .with_user(self.collector)
            .search([("dunning_level_id", "=", self.formal.id)]),
            move,
        )
