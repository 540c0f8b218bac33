from datetime import date, timedelta

from odoo.tests import tagged
from odoo.tools import SQL

from ..engine.worklist import OpenFigures
from .common import RUN_DATE, DunningCommon
from .lines_common import LinesMixin

# What a worklist row shows; the dates of its next computation are left out (a row shifted
# by the day keeps the one computed with it).
FIGURES = (
    "exposure", "overdue_amount", "open_count", "max_days_overdue", "level_id", "priority",
    "priority_growth", "needs_action", "next_action", "next_action_date", "next_action_today",
    "last_contact_date", "segment", "risk_level", "credit_hold", "excluded", "letter_due",
    "promise_open", "dispute_open", "avg_days_late", "on_time_share",
)  # fmt: skip


@tagged("post_install", "-at_install")
class TestWorklistShift(LinesMixin, DunningCommon):
    """On a new day, a worklist row that only gets a day older is shifted by the day in SQL,
    not computed again (issue 15: the daily checks work "only on customers whose data
    changed"; 9,998 of 10,000 rows were computed again each day at 100,000 lines)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.overdue = cls._invoice(cls.customer, 20, 500.0)
        # Overdue, covered by an open credit note.
        cls.covered = cls._customer("Birch Covered", "ap@birch.test")
        cls._invoice(cls.covered, 10, 400.0)
        cls._credit_note(cls.covered, 1000.0)
        # One instalment overdue, the other falling due on day 50.
        cls.split = cls._customer("Cedar Split", "ap@cedar.test")
        cls._instalment_invoice(cls.split, RUN_DATE - timedelta(days=40), 1000.0)
        # Excluded from dunning: never contacted, its next action is of every day.
        cls.excluded = cls._customer("Dune Excluded", "ap@dune.test")
        cls._invoice(cls.excluded, 30, 700.0).dunning_excluded = True
        # Not due yet: falls due in three days.
        cls.soon = cls._customer("Elm Soon", "ap@elm.test")
        cls._invoice(cls.soon, -3, 250.0)
        # No email address: a task for the collector instead of a reminder.
        cls.silent = cls._customer("Fir Silent")
        cls._invoice(cls.silent, 5, 90.0)
        cls.customers = (
            cls.customer | cls.covered | cls.split | cls.excluded | cls.soon | cls.silent
        )

    def _rows(self):
        return self.env["dunning.worklist"].search(
            [("company_id", "=", self.company.id), ("partner_id", "in", self.customers.ids)]
        )

    def _figures(self):
        rows = self._rows()
        rows.invalidate_recordset()
        return {row.partner_id.name: row.read(list(FIGURES))[0] for row in rows}

    def _run_company(self, day):
        return self._run(run_date=RUN_DATE + timedelta(days=day), companies=self.company)

    def _shift_day(self, row):
        """A day on which ``row`` is shifted: before its next computation."""
        self.assertGreater(row.recompute_date, RUN_DATE + timedelta(days=1))
        return 1

    def test_a_shifted_row_equals_the_row_computed_again(self):
        """Days 1, 2, 5, 9 and 12 (days skipped, an instalment and an invoice falling due,
        a contact interval ending): after each run, every row equals the row computed again
        from the ledger that day."""
        self._run_company(0)
        shifted = 0
        for day in (1, 2, 5, 9, 12):
            stats = self._run_company(day)
            shifted += stats["worklist_shifted"]
            after_run = self._figures()
            self.env["dunning.worklist"].sudo()._refresh(
                self.company, RUN_DATE + timedelta(days=day), partners=self.customers,
                checks=False,
            )  # fmt: skip
            self.assertEqual(self._figures(), after_run, f"day {day}")
        self.assertGreater(shifted, 5, "rows were shifted, not only computed again")
        rows = {row.partner_id: row for row in self._rows()}
        self.assertEqual(rows[self.customer].max_days_overdue, 32)
        self.assertTrue(rows[self.excluded].next_action_today)
        self.assertEqual(rows[self.excluded].next_action_date, RUN_DATE + timedelta(days=12))
        self.assertEqual(rows[self.soon].max_days_overdue, 9)

    def test_a_shifted_row_is_not_read_again(self):
        """The overdue customer's row on a day before its next computation: a day older
        and the priority a day higher, what else it holds left as it was."""
        self._run_company(0)
        row = self._rows().filtered(lambda r: r.partner_id == self.customer)
        self.assertEqual(row.max_days_overdue, 20)
        weight = row.priority_growth / 500  # the risk level's
        self.assertEqual(row.priority, round(500 * weight * 20))
        day = self._shift_day(row)
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE dunning_worklist SET overdue_amount = 1 WHERE id = %s", row.id)
        )
        stats = self._run_company(day)
        self.assertGreaterEqual(stats["worklist_shifted"], 1)
        row.invalidate_recordset()
        self.assertEqual(row.refresh_date, RUN_DATE + timedelta(days=day))
        self.assertEqual(row.max_days_overdue, 20 + day)
        self.assertEqual(row.priority, round(500 * weight * (20 + day)))
        self.assertEqual(row.overdue_amount, 1.0, "not computed again")

    def test_a_journaled_customer_is_computed_not_shifted(self):
        self._run_company(0)
        row = self._rows().filtered(lambda r: r.partner_id == self.customer)
        day = self._shift_day(row)
        weight = row.priority_growth / 500
        self._pay(self.overdue, 200.0)
        self._run_company(day)
        self.assertEqual(row.overdue_amount, 300.0)
        self.assertEqual(row.priority_growth, 300 * weight)
        self.assertEqual(row.priority, round(300 * weight * (20 + day)))

    def test_a_paused_line_is_computed_each_day(self):
        """A pause ends by date (a promise, a reply): the row is computed again each day
        while an overdue line is paused."""
        self._run_company(0)
        self.env["dunning.dispute"].create(
            {"move_id": self.overdue.id, "reason": "pricing", "owner_id": self.collector.id}
        )
        self._run_company(1)
        row = self._rows().filtered(lambda r: r.partner_id == self.customer)
        self.assertEqual(row.recompute_date, RUN_DATE + timedelta(days=2))

    def test_a_new_quarter_computes_the_row_again(self):
        """The stage trend counts by quarter: a row computed in December is computed again
        on 1 January (it was 1 October of the next year)."""
        Worklist = self.env["dunning.worklist"]
        figures = OpenFigures()
        for day, expected in (
            (date(2026, 12, 20), date(2027, 1, 1)),
            (date(2026, 3, 31), date(2026, 4, 1)),
            (date(2026, 8, 15), date(2026, 10, 1)),
        ):
            recompute = Worklist._get_recompute_date(day, figures, None, None, None, self.company)
            self.assertEqual(recompute, expected)
