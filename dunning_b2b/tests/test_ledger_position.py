from datetime import date, timedelta

from odoo.tests import tagged

from .common import RUN_DATE, DunningCommon
from .lines_common import LinesMixin

# The ledger figures of a snapshot (the history's, computed from the profiles, are left out).
LEDGER = (
    "opening", "credit_sales", "closing", "closing_current", "closing_overdue", "collected",
    "written_off", "cei", "dso", "dso_countback", "best_dso", "add", "weighted_dpd", "bad_debt",
    "date_to",
)  # fmt: skip


@tagged("post_install", "-at_install")
class TestLedgerPosition(LinesMixin, DunningCommon):
    """The company's ledger snapshots add up each customer's positions, and the daily close
    computes again only the positions of the customers whose data changed or whom the date
    moves by more than a day (issue 15: "KPI snapshots ... only on customers whose data
    changed"; the close read the whole ledger every day, 0.9 s at 100,000 lines)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._date_moved_customers()
        cls.netted = cls._customer("Oak Netted", "ap@oak.test")
        cls.netted_invoice = cls._invoice(cls.netted, 45, 800.0)
        cls._credit_note(cls.netted, 200.0, days_ago=50)

    def _snapshots(self):
        Snapshot = self.env["dunning.kpi.snapshot"].sudo()
        rows = Snapshot.search([("company_id", "=", self.company.id)])
        rows.invalidate_recordset()
        return {
            (row.month, row.period): {
                name: round(row[name], 6) if isinstance(row[name], float) else row[name]
                for name in LEDGER
            }
            for row in rows
        }

    def _positions(self):
        Position = self.env["dunning.ledger.position"].sudo()
        rows = Position.search([("company_id", "=", self.company.id)])
        rows.invalidate_recordset()
        return {row.partner_ref: row for row in rows}

    def _run_company(self, day):
        stats = self._run(run_date=RUN_DATE + timedelta(days=day), companies=self.company)
        self.assertFalse(stats["failed_steps"])
        return stats

    def _pay_on(self, move, amount, day):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({"amount": amount, "payment_date": day})._create_payments()

    def test_added_up_positions_equal_the_whole_ledger(self):
        """Days 1, 2, 5, 9 and 12 of March, each run going on from the one before, with a
        part payment, a payment dated in February (after February's snapshot was taken), a
        new invoice and an invoice and an instalment falling due: after each run, every
        snapshot equals the one computed again from the whole ledger."""
        self._run_company(0)
        Kpi = self.env["dunning.kpi"].sudo()
        events = {
            1: lambda: self._pay_on(self.overdue, 200.0, RUN_DATE + timedelta(days=1)),
            5: lambda: self._pay_on(self.netted_invoice, 300.0, date(2026, 2, 15)),
            9: lambda: self._invoice_on(self.soon, RUN_DATE, RUN_DATE + timedelta(days=2), 90.0),
        }
        kept = 0
        for day in (1, 2, 5, 9, 12):
            if day in events:
                events[day]()
            self._run_company(day)
            kept += sum(p.base_date < RUN_DATE + timedelta(days=day)
                        for p in self._positions().values())  # fmt: skip
            after_run = self._snapshots()
            again = self._as_computed_again(
                lambda d=day: Kpi._refresh_company(self.company, RUN_DATE + timedelta(days=d)),
                self._snapshots,
            )
            self.assertEqual(after_run, again, f"day {day}")
        self.assertGreater(kept, 4, "positions were kept from an earlier day, not all computed")

    def test_the_close_computes_the_changed_customers_only(self):
        self._run_company(0)
        positions = self._positions()
        self.assertEqual(positions[self.soon.id].recompute_date, RUN_DATE + timedelta(days=4),
                         "the day after its due date")  # fmt: skip
        last_due = max(self.split.invoice_ids.line_ids.filtered("date_maturity").mapped(
            "date_maturity"))  # fmt: skip
        self.assertEqual(positions[self.split.id].recompute_date, last_due + timedelta(days=1))
        self._pay_on(self.overdue, 200.0, RUN_DATE + timedelta(days=1))
        self._run_company(1)
        positions = self._positions()
        day_1 = RUN_DATE + timedelta(days=1)
        self.assertEqual(positions[self.customer.id].base_date, day_1, "it paid")
        # (Oak Netted reaches a new stage on day 1: the ladder's writes journal it too.)
        for partner in (self.split, self.soon):
            self.assertEqual(positions[partner.id].base_date, RUN_DATE, partner.name)
        # Open at the end of December only: nothing to shift, nothing to compute again.
        self.assertEqual(positions[self.paid.id].now, [])
        self.assertEqual(list(positions[self.paid.id].past), ["2025-12-31"])
        self.assertFalse(positions[self.paid.id].recompute_date)
        self._run_company(4)
        self.assertEqual(self._positions()[self.soon.id].base_date, RUN_DATE + timedelta(days=4))
        self.assertEqual(self._positions()[self.split.id].base_date, RUN_DATE)

    def test_a_payment_dated_last_month_changes_last_months_snapshot(self):
        self._run_company(0)
        february = self._snapshots()[date(2026, 2, 1), "month"]
        self._pay_on(self.netted_invoice, 300.0, date(2026, 2, 15))
        self._run_company(1)
        after = self._snapshots()[date(2026, 2, 1), "month"]
        self.assertEqual(after["closing_overdue"], february["closing_overdue"] - 300)
        self.assertEqual(after["closing"], february["closing"] - 300)

    def test_a_setting_computes_every_position_again(self):
        self._run_company(0)
        self.company.write({"dunning_letter_deadline_days": 9})
        self._run_company(1)
        self.assertEqual(
            {p.base_date for p in self._positions().values()}, {RUN_DATE + timedelta(days=1)}
        )
