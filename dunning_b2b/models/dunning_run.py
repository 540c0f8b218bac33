import logging
import os
import socket
import threading
import time
from collections import Counter

import psycopg2

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# The phases of a daily run, in order; each starts when every batch of the one before is
# done. "ladder": the open lines of a batch of customers; "company": a company's checks that
# read its own records (promises due, deadlines, proposals); "customers": the checks of a
# chunk of customers whose data changed (holds, worklist rows); "profiles": the KPI profiles
# of a chunk of customers; "close": a company's KPI totals and the journal mark.
PHASES = ("ladder", "company", "customers", "profiles", "close")
PHASE_LABELS = [
    ("ladder", "Ladder"),
    ("company", "Company Checks"),
    ("customers", "Customer Checks"),
    ("profiles", "Customer Profiles"),
    ("close", "Closing"),
]
# Key of the session-level advisory lock under which a run is created or its next phase
# planned (one planner at a time; claiming batches needs no lock of its own).
PLAN_LOCK = 7_326_118_001
# How long a worker with nothing to claim waits before looking again for batches others
# are finishing: a phase's first batches wait for it (0.2 s cost 10,000 lines about 0.2 s
# with two workers; a look is one indexed query).
WAIT_SECONDS = 0.05


class DunningRun(models.Model):
    """One daily run, shared by every worker that takes part in it: the cron's own thread,
    the extra worker crons, or several Odoo processes or machines on one database. Its
    batches (``dunning.run.batch``) are claimed one at a time under row locks
    (``FOR UPDATE SKIP LOCKED``), so that two workers never process a customer twice; a
    batch is done in the same transaction as its work, so a killed worker's batch is simply
    taken again."""

    _name = "dunning.run"
    _description = "Dunning Daily Run"
    _order = "id desc"

    run_date = fields.Date(required=True, readonly=True, index=True)
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("abandoned", "Abandoned")],
        required=True,
        default="running",
        readonly=True,
    )
    phase = fields.Selection(PHASE_LABELS, required=True, default="ladder")
    company_ids = fields.Many2many("res.company", string="Companies", readonly=True)
    user_id = fields.Many2one("res.users", string="On Behalf Of", readonly=True)
    batch_ids = fields.One2many("dunning.run.batch", "run_id", readonly=True)

    # -------------------------------------------------------------- workers
    @api.model
    def _work(self, run_date, companies, user, commit, join_only=False):
        """Take part in the run of ``run_date``: join the one under way or start it (unless
        ``join_only``), then claim and process batches until the run is done.

        :return: Counter of what this worker did
        """
        stats = Counter()
        run = self._join_or_start(run_date, companies, user, commit, join_only, stats)
        if not run:
            return stats
        worker = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        Batch = self.env["dunning.run.batch"]
        while True:
            try:
                batch = Batch._claim(run, worker)
            except psycopg2.errors.SerializationFailure:
                if not commit:
                    raise
                # A batch taken and done by another worker after this transaction's snapshot
                # began: start again from a fresh one.
                self.env.cr.rollback()
                self.env.invalidate_all()
                continue
            if batch:
                if not self._process_safely(batch, stats, commit):
                    break  # the cron's time is up: it is called again at once and resumes
                continue
            if Batch._pending(run):
                if not commit:
                    break  # another transaction holds them: nothing to wait for here
                # Committed (nothing to): a fresh snapshot sees what the others commit.
                self.env["ir.cron"]._commit_progress()
                time.sleep(WAIT_SECONDS)
                continue
            if not self._advance(run, commit, stats):
                if commit:
                    # The run is over (closed by this worker or another): nothing is left
                    # for the cron today, which Odoo then calls again tomorrow.
                    self.env["ir.cron"]._commit_progress(remaining=0)
                break
        return stats

    @api.model
    def _process_safely(self, batch, stats, commit):
        """``batch._process``; a batch whose work raises is marked done and failed in a
        transaction of its own (its customers' changes stay in the journal, read again by
        the next run), so that no batch stops every worker that claims it. A serialization
        failure (another transaction wrote the same rows) leaves the batch to be claimed
        again.

        :return: whether the worker goes on (False: the cron's time is up)
        """
        if not commit:
            return batch._process(stats, commit)
        date_start, started = fields.Datetime.now(), time.perf_counter()
        try:
            return batch._process(stats, commit)
        except psycopg2.errors.SerializationFailure:
            _logger.info("Dunning run: batch %s met a concurrent update, taken again", batch.id)
            self.env.cr.rollback()
            self.env.invalidate_all()
            return True
        except Exception:
            _logger.exception("Dunning run: batch %s failed, marked failed", batch.id)
            self.env.cr.rollback()
            self.env.invalidate_all()
        # Unless another worker claimed it meanwhile (it then tries it again).
        locked = self.env.execute_query(
            SQL(
                """SELECT id FROM dunning_run_batch WHERE id = %s AND state = 'todo'
                    FOR UPDATE SKIP LOCKED""",
                batch.id,
            )
        )
        if locked:
            batch.write(
                {
                    "state": "done",
                    "failed": True,
                    "date_start": date_start,
                    "date_done": fields.Datetime.now(),
                    "duration": time.perf_counter() - started,  # the time lost on it
                }
            )
            stats["failed_batches"] += 1
            if batch.phase == "ladder":
                # The ladder's mark was recorded when it planned: its customers are news for
                # the next run (the same day, or a new day that would not evaluate them).
                self.env["dunning.change"]._journal(batch.company_id, batch._get_partner_ids())
        batch._commit_progress()
        return True

    @api.model
    def _join_or_start(self, run_date, companies, user, commit, join_only, stats=None):
        with self._planning(commit):
            run = self.search(
                [("run_date", "=", run_date), ("state", "=", "running")], order="id desc", limit=1
            )
            if run or join_only:
                return run
            # A run of an earlier day that never finished is left: today's plans anew.
            self.search([("state", "=", "running")]).write({"state": "abandoned"})
            run = self.create(
                {"run_date": run_date, "company_ids": companies.ids, "user_id": user.id}
            )
            run._plan("ladder", stats if stats is not None else Counter())
            if commit:
                # The extra worker crons join once the run is there to join.
                for cron in self.env["dunning.engine"]._get_worker_crons():
                    cron._trigger()
            return run

    def _advance(self, run, commit, stats):
        """Plan the phase after the run's current one (once, whoever comes first).

        :return: whether the run goes on
        """
        with self._planning(commit):
            run.invalidate_recordset()
            if run.state != "running":
                return False
            if self.env["dunning.run.batch"]._pending(run):
                return True  # planned by another worker meanwhile
            for phase in PHASES[PHASES.index(run.phase) + 1 :]:
                run.phase = phase
                # Batches planned ahead (a company's close with its customers) or now.
                if self.env["dunning.run.batch"]._pending(run) or run._plan(phase, stats):
                    return True
            run.state = "done"
            # The one worker that closes the run forgets the journal entries all have read.
            self.env["dunning.change"]._vacuum()
            return False

    def _get_batches(self, company, phase=None, failed=None):
        """The run's batches of ``company`` (read from the table: they are written in SQL)."""
        domain = [("run_id", "=", self.id), ("company_id", "=", company.id)]
        if phase:
            domain.append(("phase", "=", phase))
        if failed is not None:
            domain.append(("failed", "=", failed))
        return self.env["dunning.run.batch"].search(domain)

    def _planning(self, commit):
        """Plan under a session-level advisory lock taken in a transaction of its own, so
        that the planning transaction sees every plan committed before it got the lock."""
        return _PlanningLock(self.env, commit)

    def _plan(self, phase, stats):
        """Create the batches of ``phase`` (``dunning.engine._plan_<phase>``, a list of
        batch values per company); return how many."""
        self.ensure_one()
        engine = self.env["dunning.engine"]
        vals_list = []
        for company in self.company_ids:
            plan = getattr(engine._in_company(company), f"_plan_{phase}", None)
            chunks = plan(company, self, stats) if plan else []
            vals_list += [
                dict({"phase": phase}, **chunk, run_id=self.id, company_id=company.id)
                for chunk in chunks
            ]
        self.env["dunning.run.batch"]._insert(vals_list)
        return len(vals_list)


