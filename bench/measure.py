"""One measurement in a fresh process: prints a JSON line with seconds, peak memory and counts.

python3 bench/measure.py --db COPY --system ours|oca --phase full|noop|paid [--profile F]
"""

import argparse
import cProfile
import json
import random
import resource
import time
from datetime import date, timedelta

from common import odoo_env, write_conf


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pay_one_percent(env):
    """Pay 1 % of the open receivable lines owed (an instalment, or a one-line invoice), as a
    payment's reconciliation leaves the line and its document."""
    env.cr.execute(
        """SELECT aml.id FROM account_move_line aml
             JOIN account_account acc
               ON acc.id = aml.account_id AND acc.account_type = 'asset_receivable'
            WHERE aml.parent_state = 'posted' AND NOT aml.reconciled
              AND aml.amount_residual_currency > 0
            ORDER BY aml.id"""
    )
    ids = [r[0] for r in env.cr.fetchall()]
    paid = random.Random(7).sample(ids, max(1, len(ids) // 100))
    env.cr.execute(
        "UPDATE account_move_line SET amount_residual = 0, amount_residual_currency = 0, "
        "reconciled = true WHERE id = ANY(%s)",
        (paid,),
    )
    env.cr.execute(
        """UPDATE account_move m
              SET amount_residual = s.residual, amount_residual_signed = s.residual_company,
                  payment_state = CASE WHEN s.residual = 0 THEN 'paid' ELSE 'partial' END
             FROM (SELECT aml.move_id, sum(aml.amount_residual_currency) AS residual,
                          sum(aml.amount_residual) AS residual_company
                     FROM account_move_line aml
                     JOIN account_account acc
                       ON acc.id = aml.account_id AND acc.account_type = 'asset_receivable'
                    WHERE aml.move_id IN (SELECT move_id FROM account_move_line
                                           WHERE id = ANY(%s))
                    GROUP BY aml.move_id) s
            WHERE m.id = s.move_id""",
        (paid,),
    )
    env.cr.commit()
    env.invalidate_all()
    return len(paid)


def run_ours(env, run_date):
    stats = env["dunning.engine"]._run(run_date=run_date, commit=True)
    return dict(stats)


def run_oca(env, run_date, attachment):
    template = env.ref("account_credit_control.email_template_credit_control_base")
    if not attachment:
        template.report_template_ids = [(5, 0, 0)]
    env.cr.commit()
    timings = {}
    counts = {}
    started = time.perf_counter()
    runs = env["credit.control.run"]
    for company in env["res.company"].search([]):
        if not company.credit_policy_id:
            continue
        run = (
            env["credit.control.run"]
            .with_company(company)
            .create({"date": run_date, "company_id": company.id,
                     "policy_ids": [(6, 0, company.credit_policy_id.ids)]})
        )  # fmt: skip
        run.generate_credit_lines()
        runs |= run
    env.cr.commit()
    timings["lines"] = time.perf_counter() - started
    counts["lines"] = len(runs.line_ids)
    started = time.perf_counter()
    for run in runs:
        run.set_to_ready_lines()
        run.run_channel_action()
        env.cr.commit()
    timings["emails"] = time.perf_counter() - started
    counts["communications"] = env["credit.control.communication"].search_count([])
    return {"timings": timings, "counts": counts}


def timed(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return round(time.perf_counter() - started, 2), value


def measure_all(db, today):
    """(a) full run, (b) the same run again, (c) next day after 1 % of the lines were paid: one
    database."""
    with odoo_env(db) as env:
        env["res.partner"].search([], limit=1)
        before = rss_mb()
        full, stats = timed(run_ours, env, today)
        peak = rss_mb()
        noop, noop_stats = timed(run_ours, env, today)
        paid = pay_one_percent(env)
        next_day, next_stats = timed(run_ours, env, today + timedelta(days=1))
        env.cr.commit()
    return {
        "system": "ours", "phase": "all", "seconds": full, "stats": stats,
        "rss_before_mb": round(before), "peak_rss_mb": round(peak),
        "noop_seconds": noop, "noop_stats": noop_stats,
        "paid": paid, "paid_seconds": next_day, "paid_stats": next_stats,
    }  # fmt: skip


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--system", choices=["ours", "oca"], default="ours")
    parser.add_argument("--phase", choices=["full", "noop", "paid", "all"], default="full")
    parser.add_argument("--attachment", action="store_true", help="OCA: keep the PDF")
    parser.add_argument("--profile")
    args = parser.parse_args()
    write_conf()
    today = date.today()
    if args.system == "ours" and args.phase == "all":
        print(json.dumps(measure_all(args.db, today), default=str))
        return
    with odoo_env(args.db) as env:
        env["res.partner"].search([], limit=1)  # load the registry before measuring
        result = {"system": args.system, "phase": args.phase}
        if args.system == "ours" and args.phase in ("noop", "paid"):
            run_ours(env, today)  # the first run, not measured
            if args.phase == "paid":
                result["paid"] = pay_one_percent(env)
        run_date = today + timedelta(days=1) if args.phase == "paid" else today
        before = rss_mb()
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        if args.system == "ours":
            result["stats"] = run_ours(env, run_date)
        else:
            result.update(run_oca(env, run_date, args.attachment))
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        result["seconds"] = round(time.perf_counter() - started, 2)
        result["rss_before_mb"] = round(before)
        result["peak_rss_mb"] = round(rss_mb())
        env.cr.commit()
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
