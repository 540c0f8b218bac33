import importlib.util
from datetime import date, timedelta
from unittest.mock import patch

import psycopg2

from odoo.tests import tagged
from odoo.tools import SQL, file_path

from ..engine.worklist import OpenFigures
from .common import RUN_DATE, DunningCommon
from .lines_common import LinesMixin

# What a worklist row shows; the dates of its next computation are left out (a row shifted
# by the day keeps the one computed with it).
FIGURES = (
    "exposure", "overdue_amount", "open_count", "max_days_overdue", "level_id", "priority",
    "priority_growth", "needs_action", "next_action", "next_action_date", "next_action_today",
    "last_contact_date", "segment", "risk_level", "risk_reasons", "credit_hold", "excluded",
    "letter_due", "promise_open", "dispute_open", "avg_days_late", "on_time_share",
    "promise_kept_ratio", "dispute_count", "collector_id", "credit_review",
    "rank_this_quarter", "rank_last_quarter",
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

    def _row(self, partner):
        return self.env["dunning.worklist"].search(
            [("company_id", "=", self.company.id), ("partner_id", "=", partner.id)]
        )

    def _computed_again(self, partner, day):
        """The row's figures as the run left them, and computed again from the ledger."""
        row = self._row(partner)
        row.invalidate_recordset()
        after_run = row.read(list(FIGURES))[0]
        again = self._as_computed_again(
            lambda: (
                self.env["dunning.worklist"]
                .sudo()
                ._refresh(
                    self.company, RUN_DATE + timedelta(days=day), partners=partner, checks=False
                )
            ),
            lambda: row.read(list(FIGURES))[0],
        )
        return after_run, again

    def test_a_shifted_row_equals_the_row_computed_again(self):
        """Days 1, 2, 5, 9 and 12 (days skipped, an instalment and an invoice falling due,
        a contact interval ending), each run going on from the one before: after each run,
        every row equals the row computed again from the ledger that day."""
        self._run_company(0)
        shifted = 0
        for day in (1, 2, 5, 9, 12):
            stats = self._run_company(day)
            shifted += stats["worklist_shifted"]
            after_run = self._figures()
            again = self._as_computed_again(
                lambda d=day: self.env["dunning.worklist"].sudo()._refresh(
                    self.company, RUN_DATE + timedelta(days=d), partners=self.customers,
                    checks=False,
                ),
                self._figures,
            )  # fmt: skip
            self.assertEqual(again, after_run, f"day {day}")
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

    def test_a_row_written_before_the_upgrade(self):
        """19.0.2.7.0 adds the daily growth as empty columns: a row computed again writes
        only what differs from what it holds, and an empty column reads as zero. The
        migration starts them at zero, so that a good payer's days late are shifted right."""
        good = self._customer("Hazel Good", "ap@hazel.test")
        self._paid_invoice(good, RUN_DATE - timedelta(days=70), RUN_DATE - timedelta(days=40),
                           1000.0, RUN_DATE - timedelta(days=30))  # fmt: skip
        self._invoice(good, -20, 500.0)
        self._run_company(0)
        row = self._row(good)
        self.assertEqual(row.avg_days_late, 10.0)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE dunning_worklist
                      SET base_date = NULL, priority_base = NULL, priority_growth = NULL,
                          late_amount_days = NULL, late_amount = NULL, late_open_amount = NULL,
                          next_action_today = NULL
                    WHERE company_id = %s""",
                self.company.id,
            )
        )
        path = file_path("dunning_b2b/migrations/19.0.2.7.0/post-migrate.py")
        spec = importlib.util.spec_from_file_location("dunning_post_migrate_19_0_2_7_0", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "19.0.2.6.0")
        self.env.invalidate_all()
        self._run_company(1)  # computed again
        stats = self._run_company(2)  # shifted
        self.assertGreaterEqual(stats["worklist_shifted"], 1)
        after_run, again = self._computed_again(good, 2)
        self.assertEqual(after_run, again)
        self.assertEqual(after_run["avg_days_late"], 10.0)

    def test_a_credit_review_shows_the_next_day(self):
        """The credit review's task is created after the row is computed: the row is
        computed again the next day (not shifted), and shows it."""
        self.formal.sudo().write({"automatic": True, "create_activity": False})
        worse = self._customer("Ivy Worse", "ap@ivy.test")
        move = self._invoice(worse, 20, 800.0)
        ranks = self.env["dunning.worklist"]._get_ranks(self.company)
        first, third = (min(ranks, key=ranks.get),
                        next(level for level, rank in ranks.items() if rank == 3))  # fmt: skip
        self.env["dunning.event"].sudo().create(
            [
                {"event_type": "stage", "date": date(2025, 11, 15), "partner_id": worse.id,
                 "company_id": self.company.id, "level_id": first, "move_id": move.id},
                {"event_type": "stage", "date": date(2026, 2, 20), "partner_id": worse.id,
                 "company_id": self.company.id, "level_id": third, "move_id": move.id},
            ]
        )  # fmt: skip
        self._run_company(0)
        row = self._row(worse)
        self.assertTrue(row.credit_review)
        self.assertEqual(row.recompute_date, RUN_DATE + timedelta(days=1))
        self._run_company(1)
        after_run, again = self._computed_again(worse, 1)
        self.assertEqual(after_run, again)
        self.assertIn("Credit review", after_run["next_action"])

    def test_the_days_the_date_changes_a_row(self):
        """Beyond its items falling due: a document dated ahead reaching its date, a paid
        invoice leaving the twelve months of the payment history, a reply dated ahead."""
        ahead = self._customer("Juniper Ahead", "ap@juniper.test")
        self._invoice(ahead, 10, 100.0)  # past its grace days
        self._invoice_on(ahead, RUN_DATE + timedelta(days=5), RUN_DATE + timedelta(days=35),
                         900.0)  # fmt: skip
        old = self._customer("Kauri Old", "ap@kauri.test")
        self._paid_invoice(old, RUN_DATE - timedelta(days=390), RUN_DATE - timedelta(days=361),
                           400.0, RUN_DATE - timedelta(days=361))  # fmt: skip
        self._invoice(old, -20, 300.0)
        self._run_company(0)
        self.assertEqual(self._row(ahead).recompute_date, RUN_DATE + timedelta(days=5))
        self.assertEqual(self._row(ahead).exposure, 100.0, "not read before its date")
        self.assertEqual(self._row(old).recompute_date, RUN_DATE + timedelta(days=4),
                         "it leaves the twelve months 365 days after its due date")  # fmt: skip
        self._run_company(5)
        self.assertEqual(self._row(ahead).exposure, 1000.0)
        # A reply dated the day after the run (the recorder's time zone is ahead).
        self.env["dunning.reply"].sudo().create(
            {"partner_id": self.customer.id, "company_id": self.company.id,
             "date": "2026-03-08 23:30:00", "reply_date": RUN_DATE + timedelta(days=7),
             "pause_until": RUN_DATE + timedelta(days=20)}
        )  # fmt: skip
        self._run_company(6)
        self.assertEqual(self._row(self.customer).recompute_date, RUN_DATE + timedelta(days=7))

    def test_rows_written_meanwhile_are_computed_again(self):
        """Another transaction wrote some of the rows since the plan began: the shift is
        left, and the rows it would have moved are computed again."""
        self._run_company(0)
        Worklist = type(self.env["dunning.worklist"])

        def conflict(worklist, *args, **kwargs):
            raise psycopg2.errors.SerializationFailure("could not serialize access")

        with patch.object(Worklist, "_shift_update", conflict):
            stats = self._run_company(1)
        self.assertFalse(stats["worklist_shifted"])
        self.assertFalse(stats["failed_steps"])
        self.assertEqual(stats["customers_checked"], len(self._rows()))
        self.assertEqual(set(self._rows().mapped("refresh_date")), {RUN_DATE + timedelta(days=1)})
