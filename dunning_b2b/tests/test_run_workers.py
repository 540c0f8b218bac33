import time
from contextlib import ExitStack, nullcontext
from unittest.mock import patch

from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestRunWorkers(DunningCommon):
    """The daily run as batches any number of workers share (issue 15: "each taking
    disjoint batches under row locks"); the concurrency itself is measured by
    ``bench/run_bench.py`` and ``bench/crash.py`` with two processes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("dunning_b2b.batch_size", 1)
        cls.others = [cls._customer(f"Customer {i}", f"ap{i}@c.test") for i in range(3)]
        for partner in [cls.customer, *cls.others]:
            cls._invoice(partner, 20, 100.0)

    def _patch_first_batch(self, first):
        """A patch of the batches' work: the first batch claimed returns ``first()``
        instead, the others are processed. Returns the patch and the list that gets the
        first batch's id."""
        Batch = type(self.env["dunning.run.batch"])
        original = Batch._process
        seen = []

        def process(batch, stats, commit):
            if not seen:
                seen.append(batch.id)
                return first()
            return original(batch, stats, commit)

        return patch.object(Batch, "_process", process), seen

    def _runs(self):
        return self.env["dunning.run"].search([], order="id")

    def test_one_batch_per_customer_each_done_once(self):
        stats = self._run(companies=self.company)
        run = self._runs()[-1]
        run.invalidate_recordset()
        self.assertEqual(run.state, "done")
        ladder = run.batch_ids.filtered(lambda b: b.phase == "ladder")
        customers = [p for b in ladder for p in b._get_partner_ids()]
        self.assertEqual(len(customers), 4)
        self.assertEqual(len(set(customers)), 4, "no customer in two batches")
        self.assertEqual(set(run.batch_ids.mapped("state")), {"done"})
        self.assertEqual(set(run.batch_ids.mapped("phase")), {"ladder", "company", "customers",
                                                              "profiles", "close"})  # fmt: skip
        self.assertEqual(stats["customers"], 4)

    def test_each_batch_records_its_time_and_its_emails_share(self):
        """Issue 15: "each phase timed apart; the table shows generation, queuing and
        delivery": a batch records how long its work took and, of it, the reminders'
        rendering and queuing, which the benchmark adds up per phase."""
        self.formal.automatic = True  # the invoices' stage: its reminders go out at once
        stats = self._run(companies=self.company)
        self.assertEqual(stats["emails"], 4, "one reminder per customer")
        run = self._runs()[-1]
        run.batch_ids.invalidate_recordset()
        for batch in run.batch_ids:
            self.assertGreaterEqual(batch.duration, 0.0, batch.phase)
            self.assertTrue(batch.date_start and batch.date_done, batch.phase)
            self.assertLessEqual(batch.date_start, batch.date_done)
            self.assertLessEqual(batch.email_duration, batch.duration, batch.phase)
        ladder = run.batch_ids.filtered(lambda b: b.phase == "ladder")
        self.assertTrue(all(b.email_duration > 0.0 for b in ladder), "each sent a reminder")
        self.assertTrue(all(b.duration > b.email_duration for b in ladder), "and did more")
        self.assertEqual(sum((run.batch_ids - ladder).mapped("email_duration")), 0.0)
        self.assertAlmostEqual(
            sum(ladder.mapped("email_duration")), stats["email_seconds"], delta=0.01
        )

    def test_the_customers_checks_are_split_like_the_ladder(self):
        """The checks of a company's customers come in batches no larger than the ladder's,
        so that a second worker shares them (10,000 lines: one chunk of 800 customers kept
        one of two workers busy 2.6 s while the other had nothing left)."""
        self._run(companies=self.company)
        run = self._runs()[-1]
        chunks = run.batch_ids.filtered(lambda b: b.phase == "customers")
        sizes = [len(b._get_partner_ids()) for b in chunks]
        self.assertGreaterEqual(len(sizes), 4, "one batch per customer at a batch size of 1")
        self.assertEqual(set(sizes), {1})

    def _kpi_rows(self):
        Analysis, Profile = self.env["dunning.analysis"], self.env["dunning.customer.kpi"]
        domain = [("company_id", "=", self.company.id)]
        rows = Analysis.search_read(domain, ["month", "level_id", "currency_id", "segment",
                                             "collector_id", "entered_count", "open_count",
                                             "resolved_count", "entered_amount",
                                             "recovered_amount"])  # fmt: skip
        self.assertTrue(rows, "stage outcomes written")
        rows += Profile.search_read(domain, ["partner_id", "open_amount", "level_id"])
        return sorted(({k: v for k, v in row.items() if k != "id"} for row in rows), key=repr)

    def test_the_kpi_profiles_are_batches_that_add_up_to_the_company(self):
        """Each customer's KPI profile is computed in a batch of the "profiles" phase (any
        worker may take it); the close adds their shares up to the company's stage
        outcomes: the same rows as a refresh of the whole company in one go."""
        Engine = type(self.env["dunning.engine"])
        with patch.object(Engine, "_get_chunk_size", lambda engine: 1):
            self._run(companies=self.company)
        run = self._runs()[-1]
        profiles = run.batch_ids.filtered(lambda b: b.phase == "profiles")
        self.assertEqual(len(profiles), 4, "one batch per customer at a chunk size of 1")
        batched = self._kpi_rows()
        self.assertEqual(len([row for row in batched if "partner_id" in row]), 4)
        self.env["dunning.kpi"]._refresh_company(self.company, self.run_date)
        self.assertEqual(self._kpi_rows(), batched)

    def test_a_killed_worker_batch_is_taken_by_the_next(self):
        """A worker killed in a batch leaves it to do (its transaction rolled back): the next
        worker on that day resumes the same run and does the batch once."""
        # As if the worker stopped in its first batch (the cron's time was up).
        dying, calls = self._patch_first_batch(lambda: False)
        with dying:
            self._run(companies=self.company)
        run = self._runs()[-1]
        run.invalidate_recordset()
        self.assertEqual(run.state, "running")
        todo = run.batch_ids.filtered(lambda b: b.state == "todo")
        self.assertIn(calls[0], todo.ids, "the worker's batch is still to do")
        self._run(companies=self.company)
        self.assertEqual(self._runs(), run, "the same run resumed")
        self.assertEqual(run.state, "done")
        events = self.env["dunning.event"].search(
            [("event_type", "=", "stage"), ("company_id", "=", self.company.id)]
        )
        self.assertEqual(len(events), 4, "each line entered its stage once")

    def test_a_run_of_an_earlier_day_is_abandoned(self):
        Batch = type(self.env["dunning.run.batch"])
        original = Batch._process
        Batch._process = lambda batch, stats, commit: False
        try:
            self._run(companies=self.company)
        finally:
            Batch._process = original
        stale = self._runs()[-1]
        self._run(run_date=self.run_date.replace(day=3), companies=self.company)
        self.assertEqual(stale.state, "abandoned")
        self.assertEqual(self._runs()[-1].state, "done")

    def test_the_plan_gives_a_new_company_its_ladder(self):
        """Found by the two-worker benchmark: two workers creating a company's default
        ladder at once clashed on its unique name, and the loser failed on all 500 customers
        of its batch. The plan creates it, before any worker takes a batch."""
        other = self.setup_other_company(name="New Co")["company"]
        self._invoice(self.customer, 20, 100.0, company=other)
        self.assertFalse(self.env["dunning.policy"].search([("company_id", "=", other.id)]))
        Batch = type(self.env["dunning.run.batch"])
        with patch.object(Batch, "_process", lambda batch, stats, commit: False):
            self._run(companies=other)
        self.assertTrue(other.dunning_policy_id, "created with the plan, no batch processed")

    def _as_cron(self):
        """Commits as the cron makes them (commit=True), without ending the test's
        transaction."""
        stack = ExitStack()
        stack.enter_context(patch.object(self.env.cr, "commit", lambda: None))
        stack.enter_context(patch.object(self.env.cr, "rollback", lambda: None))
        return stack

    def _cron_call(self, seconds):
        """One call of the daily run's cron, given ``seconds`` (Odoo gives about 10);
        returns the progress it reported to Odoo."""
        cron = self.env.ref("dunning_b2b.ir_cron_dunning")
        cron, progress = cron._add_progress()
        engine = (
            self.env["dunning.engine"]
            .sudo()
            .with_context(
                cron_id=cron.id,
                ir_cron_progress_id=progress.id,
                cron_end_time=time.monotonic() + seconds,
            )
        )
        engine._run_worker(self.run_date, commit=True, companies=self.company)
        return progress

    def test_a_cron_worker_whose_time_is_up_is_called_again_at_once(self):
        """Found by review: a cron worker whose time was up reported nothing left, so Odoo
        called it again the next day and the run stopped after its first ~10 seconds. It
        reports the batches left, so that Odoo calls it again at once; the call that ends
        the run reports nothing left (called again tomorrow)."""
        with self._as_cron():
            first = self._cron_call(-1)
            run = self._runs()[-1]
            self.assertEqual(run.state, "running")
            self.assertEqual(first.done, 1, "one batch of one customer")
            self.assertGreater(first.remaining, 0)
            last = self._cron_call(3600)
        self.assertEqual(self._runs(), run, "the same run resumed")
        self.assertEqual(run.state, "done")
        self.assertEqual(last.remaining, 0)

    def test_a_batch_that_raises_is_marked_failed_and_the_run_goes_on(self):
        """Found by review: a batch whose work raised outside the customers' own
        savepoints stopped every worker that claimed it, and the run stalled. It is marked
        done and failed (its customers' changes are read again by the next run) and the
        workers go on."""

        def defect():
            raise ValueError("a defect in one batch")

        raising, failing = self._patch_first_batch(defect)
        with (
            self._as_cron(),
            raising,
            self.assertLogs("odoo.addons.dunning_b2b.models.dunning_run", "ERROR"),
        ):
            stats = (
                self.env["dunning.engine"]
                .sudo()
                ._run_worker(self.run_date, commit=True, companies=self.company)
            )
        run = self._runs()[-1]
        run.invalidate_recordset()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.batch_ids.filtered("failed").ids, failing)
        self.assertEqual(stats["failed_batches"], 1)
        self.assertEqual(stats["customers"], 3, "the other customers of the ladder")
        # The ladder read the journal when it planned: its failed batch's customers are
        # journaled again, for the next run (a new day would not evaluate them otherwise).
        failed = run.batch_ids.filtered("failed")
        self.assertEqual(failed.phase, "ladder")
        self.assertTrue(failed.date_start and failed.date_done, "the time lost on it recorded")
        mark = self.env["dunning.daily.mark"]._get_mark(self.company)
        journaled, _everyone = self.env["dunning.change"]._read_changes(
            self.company, mark, ladder=True
        )
        self.assertLessEqual(set(failed._get_partner_ids()), journaled)

    def test_an_extra_worker_only_joins(self):
        stats = self.env["dunning.engine"].sudo()._run_worker(self.run_date, commit=False,
                                                              join_only=True)  # fmt: skip
        self.assertFalse(stats)
        self.assertFalse(self._runs(), "an extra worker never starts a run")

    def test_starting_a_run_calls_the_extra_workers(self):
        """A committed run (the cron's) triggers the extra worker crons once it exists;
        a copy of the extra worker cron is one more worker."""
        cron = self.env.ref("dunning_b2b.ir_cron_dunning_worker")
        copy = cron.copy({"active": True})
        Engine = self.env["dunning.engine"]
        self.assertEqual(Engine._get_worker_crons(), cron | copy)
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search_count([("cron_id", "in", (cron | copy).ids)])
        Run = type(self.env["dunning.run"])
        # As the cron does it (commit=True) but without committing the test's transaction.
        with patch.object(Run, "_planning", lambda run, commit: nullcontext()):
            self.env["dunning.run"].sudo()._join_or_start(
                self.run_date, self.company, self.env.user, True, False
            )
        self.assertEqual(Trigger.search_count([("cron_id", "in", (cron | copy).ids)]), before + 2)

    def test_collectors_cannot_forge_a_run(self):
        from odoo.exceptions import AccessError  # noqa: PLC0415

        with self.assertRaises(AccessError):
            self.env["dunning.run"].with_user(self.collector).create({"run_date": self.run_date})
        with self.assertRaises(AccessError):
            self.env["dunning.change"].with_user(self.manager).create({"partner_id": 1})
