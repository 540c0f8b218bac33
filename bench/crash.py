"""Kill a real dunning run halfway (SIGKILL), run again, and check the result is exactly that of
a run that was never interrupted: no line skipped, no line announced twice at a stage.

    python3 bench/crash.py [--template bench_tpl_10000_<hash>] [--kill-at 0.5] [--workers 2]

With ``--workers 2``, two worker processes run the day together and both are killed at once;
the next run is one worker, which must finish the plan they left. The kill point is counted in
committed stage events, which come a batch (500 customers) at a time: at 10,000 lines the ladder
is three batches and two workers commit the first two together, so ``--kill-at 0.1`` is what
kills them between batches.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import date

import template
from common import copy_db, drop_db, log, pg_args, psql_env, write_conf
from measure import Child, duplicates, engine_entry

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTS = """
SELECT (SELECT count(*) FROM dunning_event WHERE event_type = 'stage'),
       (SELECT count(*) FROM dunning_message),
       (SELECT count(*) FROM mail_mail),
       (SELECT count(*) FROM dunning_line WHERE level_id IS NOT NULL),
       (SELECT count(*) FROM mail_activity),
       (SELECT count(*) FROM (SELECT r.line_id, m.level_id
                                FROM dunning_message_account_move_line_rel r
                                JOIN dunning_message m ON m.id = r.message_id
                               GROUP BY 1, 2 HAVING count(*) > 1) d),
       (SELECT count(*) FROM (SELECT move_line_id, level_id, cycle FROM dunning_event
                              WHERE event_type = 'stage'
                              GROUP BY 1, 2, 3 HAVING count(*) > 1) d)
"""


def query(db, sql):
    out = subprocess.run(
        ["psql", *pg_args(), "-d", db, "-tAc", sql], env=psql_env(), capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    return tuple(int(x) for x in out.stdout.strip().split("|"))


def run(db, workers, entry, wait=True):
    """``workers`` processes of the day's run, started together once their registries are
    loaded."""
    children = [Child(db, "run", ["--entry", entry]) for _ in range(workers)]
    for child in children:
        child.ready.wait()
    for child in children:
        child.go()
    if wait:
        for child in children:
            child.proc.wait()
    return children


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--template", help="default: the 10,000-line template")
    parser.add_argument("--kill-at", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=1, help="processes killed at once")
    args = parser.parse_args()
    write_conf()
    args.template = args.template or template.ensure(10000)
    entry = engine_entry(args.workers)
    clean, crashed = "bench_crash_clean", "bench_crash_killed"
    copy_db(args.template, clean)
    run(clean, 1, entry)
    expected = query(clean, COUNTS)
    log(f"uninterrupted: stage events, messages, mails, staged lines, tasks = {expected[:5]}")
    copy_db(args.template, crashed)
    children = run(crashed, args.workers, entry, wait=False)
    target = expected[0] * args.kill_at
    while all(c.proc.poll() is None for c in children) and query(crashed, COUNTS)[0] < target:
        time.sleep(0.2)
    for child in children:
        child.proc.send_signal(signal.SIGKILL)
    for child in children:
        child.proc.wait()
    at_kill = query(crashed, COUNTS)
    log(
        f"{args.workers} worker(s) killed with {at_kill[0]} of {expected[0]} stage events committed"
    )
    run(crashed, 1, entry)
    after = query(crashed, COUNTS)
    twice = duplicates(crashed, date.today())["customers_twice"]
    for db in (clean, crashed):
        drop_db(db)
    ok = after[:5] == expected[:5] and after[5] == 0 and after[6] == 0 and not twice
    print(
        f"crash test ({args.workers} worker(s), {entry}): killed at {at_kill[0]}/{expected[0]} "
        f"stage events; after the next run {after[:5]} vs uninterrupted {expected[:5]}; lines "
        f"announced twice at a stage {after[5]}, duplicate stage entries {after[6]}, customers "
        f"in two done batches {twice}: {'OK' if ok else 'MISMATCH'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
