from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, new_test_user, tagged

from .common import RUN_DATE
from .test_settlement import WriteOffCommon


@tagged("post_install", "-at_install")
class TestWriteOff(WriteOffCommon):
    """Write-offs: posted to the bad debt account and reconciled, the customer held as
    "written off" with a zero credit limit, a second manager above the threshold
    (issue 14)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager_2 = new_test_user(
            cls.env,
            login="dunning_manager_2",
            name="Mia Manager",
            groups="dunning_b2b.group_dunning_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _wizard(self, user=None, partner=None, case=None, reason="Customer insolvent"):
        Wizard = self.env["dunning.resolution.write.off"].with_user(user or self.manager)
        if case:
            return Wizard.create({"resolution_id": case.id, "reason": reason})
        return Wizard.with_context(
            active_model="res.partner", active_id=(partner or self.customer).id
        ).create({"reason": reason})

    def test_write_off_from_the_customer(self):
        """Two invoices, 1,500.00 and 2,500.00, of which 500.00 paid: open 1,000.00 +
        2,500.00 = 3,500.00, written off in one entry (bad debt debit 3,500.00, two
        receivable credits 1,000.00 and 2,500.00, each reconciled with its invoice); the
        case is done: written off 3,500.00, recovered 0.00."""
        with freeze_time(RUN_DATE):
            first = self._invoice(self.customer, 100, 1500.0)
            second = self._invoice(self.customer, 60, 2500.0)
            self._pay(first, 500.0)
            self.customer.with_company(self.company).credit_limit = 10000.0
            wizard = self._wizard()
            self.assertEqual(wizard.partner_id, self.customer)
            self.assertEqual(wizard.amount, 3500.0)
            self.assertFalse(wizard.needs_approval)
            wizard.action_confirm()
        case = self._cases()
        self.assertEqual((case.resolution_type, case.state), ("write_off", "done"))
        self.assertEqual((case.amount_written_off, case.amount_recovered), (3500.0, 0.0))
        entry = case.write_off_move_id
        self.assertEqual(entry.state, "posted")
        self.assertEqual(entry.date, RUN_DATE)
        (expense,) = entry.line_ids.filtered(lambda line: line.account_id == self.bad_debt)
        self.assertEqual(expense.debit, 3500.0)
        self.assertEqual(sorted((entry.line_ids - expense).mapped("credit")), [1000.0, 2500.0])
        for move in first | second:
            self.assertTrue(self._receivable(move).reconciled)
            self.assertIn(move.payment_state, ("paid", "in_payment"))
            self.assertEqual(len(self._events(move, "write_off")), 1)
        # The customer: held as written off, credit limit zero, high risk, credit review.
        partner = self.customer.with_company(self.company)
        self.assertTrue(partner.credit_hold)
        self.assertEqual(partner.credit_hold_origin, "write_off")
        self.assertIn("Written off: Customer insolvent", partner.credit_hold_banner)
        # Zero in effect: the smallest amount, with the customer's own limit on (Odoo reads 0
        # as "the company's default", often no limit at all; review finding).
        self.assertEqual(partner.credit_limit, self.company.currency_id.rounding)
        self.assertTrue(partner.use_partner_credit_limit)
        self.assertEqual((partner.dunning_segment, partner.dunning_segment_pinned),
                         ("high_small", True))  # fmt: skip
        self.assertTrue(
            self.env["dunning.event"].search(
                [("partner_id", "=", self.customer.id), ("event_type", "=", "credit_review")]
            )
        )
        # Lifted with a reason only (Lift Credit Hold), never by unticking the box.
        with self.assertRaisesRegex(UserError, "written off. Use Lift Credit Hold"):
            self.customer.with_user(self.manager).credit_hold = False
        with self.assertRaises(AccessError):
            self.customer.with_user(self.collector).credit_hold = False
        # A closed case writes off nothing more.
        with self.assertRaisesRegex(UserError, "already closed"):
            self._wizard(case=case).action_confirm()
        # The daily run keeps the hold (lifted by a manager only) and the pinned segment.
        self._run(run_date=date(2026, 3, 3))
        partner.invalidate_recordset()
        self.assertTrue(partner.credit_hold)
        self.assertEqual(partner.dunning_segment, "high_small")

    def test_write_off_case_and_second_manager_approval(self):
        """Threshold 1,000.00: a write-off of 4,000.00 waits for a second manager. The one
        who asked cannot approve; nothing is posted until the other one does."""
        self.company.dunning_write_off_threshold = 1000.0
        with freeze_time(RUN_DATE):
            move = self._invoice(self.customer, 95, 4000.0)
            self._run()
            case = self._cases().with_user(self.manager)
            case.resolution_type = "write_off"
            action = case.action_write_off()
            self.assertEqual(action["res_model"], "dunning.resolution.write.off")
            wizard = self._wizard(case=case)
            self.assertTrue(wizard.needs_approval)
            wizard.action_confirm()
            self.assertEqual((case.state, case.approval_state), ("open", "requested"))
            self.assertEqual(case.approval_amount, 4000.0)
            self.assertFalse(case.write_off_move_id)
            self.assertFalse(self._bad_debt_lines())
            self.assertEqual(len(self._events(move, "write_off_requested")), 1)
            task = case.activity_ids.filtered(lambda a: a.user_id == self.manager_2)
            self.assertTrue(task, "the other manager is asked")
            with self.assertRaisesRegex(UserError, "another dunning manager"):
                case.action_approve_write_off()
            with self.assertRaises(AccessError):
                case.with_user(self.collector).action_approve_write_off()
            case.with_user(self.manager_2).action_approve_write_off()
        self.assertEqual((case.state, case.approval_state, case.approved_by_id),
                         ("done", "approved", self.manager_2))  # fmt: skip
        self.assertEqual(case.amount_written_off, 4000.0)
        self.assertEqual(self._bad_debt_lines().debit, 4000.0)
        self.assertFalse(case.activity_ids.filtered(lambda a: a.user_id == self.manager_2))

    def test_refused_write_off_posts_nothing(self):
        self.company.dunning_write_off_threshold = 1000.0
        with freeze_time(RUN_DATE):
            move = self._invoice(self.customer, 95, 4000.0)
            self._wizard().action_confirm()
            case = self._cases()
            case.with_user(self.manager_2).action_refuse_write_off()
        self.assertEqual((case.state, case.approval_state), ("open", "refused"))
        self.assertFalse(self._bad_debt_lines())
        self.assertFalse(self._receivable(move).reconciled)
        self.assertEqual(len(self._events(move, "write_off_refused")), 1)
        self.assertFalse(self.customer.with_company(self.company).credit_hold)

    def test_without_bad_debt_account_nothing_is_posted(self):
        self.company.dunning_bad_debt_account_id = False
        with freeze_time(RUN_DATE):
            move = self._invoice(self.customer, 95, 4000.0)
            entries = self.env["account.move"].search_count([])
            with self.assertRaisesRegex(UserError, "Bad Debt Account: set it in Settings"):
                self._wizard().action_confirm()
        self.assertEqual(self.env["account.move"].search_count([]), entries)
        self.assertFalse(self._cases())
        self.assertFalse(self._receivable(move).reconciled)
        self.assertFalse(self.customer.with_company(self.company).credit_hold)

    def test_collector_is_refused(self):
        with freeze_time(RUN_DATE):
            self._invoice(self.customer, 95, 4000.0)
            self._run()
            case = self._cases()
            case.with_user(self.manager).resolution_type = "write_off"
            with self.assertRaises(AccessError):
                self._wizard(user=self.collector)
            with self.assertRaises(AccessError):
                case.with_user(self.collector).action_write_off()
            with self.assertRaises(AccessError):
                case.with_user(self.collector).write({"approval_state": "approved"})
            with self.assertRaises(AccessError):
                case.with_user(self.manager).write({"approval_state": "requested"})
        self.assertFalse(self._bad_debt_lines())


@tagged("post_install", "-at_install")
class TestWriteOffMultiCurrency(WriteOffCommon):
    """A USD invoice in a EUR company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR")
        cls.company_eur = cls.setup_other_company(name="Euro GmbH", currency_id=cls.eur.id)[
            "company"
        ]
        cls.usd = cls.company.currency_id
        cls.env["res.currency.rate"].create(
            [
                # 1 EUR = 1.25 USD until February, 1 EUR = 1.00 USD from 1 March 2026.
                {"name": "2020-01-01", "rate": 1.25, "currency_id": cls.usd.id,
                 "company_id": cls.company_eur.id},
                {"name": "2026-03-01", "rate": 1.0, "currency_id": cls.usd.id,
                 "company_id": cls.company_eur.id},
            ]
        )  # fmt: skip
        cls.bad_debt_eur = (
            cls.env["account.account"]
            .with_company(cls.company_eur)
            .create({"code": "681600", "name": "Bad debts", "account_type": "expense"})
        )
        cls.company_eur.dunning_bad_debt_account_id = cls.bad_debt_eur
        cls.manager_eur = new_test_user(
            cls.env,
            login="dunning_manager_eur",
            name="Eva Manager",
            groups="dunning_b2b.group_dunning_manager",
            company_id=cls.company_eur.id,
            company_ids=[Command.set(cls.company_eur.ids)],
        )

    def test_usd_invoice_written_off_in_eur_company(self):
        """1,000.00 USD invoiced on 28 October 2025 at 1.25 USD per EUR: 800.00 EUR.
        200.00 USD paid on 1 March 2026 at 1.00: 200.00 EUR received for 160.00 EUR of
        receivable, Odoo books the 40.00 EUR exchange difference; 800.00 USD stay open at
        800.00 x 0.8 = 640.00 EUR. The write-off clears them at that value: the receivable
        line credit 800.00 USD / 640.00 EUR, bad debt debit 800.00 USD / 640.00 EUR, no
        further exchange difference."""
        with freeze_time(RUN_DATE):
            move = self._invoice(
                self.customer, 95, 1000.0, currency=self.usd, company=self.company_eur
            )
            line = self._receivable(move)
            self.assertEqual((line.amount_currency, line.balance), (1000.0, 800.0))
            self._pay_on(move, 200.0, date(2026, 3, 1), currency=self.usd)
            self.assertEqual((line.amount_residual_currency, line.amount_residual),
                             (800.0, 640.0))  # fmt: skip
            wizard = (
                self.env["dunning.resolution.write.off"]
                .with_user(self.manager_eur)
                .with_context(active_model="res.partner", active_id=self.customer.id)
                .create({"reason": "Customer insolvent"})
            )
            self.assertEqual((wizard.company_id, wizard.amount), (self.company_eur, 640.0))
            wizard.action_confirm()
        case = self._cases().with_company(self.company_eur)
        self.assertEqual((case.company_id, case.state), (self.company_eur, "done"))
        self.assertEqual(case.amount_written_off, 640.0)
        entry = case.write_off_move_id
        self.assertEqual(entry.company_id, self.company_eur)
        (expense,) = entry.line_ids.filtered(lambda x: x.account_id == self.bad_debt_eur)
        self.assertEqual(
            (expense.currency_id, expense.amount_currency, expense.balance),
            (self.usd, 800.0, 640.0),
        )
        self.assertTrue(line.reconciled)
        self.assertEqual((line.amount_residual_currency, line.amount_residual), (0.0, 0.0))
        # The payment's partial booked the 40.00 EUR gain; the write-off's partial none.
        write_off_partial = (entry.line_ids - expense).matched_debit_ids
        self.assertEqual(write_off_partial.debit_move_id, line)
        self.assertFalse(write_off_partial.exchange_move_id)
        payment_partial = line.matched_credit_ids - write_off_partial
        gain = payment_partial.exchange_move_id.line_ids.filtered(
            lambda x: x.account_id != line.account_id
        )
        self.assertEqual(gain.balance, -40.0)
        # Held in the EUR company only.
        self.assertTrue(self.customer.with_company(self.company_eur).credit_hold)
        self.assertFalse(self.customer.with_company(self.company).credit_hold)
        self.assertEqual(
            self.customer.with_company(self.company_eur).credit_limit,
            self.company_eur.currency_id.rounding,
        )
