"""One benchmark step in a process of its own, with its own Odoo registry and cursor.

    python3 bench/worker.py --db DB --step setup|run|deliver|pay|oca [--run-date YYYY-MM-DD]
        [--entry run|worker] [--smtp-port P] [--attachment] [--profile F] [--wait]

Writes JSON lines on stdout: ``{"event": "ready"}`` once the registry is loaded (with
``--wait`` it then waits for a line on stdin, so that several workers start together), one
``{"event": "phase", ...}`` per timed phase, and ``{"event": "done", ...}`` with the peak RSS.
"""

import argparse
import cProfile
import json
import resource
import sys
import time
from datetime import date

import steps
from common import odoo_env


def rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def emit(**values):
    print(json.dumps(values, default=str), flush=True)


def phase(name, function, *args):
    seconds, value = steps.timed(function, *args)
    counts = value[1] if isinstance(value, tuple) else value
    emit(event="phase", phase=name, seconds=seconds, counts=counts, rss_mb=rss_mb())
    return value


def run_step(env, args):
    run_date = date.fromisoformat(args.run_date) if args.run_date else date.today()
    if args.step == "run":
        phase("run", steps.run_ours, env, run_date, args.entry)
    elif args.step == "setup":
        steps.set_mail_server(env, args.smtp_port)
    elif args.step == "deliver":
        phase("deliver", steps.deliver, env)
    elif args.step == "pay":
        phase("pay", steps.pay_one_percent, env)
    elif args.step == "oca":
        steps.set_mail_server(env, args.smtp_port)
        runs, _counts = phase("lines", steps.oca_lines, env, run_date, args.attachment)
        phase("queue", steps.oca_queue, env, runs)
        phase("deliver", steps.deliver, env)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--step", choices=["setup", "run", "deliver", "pay", "oca"], required=True)
    parser.add_argument("--run-date")
    parser.add_argument("--entry", choices=["run", "worker"], default="run")
    parser.add_argument("--smtp-port", type=int)
    parser.add_argument("--attachment", action="store_true", help="OCA: keep the PDF")
    parser.add_argument("--profile")
    parser.add_argument("--wait", action="store_true", help="start on a line from stdin")
    args = parser.parse_args()
    # The configuration is measure.py's (workers started together must not rewrite it).
    with odoo_env(args.db) as env:
        env["res.partner"].search([], limit=1)  # the registry loaded before measuring
        emit(event="ready", rss_mb=rss_mb())
        if args.wait:
            sys.stdin.readline()
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        run_step(env, args)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        env.cr.commit()
        emit(event="done", seconds=round(time.perf_counter() - started, 2), rss_mb=rss_mb())


if __name__ == "__main__":
    main()
