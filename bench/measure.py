"""The measurements of one database copy, each step in fresh processes (``worker.py``), all
emails delivered to a local SMTP sink (``smtp_sink.py``). Prints one JSON line.

    python3 bench/measure.py --db COPY --system ours [--workers 1|2] [--profile F]
        [--profile-next-day F]
    python3 bench/measure.py --db COPY --system oca [--attachment] [--timeout S]

Ours: (a) the full daily run by N worker processes started together (time until the last one
committed, each one's peak RSS), with the check that no customer was processed twice; (b)
the same run again (nothing changed; ``--noop-runs`` times); the queue delivered to the
sink; 1 % of the open lines paid; (c) the next day's run, by N workers again. OCA: credit
lines, then its emails generated and queued (sending deferred), then the queue delivered;
stopped after ``--timeout`` seconds.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import smtp_sink
from common import ROOT, query, write_conf

HERE = os.path.dirname(os.path.abspath(__file__))
OCA_PHASES = ("lines", "queue", "deliver")


class Child:
    """A worker.py process and the JSON events it wrote."""

    def __init__(self, db, step, extra):
        self.events, self.ready = [], threading.Event()
        self.stopped_rss_mb = None
        self.done_at = None  # when its "done" line arrived: work committed, process exiting
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "worker.py"), "--db", db, "--step", step,
             "--wait", *extra],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("{"):
                event = json.loads(line)
                self.events.append(event)
                if event["event"] == "ready":
                    self.ready.set()
                elif event["event"] == "done":
                    self.done_at = time.perf_counter()
        self.ready.set()

    def hwm_mb(self):
        """The peak RSS so far, from /proc (for a process about to be stopped)."""
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        return round(int(line.split()[1]) / 1024)
        except OSError:
            return None
        return None

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def summary(self):
        done = [e for e in self.events if e["event"] == "done"]
        return {
            "phases": {e["phase"]: e for e in self.events if e["event"] == "phase"},
            "seconds": done[0]["seconds"] if done else None,
            "peak_rss_mb": done[0]["rss_mb"] if done else self.stopped_rss_mb,
            "exit": self.proc.returncode,
        }


def run_children(db, count, step, extra=(), timeout=None):
    """``count`` processes of ``step`` started together once all loaded their registry:
    ``seconds`` until the last one committed its work (as OCA's phases are timed, inside its
    process; a cron worker does not exit after its run), ``wall_s`` until all exited;
    ``stopped`` when the timeout killed them."""
    children = [Child(db, step, [a.replace("{n}", str(n)) for a in extra]) for n in range(count)]
    for child in children:
        child.ready.wait()
    started = time.perf_counter()
    for child in children:
        child.go()
    stopped = False
    for child in children:
        left = None if timeout is None else max(timeout - (time.perf_counter() - started), 0)
        try:
            child.proc.wait(left)
        except subprocess.TimeoutExpired:
            stopped = True
            child.stopped_rss_mb = child.hwm_mb()
            child.proc.kill()
            child.proc.wait()
    wall = round(time.perf_counter() - started, 2)
    for child in children:
        child.reader.join()
    done = [child.done_at for child in children]
    seconds = wall if stopped or None in done else round(max(done) - started, 2)
    workers = [child.summary() for child in children]
    if not stopped and any(w["exit"] for w in workers):
        sys.exit(f"{step} failed: {workers}")
    rss = [w["peak_rss_mb"] for w in workers if w["peak_rss_mb"]]
    return {"seconds": seconds, "wall_s": wall, "stopped": stopped, "workers": workers,
            "peak_rss_mb": max(rss) if rss else None}  # fmt: skip


def duplicates(db, run_date):
    """Customers in more than one done batch of a run of ``run_date`` (per company and phase,
    as the lead's ``dunning_run_batch`` has them), and stage events entered twice by a line in a
    cycle."""
    events = int(query(db, """SELECT count(*) FROM (
        SELECT move_line_id, level_id, cycle FROM dunning_event WHERE event_type = 'stage'
         GROUP BY 1, 2, 3 HAVING count(*) > 1) d"""))  # fmt: skip
    cols = query(db, """SELECT string_agg(column_name, ',') FROM information_schema.columns
                         WHERE table_name = 'dunning_run_batch'""").split(",")  # fmt: skip
    if "partner_ids" not in cols:
        return {"customers_twice": None, "stage_events_twice": events}
    if "run_date" in cols:
        run, where = "NULL", f"b.run_date = '{run_date}'"
    else:
        run = "b.run_id"
        where = f"b.run_id IN (SELECT id FROM dunning_run WHERE run_date = '{run_date}')"
    phase = "b.phase" if "phase" in cols else "NULL"
    customers = int(query(db, f"""SELECT count(*) FROM (
        SELECT {run}, b.company_id, {phase}, p
          FROM dunning_run_batch b CROSS JOIN LATERAL unnest(b.partner_ids) p
         WHERE {where} AND b.state = 'done'
         GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d"""))  # fmt: skip
    return {"customers_twice": customers, "stage_events_twice": events}


def phase_seconds(db, run_date):
    """Seconds of work per phase of the date's first run, summed over its batches (over the
    workers: with two, up to twice the phase's wall time), and of them the seconds spent
    rendering, queuing and logging the reminders (``dunning_run_batch.duration``,
    ``email_duration``). None for code that does not record them."""
    cols = query(db, """SELECT string_agg(column_name, ',') FROM information_schema.columns
                         WHERE table_name = 'dunning_run_batch'""").split(",")  # fmt: skip
    if "email_duration" not in cols:
        return None
    # The date's first run: a later one the same day (the unchanged day) has its own batches.
    rows = query(db, f"""SELECT string_agg(concat_ws(':', phase,
                                                     coalesce(round(sum_d::numeric, 2), 0),
                                                     coalesce(round(sum_e::numeric, 2), 0), n),
                                           ';')
                           FROM (SELECT b.phase, sum(b.duration) sum_d,
                                        sum(b.email_duration) sum_e, count(*) n
                                   FROM dunning_run_batch b
                                  WHERE b.run_id = (SELECT min(id) FROM dunning_run
                                                     WHERE run_date = '{run_date}')
                                  GROUP BY b.phase) t""")  # fmt: skip
    result = {}
    for row in filter(None, rows.split(";")):
        phase, seconds, emails, count = row.split(":")
        result[phase] = {"seconds": float(seconds), "email_seconds": float(emails),
                         "batches": int(count)}  # fmt: skip
    return result


def stats_of(result):
    """The engine's counters summed over the workers."""
    total = {}
    for worker in result["workers"]:
        for key, value in worker["phases"].get("run", {}).get("counts", {}).items():
            if isinstance(value, int | float):
                total[key] = total.get(key, 0) + value
    return total


def pg_active_s(db):
    """Seconds PostgreSQL's sessions on ``db`` have spent running statements, all sessions
    together (``pg_stat_database.active_time``, flushed when a session ends): the database's
    share of a step, measured without a profiler."""
    time.sleep(1.1)  # a session's last statistics reach the shared counters within a second
    sql = f"SELECT active_time FROM pg_stat_database WHERE datname = '{db}'"
    return float(query(db, sql)) / 1000


def measure_ours(db, workers, entry, profile, noop_runs=1, deliver_queue=True, profile_next=None):
    today = date.today()
    sink = smtp_sink.start()
    run = ["--entry", entry]
    try:
        suffix = ".{n}" if workers > 1 else ""
        prof = ["--profile", profile + suffix] if profile else []
        prof_next = ["--profile", profile_next + suffix] if profile_next else []
        run_children(db, 1, "setup", ["--smtp-port", str(sink.port)])
        active = pg_active_s(db)
        full = run_children(db, workers, "run", [*run, "--run-date", str(today), *prof])
        full["pg_active_s"] = round(pg_active_s(db) - active, 1)
        time.sleep(0.5)
        full["sent_during_run"] = sink.count()
        checks = duplicates(db, today)
        full["phases"] = phase_seconds(db, today)
        noop = [run_children(db, workers, "run", [*run, "--run-date", str(today)])
                for _ in range(noop_runs)]  # fmt: skip
        deliver = {"seconds": None, "delivered": 0, "skipped": True}
        if deliver_queue:  # its cost does not depend on the run: measured once per size
            deliver = run_children(db, 1, "deliver", ["--smtp-port", str(sink.port)])
            time.sleep(0.5)
            deliver["delivered"] = sink.count() - full["sent_during_run"]
        pay = run_children(db, 1, "pay")
        tomorrow = str(today + timedelta(days=1))
        active = pg_active_s(db)
        paid = run_children(db, workers, "run", [*run, "--run-date", tomorrow, *prof_next])
        paid["pg_active_s"] = round(pg_active_s(db) - active, 1)
        time.sleep(0.5)
        paid["sent_during_run"] = sink.count() - full["sent_during_run"] - deliver["delivered"]
        paid["phases"] = phase_seconds(db, tomorrow)
    finally:
        sink.stop()
    return {
        "system": "ours", "workers": workers, "entry": entry, "full": full,
        "stats": stats_of(full), "checks": checks, "noop": noop, "deliver": deliver,
        "paid_lines": pay["workers"][0]["phases"]["pay"]["counts"]["paid"], "next_day": paid,
        "next_day_checks": duplicates(db, tomorrow),
    }  # fmt: skip


def measure_oca(db, attachment, timeout):
    sink = smtp_sink.start()
    try:
        extra = ["--smtp-port", str(sink.port)] + (["--attachment"] if attachment else [])
        result = run_children(db, 1, "oca", extra, timeout=timeout)
        time.sleep(0.5)
        delivered = sink.count()
    finally:
        sink.stop()
    phases = result["workers"][0]["phases"]
    timings = {name: phases[name]["seconds"] if name in phases else None for name in OCA_PHASES}
    counts = {k: v for p in phases.values() for k, v in p["counts"].items()}
    if result["stopped"]:
        # What the stopped run had committed; the phase it was in took at least the rest.
        running = next(name for name in OCA_PHASES if timings[name] is None)
        done = sum(t for t in timings.values() if t is not None)
        counts["lines"] = int(query(db, "SELECT count(*) FROM credit_control_line"))
        counts["queued"] = int(query(db, "SELECT count(*) FROM mail_mail"))
        result["running_phase"] = running
        result["running_at_least"] = round(result["seconds"] - done, 1)
    counts["delivered"] = delivered
    result.update(system="oca", attachment=attachment, timings=timings, counts=counts)
    return result


def engine_entry(workers):
    """``worker`` (``_run_worker``) when the engine has it, and always for several workers;
    else ``run`` (``_run``)."""
    models = os.path.join(ROOT, "dunning_b2b", "models")
    has_worker = any(
        "def _run_worker(" in open(os.path.join(models, name), encoding="utf-8").read()
        for name in os.listdir(models) if name.endswith(".py")
    )  # fmt: skip
    return "worker" if has_worker or workers > 1 else "run"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--system", choices=["ours", "oca"], default="ours")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--entry", choices=["auto", "run", "worker"], default="auto",
        help="auto: _run_worker when the engine has it (always with 2 workers), else _run",
    )  # fmt: skip
    parser.add_argument("--attachment", action="store_true", help="OCA: keep the PDF")
    parser.add_argument("--timeout", type=int, help="OCA: stop after these seconds")
    parser.add_argument("--profile", help="ours: cProfile of the full run (per worker: .N)")
    parser.add_argument("--profile-next-day", help="ours: cProfile of the next day's run")
    parser.add_argument("--noop-runs", type=int, default=1, help="ours: unchanged days")
    parser.add_argument("--no-deliver", action="store_true", help="ours: leave the queue")
    args = parser.parse_args()
    write_conf()
    if args.system == "oca":
        result = measure_oca(args.db, args.attachment, args.timeout)
    else:
        entry = engine_entry(args.workers) if args.entry == "auto" else args.entry
        result = measure_ours(
            args.db, args.workers, entry, args.profile, args.noop_runs, not args.no_deliver,
            args.profile_next_day,
        )  # fmt: skip
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
