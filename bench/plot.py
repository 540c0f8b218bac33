"""Cost against size, log-log, from the bench's JSON: bench/cost.png.

    ./bench/get_plot.sh && python3 bench/plot.py [.build/bench_results.json] [bench/cost.png]

Medians with their min-max as error bars; OCA runs stopped by the timeout are drawn as lower
bounds (an upward triangle at the time it was given).
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from common import BUILD
from report import summarize

HERE = os.path.dirname(os.path.abspath(__file__))
OURS = [  # (measure, label, line style)
    ("full", "full daily run", "-"),
    ("noop", "unchanged day", ":"),
    ("next_day", "next day, 1 % paid", "--"),
]
COLORS = {"1": "tab:blue", "2": "tab:green"}


def series(summary, pick):
    """(sizes, medians, lower errors, upper errors) of the sizes where ``pick`` has a figure."""
    points = []
    for size, figures in sorted(summary.items(), key=lambda item: int(item[0])):
        figure = pick(figures)
        if figure:
            points.append((int(size), figure["median"], figure["min"], figure["max"]))
    sizes = [p[0] for p in points]
    medians = [p[1] for p in points]
    return (
        sizes,
        medians,
        [m - p[2] for m, p in zip(medians, points, strict=True)],
        [p[3] - m for m, p in zip(medians, points, strict=True)],
    )


def draw(results, path):
    summary = results.get("summary") or summarize(results)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    workers = sorted({w for s in summary.values() for w in s["ours"]})
    for w in workers:
        for key, label, style in OURS:
            sizes, med, low, high = series(
                summary, lambda s, w=w, k=key: s["ours"].get(w, {}).get(k)
            )
            if sizes:
                name = f"dunning_b2b, {w} worker{'s' * (w != '1')}: {label}"
                marker = "o" if w == "1" else "D"
                ax.errorbar(sizes, med, yerr=[low, high], fmt=marker + style, color=COLORS.get(w),
                            capsize=3, label=name)  # fmt: skip
    for key, label, color in (("generate_and_queue", "credit lines + emails queued", "tab:red"),
                              ("lines", "credit lines alone", "tab:orange")):  # fmt: skip
        done = {k: v for k, v in summary.items() if v["oca"] and not v["oca"]["lower_bound"]}
        sizes, med, low, high = series(done, lambda s, k=key: s["oca"][k])
        if sizes:
            ax.errorbar(sizes, med, yerr=[low, high], fmt="s-", color=color, capsize=3,
                        label=f"OCA (no PDF): {label}")  # fmt: skip
        if key == "generate_and_queue":
            bounds = [(int(k), v["oca"][key]["median"]) for k, v in summary.items()
                      if v["oca"] and v["oca"]["lower_bound"]]  # fmt: skip
            if bounds:
                ax.plot(*zip(*bounds, strict=True), "^", color=color, markersize=10,
                        label="OCA stopped by the timeout (lower bound)")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("open receivable lines (customers = lines / 10)")
    ax.set_ylabel("seconds (wall time)")
    ax.set_title(f"Cost against size ({results['machine'].split(',')[0]}, code {results['code']})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(path)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(BUILD, "bench_results.json")
    dest = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "cost.png")
    with open(src, encoding="utf-8") as handle:
        draw(json.load(handle), dest)


if __name__ == "__main__":
    main()