class _PlanningLock:
    def __init__(self, env, commit):
        self.env = env
        self.commit = commit

    def _commit(self):
        # Outside a cron, this only commits; in the cron, it also records its progress.
        self.env["ir.cron"]._commit_progress()

    def __enter__(self):
        if self.commit:
            self._commit()
            self.env.cr.execute(SQL("SELECT pg_advisory_lock(%s)", PLAN_LOCK))
            self._commit()  # the planning transaction starts after the lock is held

    def __exit__(self, exc_type, exc, tb):
        if not self.commit:
            return
        if exc_type:
            self.env.cr.rollback()
        else:
            self._commit()
        self.env.cr.execute(SQL("SELECT pg_advisory_unlock(%s)", PLAN_LOCK))
        self._commit()


class DunningRunBatch(models.Model):
    """A batch of a run: the customers one worker processes in one transaction."""

    _name = "dunning.run.batch"
    _description = "Dunning Run Batch"
    _order = "id"

    run_id = fields.Many2one("dunning.run", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    phase = fields.Selection(PHASE_LABELS, required=True)
    state = fields.Selection([("todo", "To Do"), ("done", "Done")], default="todo", index=True)
    worker = fields.Char(readonly=True, help="Who processed the batch: host:process:thread.")
    failed = fields.Boolean(readonly=True)
    customer_count = fields.Integer(readonly=True)
    date_only = fields.Boolean(
        readonly=True,
        help="Customers whose data did not change: their worklist rows move with the date alone.",
    )
    change_id = fields.Integer(readonly=True, help="Journal entry the checks read up to.")
    change_running = fields.Char(
        string="Transactions Running", readonly=True, help="Transactions running then."
    )
    date_start = fields.Datetime(string="Started", readonly=True)
    date_done = fields.Datetime(string="Finished", readonly=True)
    duration = fields.Float(
        string="Seconds",
        readonly=True,
        digits=(16, 3),
        help="How long the batch's work took, its last writes included.",
    )
    email_duration = fields.Float(
        string="Seconds on Emails",
        readonly=True,
        digits=(16, 3),
        help="Of the batch's time, rendering its reminders, queuing them as outgoing mails and "
        "logging them.",
    )

    def init(self):
        # The customers of the batch, as one array (not a relation of a row per customer).
        self.env.cr.execute(
            "ALTER TABLE dunning_run_batch ADD COLUMN IF NOT EXISTS partner_ids int[]"
        )

    @api.model
    def _insert(self, vals_list):
        if not vals_list:
            return
        self.env.flush_all()
        rows = SQL(", ").join(
            SQL(
                "(%s, %s, %s, 'todo', %s::int[], %s, %s, %s, %s, false)",
                vals["run_id"],
                vals["company_id"],
                vals["phase"],
                vals.get("partner_ids") or [],
                len(vals.get("partner_ids") or []),
                vals.get("change_id") or 0,
                vals.get("change_running"),
                bool(vals.get("date_only")),
            )
            for vals in vals_list
        )
        self.env.cr.execute(
            SQL(
                """INSERT INTO dunning_run_batch (run_id, company_id, phase, state, partner_ids,
                                                  customer_count, change_id, change_running,
                                                  date_only, failed)
                   VALUES %s""",
                rows,
            )
        )

    def _get_partner_ids(self):
        self.ensure_one()
        rows = self.env.execute_query(
            SQL("SELECT partner_ids FROM dunning_run_batch WHERE id = %s", self.id)
        )
        return rows[0][0] or []

    def _process(self, stats, commit):
        """Do the batch's work and mark it done, in one transaction."""
        self.ensure_one()
        engine = self.env["dunning.engine"]._in_company(self.company_id)
        run = self.run_id
        method = getattr(engine, f"_process_{self.phase}")
        date_start, started = fields.Datetime.now(), time.perf_counter()
        emails_before = stats["email_seconds"]
        failed = not method(self.company_id, run, self._get_partner_ids(), self, stats)
        self.env.flush_all()  # the work's last writes are part of its time
        self.write(
            {
                "state": "done",
                "failed": failed,
                "date_start": date_start,
                "date_done": fields.Datetime.now(),
                "duration": time.perf_counter() - started,
                "email_duration": stats["email_seconds"] - emails_before,
            }
        )
        if not commit:
            self.flush_recordset()  # the next claim reads the table in SQL
            return True
        return self._commit_progress() > 0

    def _commit_progress(self):
        """Commit the batch; in the cron, tell Odoo what is left: the run's batches to do,
        at least 1 while the run goes on (its next phases), so that a worker whose time is
        up is called again at once. Committed, the batch's records are forgotten: memory
        stays bounded by a batch.

        :return: the cron's time left (seconds)
        """
        self.ensure_one()
        self.flush_recordset()  # the next claim reads the table in SQL
        todo = self.env.execute_query(
            SQL(
                "SELECT count(*) FROM dunning_run_batch WHERE run_id = %s AND state = 'todo'",
                self.run_id.id,
            )
        )[0][0]
        left = self.env["ir.cron"]._commit_progress(
            max(self.customer_count, 1), remaining=max(todo, 1)
        )
        self.env.invalidate_all()
        return left

    @api.model
    def _claim(self, run, worker):
        """Lock the next batch of the run's phase that no one holds, or nothing."""
        # The run's phase is read by the same statement: the claim is the first statement of
        # its transaction, so its snapshot is not older than the batches it locks (the flush
        # writes nothing when the phase was committed, as it is between batches).
        run.flush_recordset(["phase"])
        rows = self.env.execute_query(
            SQL(
                """SELECT b.id FROM dunning_run_batch b JOIN dunning_run r ON r.id = b.run_id
                    WHERE b.run_id = %s AND r.state = 'running' AND b.phase = r.phase
                      AND b.state = 'todo'
                    ORDER BY b.id LIMIT 1 FOR UPDATE OF b SKIP LOCKED""",
                run.id,
            )
        )
        if not rows:
            return self
        batch = self.browse(rows[0][0])
        batch.worker = worker
        batch.flush_recordset()
        return batch

    @api.model
    def _pending(self, run):
        """Whether batches of the run's phase are still to do (claimed or not)."""
        rows = self.env.execute_query(
            SQL(
                """SELECT 1 FROM dunning_run_batch
                    WHERE run_id = %s AND phase = %s AND state = 'todo' LIMIT 1""",
                run.id,
                run.phase,
            )
        )
        return bool(rows)
