"""The benchmark's figures: medians and spread of the raw runs (``summarize``), and the
Markdown table (``table``) of ``.build/bench_results.json``.

    python3 bench/report.py [.build/bench_results.json]   # prints the table again
"""

import json
import math
import os
import statistics
import sys

from common import BUILD


def stat(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": values,
    }


PARTS = ("ladder", "stages", "emails", "checks")


def _phases(result):
    """Our run's seconds of work by part (summed over workers): the ladder, of it its stages
    and its reminders, and the checks after it; {} when the run did not record them."""
    phases = result.get("phases") or {}
    if "ladder" not in phases:
        return {}
    ladder = phases["ladder"]
    return {
        "ladder": ladder["seconds"],
        "stages": ladder["seconds"] - ladder["email_seconds"],
        "emails": ladder["email_seconds"],
        "checks": sum(v["seconds"] for name, v in phases.items() if name != "ladder"),
    }


def _ours(runs):
    full = [r["full"] for r in runs]
    twice = [r["checks"].get("customers_twice") for r in runs]
    return {
        "full": stat([f["seconds"] for f in full]),
        "noop": stat([n["seconds"] for r in runs for n in r["noop"]]),
        "next_day": stat([r["next_day"]["seconds"] for r in runs]),
        # PostgreSQL's share: its sessions' time running statements (runs since 2026-12-02)
        "full_pg": stat([f.get("pg_active_s") for f in full]),
        "next_day_pg": stat([r["next_day"].get("pg_active_s") for r in runs]),
        # Seconds of work per part, summed over workers (runs since 2026-12-02)
        **{key: stat([_phases(f).get(key) for f in full]) for key in PARTS},
        "deliver": stat([r["deliver"]["seconds"] for r in runs]),
        "peak_rss_mb": stat([f["peak_rss_mb"] for f in full]),
        "worker_rss_mb": [[w["peak_rss_mb"] for w in f["workers"]] for f in full],
        "noop_rss_mb": stat([n["peak_rss_mb"] for r in runs for n in r["noop"]]),
        "next_day_rss_mb": stat([r["next_day"]["peak_rss_mb"] for r in runs]),
        "customers_twice": None if None in twice else max(twice),
        "stage_events_twice": max(r["checks"]["stage_events_twice"] for r in runs),
        "stats": runs[0]["stats"],
        "mails": next(
            (
                r["deliver"]["workers"][0]["phases"]["deliver"]["counts"]
                for r in runs
                if not r["deliver"].get("skipped")
            ),
            {},
        ),
        "smtp_messages": max(r["deliver"]["delivered"] for r in runs),
        "entry": runs[0]["entry"],
    }


def _oca(runs):
    if not runs:
        return None
    gq, lower = [], False
    for r in runs:
        t = r["timings"]
        if r["stopped"] and r["running_phase"] != "deliver":
            gq.append(r["seconds"])  # it had not finished queuing: a lower bound
            lower = True
        else:
            gq.append(t["lines"] + t["queue"])
    stopped = [r for r in runs if r["stopped"]]
    return {
        "lines": stat([r["timings"]["lines"] for r in runs]),
        "queue": stat([r["timings"]["queue"] for r in runs]),
        "deliver": stat([r["timings"]["deliver"] for r in runs]),
        "generate_and_queue": stat(gq),
        "lower_bound": lower,
        "stopped": [
            {
                "after": r["seconds"],
                "phase": r["running_phase"],
                "phase_at_least": r["running_at_least"],
            }
            for r in stopped
        ],
        "peak_rss_mb": stat([r["peak_rss_mb"] for r in runs]),
        "counts": runs[0]["counts"],
    }


def summarize(results):
    summary = {}
    for size, entry in results["sizes"].items():
        ours = {w: _ours(runs) for w, runs in entry["ours"].items() if runs}
        oca = _oca(entry["oca"])
        ratio, ratio_ladder = {}, {}
        if oca and oca["generate_and_queue"]:
            for w, figures in ours.items():
                ratio[w] = oca["generate_and_queue"]["median"] / figures["full"]["median"]
                if w == "1" and figures["ladder"]:
                    # one worker: the ladder's seconds of work are its wall time but for
                    # the claims and commits between batches
                    ratio_ladder[w] = (
                        oca["generate_and_queue"]["median"] / figures["ladder"]["median"]
                    )
        summary[size] = {
            "ours": ours,
            "oca": oca,
            "oca_pdf": _oca(entry["oca_pdf"]),
            "oca_pdf_error": entry.get("oca_pdf_error"),
            "ratio": ratio,
            "ratio_ladder": ratio_ladder,
            "build": entry["build"],
        }
    return summary


def cell(figure, bound=False):
    if not figure:
        return ""
    text = f"{figure['median']:.1f}"
    if len(figure["values"]) > 1:
        text += f" ({figure['min']:.1f}-{figure['max']:.1f})"
    return ("> " if bound else "") + text


