from datetime import date, timedelta

from psycopg2.errors import LockNotAvailable

from odoo import Command, sql_db
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.dunning_ledger_position import POSITION_LOCK
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

    def test_a_setting_keeps_the_positions(self):
        """A setting the positions do not read (a ladder's deadline, a currency rate) is
        journaled for every customer, but computes none of their positions again: before,
        any setting made the next close read the whole ledger."""
        self._run_company(0)
        self.company.write({"dunning_letter_deadline_days": 9})
        self.env["res.currency.rate"].create(
            {"name": RUN_DATE, "rate": 1.25, "currency_id": self.env.ref("base.USD").id}
        )
        self._run_company(1)
        positions = self._positions()
        for partner in (self.split, self.soon, self.paid):
            self.assertEqual(positions[partner.id].base_date, RUN_DATE, partner.name)

    def test_an_account_made_receivable_computes_every_position_again(self):
        """The positions read the receivable accounts, which the journal does not follow: a
        line on an account made receivable after the positions were computed counts the
        next day, for its customer and in the snapshots."""
        other = self.env["account.account"].create(
            {"name": "Customer Advances Due", "code": "131099", "account_type": "asset_current"}
        )
        revenue = self.company_data["default_account_revenue"]
        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "date": RUN_DATE - timedelta(days=5),
                "line_ids": [
                    Command.create({"account_id": other.id, "partner_id": self.split.id,
                                    "debit": 150.0, "date_maturity": RUN_DATE - timedelta(days=5)}),
                    Command.create({"account_id": revenue.id, "credit": 150.0}),
                ],
            }
        )  # fmt: skip
        entry.action_post()
        self._run_company(0)
        other.write({"account_type": "asset_receivable", "reconcile": True})
        self._run_company(1)
        positions = self._positions()
        self.assertEqual({p.base_date for p in positions.values()}, {RUN_DATE + timedelta(days=1)})
        Kpi = self.env["dunning.kpi"].sudo()
        again = self._as_computed_again(
            lambda: Kpi._refresh_company(self.company, RUN_DATE + timedelta(days=1)),
            self._snapshots,
        )
        self.assertEqual(self._snapshots(), again)

    def test_a_contact_without_customer_stays_in_the_lines_without_one(self):
        """Row 0 holds the lines without a customer, also those of a contact whose
        commercial partner is empty (written by SQL): computed again for some customers
        only, it kept them (it lost them: it read the lines without a partner alone)."""
        Position = self.env["dunning.ledger.position"].sudo()
        Kpi = self.env["dunning.kpi"].sudo()
        first = Kpi._get_window_start(RUN_DATE)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET commercial_partner_id = NULL WHERE id = %s",
            (self.soon.id,),
        )
        Position._compute(self.company, first, RUN_DATE, [RUN_DATE], None,
                          Position._get_accounts_key())  # fmt: skip
        whole = self._positions()[0].now
        self.assertTrue(whole, "the contact's invoice is in row 0")
        Position._compute(self.company, first, RUN_DATE, [RUN_DATE], [0, self.split.id],
                          Position._get_accounts_key())  # fmt: skip
        self.assertEqual(self._positions()[0].now, whole)

    def test_two_closes_of_a_company_compute_its_positions_one_after_the_other(self):
        """Two closes of one company at once (two runs of the day) would insert the same
        customers' positions, and the second would fail on the unique index: the second
        waits for the first's transaction."""
        self._run_company(0)
        other = sql_db.db_connect(self.env.cr.dbname).cursor()  # another worker's transaction
        try:
            other.execute("SET lock_timeout = '300ms'")
            with mute_logger("odoo.sql_db"), self.assertRaises(LockNotAvailable):
                other.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", (POSITION_LOCK, self.company.id)
                )
        finally:
            other.close()
