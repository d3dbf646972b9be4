"""The evaluation chart (matplotlib, PNG): score per family (one bar each), and score against
severity per degradation type (severity 0 = the clean video)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display is needed or used

from matplotlib.figure import Figure  # noqa: E402

from synth.evaluation.scorer import Report  # noqa: E402


def figure(report: Report, title: str = "") -> Figure:
    """Left: one bar per family (its score, %); right: one line per degradation type."""
    fig = Figure(figsize=(13, 5.5), layout="constrained")
    bars, lines = fig.subplots(1, 2, width_ratios=(3, 2))
    names = list(report.families)
    bars.bar(range(len(names)), [100 * g.score for g in report.families.values()], color="#4c72b0")
    bars.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    bars.set_ylabel("score (%): accuracy, MRA or map")
    bars.set_ylim(0, 100)
    bars.set_title("per family")
    clean = report.degradations.get("clean", {}).get(0)
    kinds = [k for k in report.degradations if k != "clean"]
    for kind in kinds:
        points = sorted(report.degradations[kind].items())
        if clean is not None:
            points = [(0, clean), *points]
        lines.plot([s for s, _ in points], [100 * g.score for _, g in points], marker="o", label=kind)
    if kinds:
        lines.legend(fontsize=8)
    else:
        lines.text(0.5, 0.5, "no degraded variants", ha="center", va="center", transform=lines.transAxes)
    lines.set_xlabel("severity (0 = clean)")
    lines.set_ylabel("score (%)")
    lines.set_ylim(0, 100)
    lines.set_title("per degradation")
    if title:
        fig.suptitle(title)
    return fig


def save_chart(report: Report, path: Path, title: str = "") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure(report, title).savefig(path, format="png", dpi=110)
    return path
