"""The learning-curve PNG: the primary metric with its CI against training examples, base bands behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Point:
    """One evaluated model on the curve: a tuned size, or a base band (size None)."""

    label: str  # e.g. "n=50", "0-shot", "5-shot"
    size: int | None  # training examples; None for the base model's bands
    value: float
    low: float | None  # the run's bootstrap CI of the primary metric (None when undefined)
    high: float | None
    run_id: str | None = None
    output_dir: str = ""


def draw(points: Sequence[Point], metric: str, title: str, path: Path, tuned_label: str = "tuned") -> Path:
    """Write the PNG (matplotlib's Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tuned = sorted((p for p in points if p.size is not None), key=lambda p: p.size or 0)
    bands = [p for p in points if p.size is None]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    try:
        colours = ["tab:gray", "tab:orange", "tab:green", "tab:purple"]
        for colour, band in zip(colours, bands, strict=False):
            if band.low is not None and band.high is not None:
                ax.axhspan(band.low, band.high, color=colour, alpha=0.15, linewidth=0)
            ax.axhline(band.value, color=colour, linestyle="--", label=f"base {band.label}: {band.value:.3f}")
        if tuned:
            xs = [p.size or 0 for p in tuned]
            ys = [p.value for p in tuned]
            # a missing CI draws as a zero-length bar rather than dropping the point
            below = [p.value - p.low if p.low is not None else 0.0 for p in tuned]
            above = [p.high - p.value if p.high is not None else 0.0 for p in tuned]
            ax.errorbar(xs, ys, yerr=[below, above], marker="o", capsize=4, color="tab:blue", label=tuned_label)
            ax.set_xscale("log", base=2)  # sizes usually double; equal steps read as equal spacing
            ax.set_xticks(xs, [str(x) for x in xs])
            ax.minorticks_off()
        ax.set_xlabel("training examples")
        ax.set_ylabel(f"{metric} (95% CI)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
