from datetime import date, timedelta

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import freeze_time, tagged

from .common import RUN_DATE, DunningCommon


class WriteOffCommon(DunningCommon):
    """A bad debt account (expense) set for the company; helpers for cases and entries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bad_debt = cls.env["account.account"].create(
            {"code": "681500", "name": "Bad debts", "account_type": "expense"}
        )
        cls.company.dunning_bad_debt_account_id = cls.bad_debt

    def _receivable(self, move):
        return move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def _cases(self, partner=None):
        return self.env["dunning.resolution"].search(
            [("partner_id", "=", (partner or self.customer).id)]
        )

    def _bad_debt_lines(self, company=None):
        return self.env["account.move.line"].search(
            [
                ("account_id", "=", (company or self.company).dunning_bad_debt_account_id.id),
                ("parent_state", "=", "posted"),
            ]
        )

    def _pay_on(self, move, amount, day, currency=None):
        vals = {"amount": amount, "payment_date": day}
        if currency:
            vals["currency_id"] = currency.id
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create(vals)._create_payments()


@tagged("post_install", "-at_install")
class TestSettlement(WriteOffCommon):
    """Negotiated settlements: accepted by a manager for less than what is open, the rest
    written off once the agreed amount is paid, reopened when unpaid at its date (issue 14)."""

    def _settlement(self, amount=5600.0, until=date(2026, 3, 16)):
        """The 8,000.00 invoice 95 days late: the ladder proposes a case, the manager makes
        it a settlement of ``amount`` to be paid by ``until``."""
        self.move = self._invoice(self.customer, 95, 8000.0)
        self._run()
        case = self._cases().with_user(self.manager)
        case.write(
            {
                "resolution_type": "settlement",
                "settlement_amount": amount,
                "settlement_date": until,
            }
        )
        return case

    def test_paid_settlement_writes_off_the_rest(self):
        """8,000.00 open, 70 % accepted: 8,000.00 x 0.70 = 5,600.00 to pay. 3,000.00 paid
        leaves 2,600.00 to reach it: nothing is written off. 2,600.00 more: 5,600.00 paid,
        the remaining 8,000.00 - 5,600.00 = 2,400.00 goes to bad debt in one entry
        (debit bad debt 2,400.00, credit receivable 2,400.00) reconciled with the invoice,
        which is then paid; the case is done, recovered 5,600.00, written off 2,400.00."""
        with freeze_time(RUN_DATE):
            case = self._settlement()
            case.action_accept_settlement()
            self.assertEqual(
                (case.state, case.settlement_state, case.settlement_base),
                ("open", "agreed", 8000.0),
            )
            self.assertEqual(len(self._events(self.move, "settlement")), 1)
            self._pay_on(self.move, 3000.0, RUN_DATE)
            self.assertEqual(case.settlement_paid, 3000.0)
            self.assertEqual((case.state, self._bad_debt_lines()), ("open", self.env[
                "account.move.line"]))  # fmt: skip
            self._pay_on(self.move, 2600.0, RUN_DATE)
        entry = case.write_off_move_id
        self.assertEqual(entry.state, "posted")
        self.assertEqual(entry.journal_id, self.company._dunning_get_write_off_journal())
        self.assertEqual(entry.journal_id.type, "general")
        (expense,) = self._bad_debt_lines()
        self.assertEqual((expense.move_id, expense.debit), (entry, 2400.0))
        counterpart = entry.line_ids - expense
        self.assertEqual((counterpart.account_id, counterpart.credit),
                         (self._receivable(self.move).account_id, 2400.0))  # fmt: skip
        self.assertTrue(self._receivable(self.move).reconciled)
        self.assertIn(self.move.payment_state, ("paid", "in_payment"))
        self.assertEqual(
            (case.state, case.settlement_state, case.amount_recovered, case.amount_written_off),
            ("done", "paid", 5600.0, 2400.0),
        )
        self.assertEqual(len(self._events(self.move, "write_off")), 1)
        # Feedback: high risk, pinned, and a credit review for the manager.
        partner = self.customer.with_company(self.company)
        self.assertEqual((partner.dunning_segment, partner.dunning_segment_pinned),
                         ("high_small", True))  # fmt: skip
        review = self.env["dunning.event"].search(
            [("partner_id", "=", self.customer.id), ("event_type", "=", "credit_review")]
        )
        self.assertEqual(len(review), 1)
        self.assertIn("2,400.00", review.note)
        self.assertTrue(self.customer.activity_ids.filtered(lambda a: "Credit review" in a.summary))
        # A settlement is not a write-off: no hold, the credit limit untouched.
        self.assertFalse(partner.credit_hold)
        # Later runs post nothing more.
        self._run(run_date=RUN_DATE + timedelta(days=30))
        self.assertEqual(len(self._bad_debt_lines()), 1)

    def test_an_overpayment_of_one_line_counts_towards_the_settlement(self):
        """Review finding: lines of 1,000.00 and 500.00 (both at the final stage), 1,200.00
        agreed. The customer pays 1,300.00 against the first invoice: 1,000.00 settles it,
        300.00 is left as a credit, applied to the second line: 1,300.00 paid, the rest
        500.00 - 300.00 = 200.00 is written off; the case is done."""
        with freeze_time(RUN_DATE):
            first = self._invoice(self.customer, 95, 1000.0)
            second = self._invoice(self.customer, 95, 500.0)
            self._run()
            case = self._cases().with_user(self.manager)
            case.write(
                {"resolution_type": "settlement", "settlement_amount": 1200.0,
                 "settlement_date": date(2026, 3, 16)}
            )  # fmt: skip
            case.action_accept_settlement()
            self.assertEqual(case.line_ids.move_id, first | second)
            self._pay_on(first, 1300.0, RUN_DATE)
        self.assertEqual((case.state, case.settlement_state), ("done", "paid"))
        self.assertEqual(case.amount_written_off, 200.0)
        self.assertEqual(self._bad_debt_lines().debit, 200.0)
        self.assertIn(second.payment_state, ("paid", "in_payment"))

    def test_a_foreign_currency_settlement_is_agreed_and_paid_in_that_currency(self):
        """Review finding: 1,000.00 EUR booked at 0.9 EUR per company unit (1,111.11), 800.00
        EUR agreed. The customer pays 800.00 EUR when the rate is 0.8 (1,000.00 company):
        the settlement is paid, the remaining 200.00 EUR are written off."""
        eur = self.setup_other_currency("EUR", rates=[("2020-01-01", 0.9), ("2026-03-01", 0.8)])
        with freeze_time(RUN_DATE):
            move = self._invoice(self.customer, 95, 1000.0, currency=eur)
            self._run()
            case = self._cases().with_user(self.manager)
            self.assertEqual(case.settlement_currency_id, eur)
            case.write(
                {"resolution_type": "settlement", "settlement_amount": 800.0,
                 "settlement_date": date(2026, 3, 16)}
            )  # fmt: skip
            case.action_accept_settlement()
            self.assertEqual(case.settlement_base, 1000.0)
            self._pay_on(move, 800.0, RUN_DATE, currency=eur)
        self.assertEqual((case.state, case.settlement_state), ("done", "paid"))
        self.assertTrue(self._receivable(move).reconciled)
        written = self.env["account.move.line"].search(
            [("move_id", "=", case.write_off_move_id.id), ("currency_id", "=", eur.id),
             ("credit", ">", 0)]
        )  # fmt: skip
        self.assertEqual(written.amount_currency, -200.0)

    def test_daily_step_settles_a_payment_matched_in_bulk(self):
        """A payment matched without the at-once re-evaluation (a bank statement matched in
        bulk is queued): 6,000.00 paid of the 5,600.00 agreed, the next daily run writes off
        8,000.00 - 6,000.00 = 2,000.00."""
        with freeze_time(RUN_DATE):
            case = self._settlement()
            case.action_accept_settlement()
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=self.move.ids, dunning_run_id=-1
            ).create({"amount": 6000.0, "payment_date": RUN_DATE})._create_payments()
            self.assertEqual((case.state, case.settlement_paid), ("open", 6000.0))
        stats = self._run(run_date=date(2026, 3, 3))
        self.assertEqual(stats["settlements_paid"], 1)
        self.assertEqual((case.state, case.amount_written_off, case.amount_recovered),
                         ("done", 2000.0, 6000.0))  # fmt: skip
        self.assertEqual(self._bad_debt_lines().debit, 2000.0)

    def test_unpaid_settlement_reopens_and_the_ladder_resumes(self):
        """5,600.00 due by 16 March, 1,000.00 paid: on 17 March the case is back to decide
        (draft, a task for its owner), its lines no longer paused, nothing written off."""
        with freeze_time(RUN_DATE):
            case = self._settlement()
            case.action_accept_settlement()
            self._pay_on(self.move, 1000.0, RUN_DATE)
            self.assertIn("final resolution", self.move.dunning_paused_reason)
        self._run(run_date=date(2026, 3, 16))
        self.assertEqual((case.state, case.settlement_state), ("open", "agreed"))
        self._run(run_date=date(2026, 3, 17))
        self.assertEqual((case.state, case.settlement_state), ("draft", "unpaid"))
        (event,) = self._events(self.move, "settlement_unpaid")
        self.assertIn("1,000.00 paid", event.note)
        self.assertIn("reminders resume", event.note)
        self.assertTrue(case.activity_ids.filtered(lambda a: a.user_id == case.owner_id))
        self.assertFalse(self.move.dunning_paused_reason)
        self.assertFalse(self._bad_debt_lines())
        self.assertFalse(case.write_off_move_id)
        # The manager may agree new terms on the case.
        with freeze_time(date(2026, 3, 17)):
            case.write({"settlement_amount": 4000.0, "settlement_date": date(2026, 3, 31)})
            case.action_accept_settlement()
        self.assertEqual((case.state, case.settlement_base), ("open", 7000.0))

    def test_bad_terms_are_refused_naming_the_field(self):
        """Open 8,000.00: 8,000.01 is more than what is open, 0 is no amount, 1 March is
        before the day of the agreement (2 March). Nothing is agreed."""
        with freeze_time(RUN_DATE):
            case = self._settlement(amount=8000.01)
            with self.assertRaisesRegex(ValidationError, "Agreed Amount: .{1,3}8,000.01 is more"):
                case.action_accept_settlement()
            case.settlement_amount = 0.0
            with self.assertRaisesRegex(ValidationError, "Agreed Amount"):
                case.action_accept_settlement()
            with self.assertRaisesRegex(ValidationError, "Agreed Amount"):
                case.settlement_amount = -5.0
            case.write({"settlement_amount": 5600.0, "settlement_date": date(2026, 3, 1)})
            with self.assertRaisesRegex(ValidationError, "To Be Paid By"):
                case.action_accept_settlement()
            self.assertEqual((case.state, case.settlement_state), ("draft", False))
            self.assertFalse(self._events(self.move, "settlement"))
            # Without a bad debt account a settlement cannot be agreed either.
            self.company.dunning_bad_debt_account_id = False
            case.settlement_date = date(2026, 3, 16)
            with self.assertRaisesRegex(Exception, "Bad Debt Account"):
                case.action_accept_settlement()
            self.assertEqual(case.state, "draft")

    def test_collector_cannot_settle(self):
        with freeze_time(RUN_DATE):
            case = self._settlement()
            with self.assertRaises(AccessError):
                case.with_user(self.collector).action_accept_settlement()
            with self.assertRaises(AccessError):
                case.with_user(self.collector).write({"settlement_amount": 100.0})
            case.action_accept_settlement()
            with self.assertRaisesRegex(Exception, "Agreed Amount: the settlement"):
                case.write({"settlement_amount": 100.0})
            with self.assertRaises(AccessError):
                case.write({"settlement_state": "paid"})

    def test_closed_agency_case_feeds_back_into_risk(self):
        """Any closed case is an outcome: an agency case closed after 1,500.00 of 4,000.00
        was recovered makes the customer high risk (large exposure kept) and asks a credit
        review; the segment stays pinned through the next run."""
        partner = self.customer.with_company(self.company)
        partner.dunning_segment = "low_large"
        move = self._invoice(self.customer, 95, 4000.0)
        self._run()
        case = self._cases().with_user(self.manager)
        # A firm working without commission: no commission accounts needed.
        firm = self._customer("Recover & Co")
        case.write({"resolution_type": "agency", "agency_id": firm.id})
        case.action_open()
        self._pay(move, 1500.0)
        case.action_done()
        self.assertEqual((case.state, case.amount_recovered), ("done", 1500.0))
        self.assertEqual((partner.dunning_segment, partner.dunning_segment_pinned),
                         ("high_large", True))  # fmt: skip
        (review,) = self.env["dunning.event"].search(
            [("partner_id", "=", self.customer.id), ("event_type", "=", "credit_review")]
        )
        self.assertRegex(
            review.note, "Collection agency: .{1,3}0.00 written off, .{1,3}1,500.00 recovered"
        )
        self.assertIn("Low risk, large exposure → High risk, large exposure", review.note)
        self._run(run_date=RUN_DATE + timedelta(days=1))
        partner.invalidate_recordset()
        self.assertEqual(partner.dunning_segment, "high_large")