def _rows(size, s):
    ws = sorted(s["ours"])
    oca, ours = s["oca"] or {}, s["ours"]
    first = ours[ws[0]] if ws else {}
    stats = first.get("stats", {})

    def row(label, key, oca_cell="", ratio=""):
        return (
            f"| | {label} | "
            + " | ".join(cell(ours[w].get(key)) for w in ws)
            + (f" | {oca_cell} | {ratio} |")
        )

    bound = oca.get("lower_bound")

    def times(ratios):
        return " / ".join(
            f"> {math.floor(ratios[w] * 10) / 10:.1f}x" if bound else f"{ratios[w]:.1f}x"
            # a lower bound is rounded down (9.96 is not "> 10.0")
            for w in ws
            if w in ratios
        )

    ratio = times(s["ratio"])
    counts = oca.get("counts", {})
    rows = [
        f"| {int(size):,} | **generate and queue**: ours the full daily run "
        f"({stats.get('emails', 0):,} emails queued, {stats.get('activities', 0):,} tasks); "
        "OCA credit lines + "
        f"{counts.get('communications', counts.get('queued', 0)):,} emails queued, no PDF | "
        + " | ".join(cell(ours[w]["full"]) for w in ws)
        + f" | {cell(oca.get('generate_and_queue'), bound)} | {ratio} |",
        row(
            "of which PostgreSQL running our statements (all sessions, "
            "`pg_stat_database.active_time`)",
            "full_pg",
        ),
        row(
            "of which ours: the ladder (seconds of work, all workers): its stages and its "
            "reminders, below; ratio with one worker",
            "ladder",
            "",
            times(s.get("ratio_ladder") or {}),
        ),
        row("of the ladder, ours: stages, their events and notes, tasks and holds", "stages"),
        row("of the ladder, ours: reminders rendered, queued and logged (events, notes)", "emails"),
        row(
            "of which ours: the daily checks (worklist, cases, holds, KPI profiles and "
            "snapshots; seconds of work, all workers)",
            "checks",
        ),
        row("of which OCA credit-line generation", "-", cell(oca.get("lines"))),
        row("of which OCA emails rendered and queued", "-", cell(oca.get("queue"))),
        row(
            "delivery of the queue to the SMTP sink, mails / SMTP messages (one per "
            f"recipient): ours {first.get('mails', {}).get('handed_over', 0):,} / "
            f"{first.get('smtp_messages', 0):,}, OCA {counts.get('handed_over', 0):,} / "
            f"{counts.get('delivered', 0):,}",
            "deliver",
            cell(oca.get("deliver")),
        ),
        row("(b) run with nothing changed", "noop"),
        row("(c) next day, after 1 % of the open lines were paid", "next_day"),
        row("of which PostgreSQL running our statements", "next_day_pg"),
        row(
            "(d) peak memory, full run (MB, the largest worker)",
            "peak_rss_mb",
            cell(oca.get("peak_rss_mb")),
        ),
        "| | each worker's peak (MB), per run | "
        + " | ".join(str(ours[w]["worker_rss_mb"]) for w in ws)
        + " | | |",
        "| | customers processed twice / stage entries twice | "
        + " | ".join(
            f"{'not checked' if ours[w]['customers_twice'] is None else ours[w]['customers_twice']}"
            f" / {ours[w]['stage_events_twice']}"
            for w in ws
        )
        + " | | |",
    ]
    for stop in oca.get("stopped", []):
        rows.append(
            f"| | OCA stopped after {stop['after']:.0f} s, in its {stop['phase']} phase "
            f"(at least {stop['phase_at_least']:.0f} s in it) | {' | ' * len(ws)} | |"
        )
    pdf = s.get("oca_pdf")
    if pdf:
        rows.append(
            f"| | OCA with the PDF attachment: lines, emails queued, delivery | "
            f"{' | ' * len(ws)}{cell(pdf['lines'])}, {cell(pdf['queue'])}, "
            f"{cell(pdf['deliver'])} | |"
        )
    if s.get("oca_pdf_error"):
        rows.append(f"| | OCA with the PDF attachment failed: {s['oca_pdf_error']} |"
                    f"{' | ' * len(ws)} | |")  # fmt: skip
    if s.get("build"):
        rows.append(f"| | template build (s): {s['build']} | {' | ' * len(ws)} | |")
    return ws, rows


def table(results):
    summary = results.get("summary") or summarize(results)
    lines = [
        f"`{results['command']}` on {results['machine']}, {results['started']}, code "
        f"{results['code']}. Median of the runs (min-max). Times in seconds, memory in MB "
        "(peak RSS of each process). OCA points marked > were stopped: lower bounds.",
        "",
    ]
    for size, s in summary.items():
        ws, rows = _rows(size, s)
        head = " | ".join(f"dunning_b2b {w} worker{'s' if w != '1' else ''}" for w in ws)
        lines += [
            f"| M lines | measure | {head} | OCA account_credit_control | ratio |",
            "|---:|---|" + "---:|" * len(ws) + "---:|---:|",
            *rows,
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(BUILD, "bench_results.json")
    with open(path, encoding="utf-8") as handle:
        print(table(json.load(handle)))
