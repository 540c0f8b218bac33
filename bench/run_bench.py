"""Side-by-side benchmark: dunning_b2b against OCA account_credit_control on the same data.

For each size, every measurement runs on a fresh copy of the template database (``measure.py``,
each step in fresh processes); the raw figures of every run go to ``.build/bench_results.json``,
with their medians and spread, and the table to ``.build/bench_results.md`` (``report.py``).

Sizes are counted in open receivable lines (instalments and open credits included), with one
customer per ten lines.

    python3 bench/run_bench.py [--sizes 10000,100000] [--runs 3] [--workers 1,2]
        [--oca-runs 1] [--oca-timeout 1800] [--no-oca-pdf] [--runs-1m]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import report
import template
from common import BUILD, ROOT, copy_db, drop_db, log, query, write_conf

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(BUILD, "bench_results.json")


def measure(tpl, args):
    """measure.py on a fresh copy of ``tpl``: its JSON result."""
    copy = f"bench_run_{os.getpid()}"  # several benches may share the server
    copy_db(tpl, copy)
    try:
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "measure.py"), "--db", copy, *args],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        if out.returncode:
            # The measurement's own error first: a failing drop below must not hide it.
            log(out.stderr[-4000:])
            raise RuntimeError(f"measure.py {' '.join(args)} exited {out.returncode}")
    finally:
        drop_db(copy)
    return json.loads(out.stdout.strip().splitlines()[-1])


def build_info(tpl):
    return (
        query(tpl, "SELECT value FROM ir_config_parameter WHERE key = 'bench.build_seconds'")
        or None
    )


def git_head():
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    )
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "dunning_b2b"], cwd=ROOT)
    return out.stdout.strip() + ("+changes" if dirty.returncode else "")


def measure_size(size, args):
    started = time.monotonic()
    tpl = template.ensure(size)
    entry = {"template": tpl, "template_ready_s": round(time.monotonic() - started),
             "build": build_info(tpl), "ours": {}, "oca": [], "oca_pdf": []}  # fmt: skip
    log(f"M={size}: template {tpl} ({entry['build']})")
    big = size >= 1000000 and args.runs_1m
    for workers in [2] if big else args.workers:
        runs = []
        for n in range(1 if big else args.runs):
            extra = ["--noop-runs", "3"] if big else []
            # The queue's delivery once per size (first run of the first worker count); none
            # at 1,000,000 (about 160,000 mails: hours of SMTP, the same per mail as below).
            if big or n or workers != (args.workers[0]):
                extra.append("--no-deliver")
            result = measure(tpl, ["--system", "ours", "--workers", str(workers), *extra])
            log(f"  ours, {workers} worker(s): full {result['full']['seconds']} s, "
                f"unchanged {[n['seconds'] for n in result['noop']]} s, "
                f"next day {result['next_day']['seconds']} s, "
                f"peak {result['full']['peak_rss_mb']} MB, checks {result['checks']}")  # fmt: skip
            runs.append(result)
        entry["ours"][str(workers)] = runs
    timeout = args.oca_timeout_1m if big and args.oca_timeout_1m else args.oca_timeout
    oca_args = ["--system", "oca", "--timeout", str(timeout)]
    for _ in range(args.oca_runs):
        result = measure(tpl, oca_args)
        log(f"  oca: {result['timings']}, stopped: {result['stopped']}, {result['counts']}")
        entry["oca"].append(result)
    if args.oca_pdf and args.oca_runs and size == 10000:
        # With a PDF per email (wkhtmltopdf, about a second each), stopped early: its rate.
        pdf_args = ["--system", "oca", "--timeout", str(args.oca_pdf_timeout)]
        try:
            result = measure(tpl, [*pdf_args, "--attachment"])
        except (RuntimeError, subprocess.CalledProcessError, ValueError, IndexError) as error:
            # e.g. no wkhtmltopdf, or no JSON printed: the size's other figures are kept
            log(f"  oca with PDF failed: {error}")
            entry["oca_pdf_error"] = str(error)
        else:
            log(f"  oca with PDF: {result['timings']}, stopped: {result['stopped']}")
            entry["oca_pdf"].append(result)
    return entry


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000", help="open receivable lines")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2", help="worker processes of our runs")
    parser.add_argument("--oca-runs", type=int, default=1, help="0: measure ours only")
    parser.add_argument(
        "--oca-timeout", type=int, default=1800, help="stop an OCA run after these seconds"
    )
    parser.add_argument(
        "--oca-timeout-1m", type=int,
        help="with --runs-1m: stop OCA at 1,000,000 after these seconds (its credit lines "
        "alone take longer than 900 s there)",
    )  # fmt: skip
    parser.add_argument(
        "--oca-pdf-timeout", type=int, default=600, help="stop OCA with PDF after these seconds"
    )
    parser.add_argument(
        "--oca-pdf", action=argparse.BooleanOptionalAction, default=True,
        help="OCA with its PDF attachment, once at 10,000",
    )  # fmt: skip
    parser.add_argument(
        "--runs-1m", action="store_true",
        help="at 1,000,000: the full run once with 2 workers, the unchanged day 3 times",
    )  # fmt: skip
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    write_conf()
    results = {
        "command": " ".join(["./bench/bench.sh", *sys.argv[1:]]),
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "code": git_head(),
        "sizes": {},
    }
    os.makedirs(BUILD, exist_ok=True)
    for size in (int(s) for s in args.sizes.split(",")):
        results["sizes"][str(size)] = measure_size(size, args)
        results["summary"] = report.summarize(results)
        with open(RESULTS, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1, default=str)  # after each size: kept if stopped
    table = report.table(results)
    with open(os.path.join(BUILD, "bench_results.md"), "w", encoding="utf-8") as handle:
        handle.write(table + "\n")
    print(table)
    log(f"raw figures: {RESULTS}; plot: python3 bench/plot.py")


if __name__ == "__main__":
    main()
