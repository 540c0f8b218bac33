"""Side-by-side benchmark: dunning_b2b against OCA account_credit_control on the same data.

For each size, every measurement runs in a fresh process on a fresh copy of the template
database; the table gives the median of the runs and their spread (min-max).

Sizes are counted in open receivable lines (instalments and open credits included), with one
customer per ten lines.

    python3 bench/run_bench.py [--sizes 10000,100000] [--runs 3] [--oca-runs 1]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

from common import BUILD, ROOT, copy_db, drop_db, log, pg_args, psql_env, write_conf

HERE = os.path.dirname(os.path.abspath(__file__))


def oca_partial(copy, seconds):
    """What a stopped OCA run had committed: its line generation time (the email phase's
    transaction starts when the lines are committed) and the emails sent so far."""
    out = subprocess.run(
        ["psql", *pg_args(), "-d", copy, "-tAc",
         "SELECT extract(epoch FROM (SELECT min(create_date) FROM credit_control_communication)"
         " - (SELECT min(create_date) FROM credit_control_run)),"
         " (SELECT count(*) FROM credit_control_line), (SELECT count(*) FROM mail_mail)"],
        env=psql_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines_s, lines, mails = out.stdout.strip().split("|")
    lines_s = float(lines_s) if lines_s else None
    return {
        "system": "oca", "phase": "full", "stopped_after": seconds,
        "timings": {"lines": lines_s, "emails": None},
        "counts": {"lines": int(lines), "communications": int(mails)},
        "seconds": None, "peak_rss_mb": None,
    }  # fmt: skip


def measure(template, system, phase, extra=(), timeout=None):
    copy = "bench_run"
    copy_db(template, copy)
    try:
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "measure.py"), "--db", copy,
             "--system", system, "--phase", phase, *extra],
            check=True, capture_output=True, text=True, cwd=ROOT, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        result = oca_partial(copy, timeout)
        log(f"  {system} {phase}: stopped after {timeout} s: {result}")
        return result
    finally:
        drop_db(copy)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"  {system} {phase}: {result.get('seconds')} s, peak {result.get('peak_rss_mb')} MB")
    return result


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.1f}"
    return f"{median:.1f} ({min(values):.1f}-{max(values):.1f})"


def ours_rows(size, customers, ours, full):
    """The rows of a size measured without OCA (``--oca-runs 0``)."""
    stats = ours["full"][0]["stats"]
    return [
        f"| {size:,} | {customers:,} | (a) full daily run: ours (stages, events, chatter, "
        f"{stats.get('emails', 0):,} emails queued, {stats.get('activities', 0):,} tasks); "
        f"OCA not run | {spread(full)} | not run | |",
        f"| | | (b) run with nothing changed "
        f"| {spread([r['seconds'] for r in ours['noop']])} | | |",
        f"| | | (c) next day, after 1% of the open lines were paid "
        f"| {spread([r['seconds'] for r in ours['paid']])} | | |",
        f"| | | (d) peak memory, full run | {spread([r['peak_rss_mb'] for r in ours['full']])} "
        f"| | |",
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000", help="open receivable lines")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--oca-runs", type=int, default=1, help="0: measure ours only")
    parser.add_argument(
        "--oca-timeout", type=int, default=1800, help="stop an OCA run after these seconds"
    )
    args = parser.parse_args()
    write_conf()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        customers = max(size // 10, 1)
        template = subprocess.run(
            [sys.executable, os.path.join(HERE, "generate.py"), "--lines", str(size),
             "--customers", str(customers)],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        log(f"M={size} N={customers}: template {template}")
        runs = [measure(template, "ours", "all") for _ in range(args.runs)]
        ours = {
            "full": runs,
            "noop": [{"seconds": r["noop_seconds"]} for r in runs],
            "paid": [{"seconds": r["paid_seconds"]} for r in runs],
        }
        oca = [measure(template, "oca", "full", timeout=args.oca_timeout)
               for _ in range(args.oca_runs)]  # fmt: skip
        rows.append((size, customers, ours, oca))
    lines = [
        f"Machine: {os.cpu_count()} cores. Median of the runs, (min-max) when several. "
        "Times in seconds, memory in MB (peak RSS of the process, registry loaded: ~135 MB).",
        "",
        "| M lines | N customers | measure | dunning_b2b | OCA account_credit_control | ratio |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for size, customers, ours, oca in rows:
        full = [r["seconds"] for r in ours["full"]]
        if not oca:
            lines += ours_rows(size, customers, ours, full)
            continue
        lines_t = [r["timings"]["lines"] for r in oca]
        emails_t = [r["timings"]["emails"] for r in oca]
        stopped = [r for r in oca if r.get("stopped_after")]
        if stopped:
            # The email phase did not finish: OCA took at least the time it was given.
            oca_total = [r["stopped_after"] for r in stopped]
            emails_t = [None]
        else:
            oca_total = [a + b for a, b in zip(lines_t, emails_t, strict=True)]
        ratio = statistics.median(oca_total) / statistics.median(full)
        email_cell = (
            f"stopped after {stopped[0]['stopped_after']} s, "
            f"{oca[0]['counts']['communications']:,} emails sent"
            if stopped
            else spread(emails_t)
        )
        stats = ours["full"][0]["stats"]
        lines += [
            f"| {size:,} | {customers:,} | (a) full daily run: ours (stages, events, chatter, "
            f"{stats.get('emails', 0):,} emails queued, {stats.get('activities', 0):,} tasks) vs "
            f"OCA (credit lines + {oca[0]['counts']['communications']:,} emails, no PDF) "
            f"| {spread(full)} | {'> ' if stopped else ''}{spread(oca_total)} "
            f"| {'> ' if stopped else ''}{ratio:.1f}x |",
            f"| | | OCA credit-line generation alone | | {spread(lines_t)} | |",
            f"| | | OCA email phase alone (no PDF attachment) | | {email_cell} | |",
            f"| | | (b) run with nothing changed "
            f"| {spread([r['seconds'] for r in ours['noop']])} | | |",
            f"| | | (c) next day, after 1% of the open lines were paid "
            f"| {spread([r['seconds'] for r in ours['paid']])} | | |",
            f"| | | (d) peak memory, full run | {spread([r['peak_rss_mb'] for r in ours['full']])} "
            f"| {spread([r['peak_rss_mb'] for r in oca])} | |",
        ]
    table = "\n".join(lines)
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, "bench_results.md"), "w", encoding="utf-8") as handle:
        handle.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
