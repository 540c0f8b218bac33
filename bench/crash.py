"""Kill a real dunning run halfway (SIGKILL), run again, and check the result is exactly that of
a run that was never interrupted: no line skipped, no line announced twice at a stage.

    python3 bench/crash.py [--template bench_tpl_10000_<hash>] [--kill-at 0.5]
"""

import argparse
import os
import signal
import subprocess
import sys
import time

from common import ROOT, copy_db, drop_db, log, pg_args, psql_env, write_conf

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


def run(db, wait=True):
    cmd = [sys.executable, os.path.join(HERE, "measure.py"), "--db", db, "--phase", "full"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if wait:
        proc.communicate()
    return proc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--template", help="default: the 10,000-line template")
    parser.add_argument("--kill-at", type=float, default=0.5)
    args = parser.parse_args()
    write_conf()
    if not args.template:
        args.template = subprocess.run(
            [sys.executable, os.path.join(HERE, "generate.py"), "--lines", "10000"],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
    clean, crashed = "bench_crash_clean", "bench_crash_killed"
    copy_db(args.template, clean)
    run(clean)
    expected = query(clean, COUNTS)
    log(f"uninterrupted: stage events, messages, mails, staged lines, tasks = {expected[:5]}")
    copy_db(args.template, crashed)
    proc = run(crashed, wait=False)
    target = expected[0] * args.kill_at
    while proc.poll() is None and query(crashed, COUNTS)[0] < target:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    at_kill = query(crashed, COUNTS)
    log(f"killed with {at_kill[0]} of {expected[0]} stage events committed")
    run(crashed)
    after = query(crashed, COUNTS)
    for db in (clean, crashed):
        drop_db(db)
    ok = after[:5] == expected[:5] and after[5] == 0 and after[6] == 0
    print(
        f"crash test: killed at {at_kill[0]}/{expected[0]} stage events; after the next run "
        f"{after[:5]} vs uninterrupted {expected[:5]}; lines announced twice at a stage "
        f"{after[5]}, duplicate stage entries {after[6]}: {'OK' if ok else 'MISMATCH'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
