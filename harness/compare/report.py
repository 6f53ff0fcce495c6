"""Markdown and self-contained HTML reports of a Comparison.

Plots are drawn with matplotlib's Agg backend and embedded in the HTML as
base64 PNG, so the report is one file that opens anywhere.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import numpy as np

from harness.compare import examples, stats
from harness.compare.comparison import Comparison
from harness.compare.runs import Operational, RunData
from harness.compare.verdict import PREFERENCE_METRICS, MetricComparison


def _ci(run: RunData, metric: str) -> tuple[float, float, float]:
    """(mean, low, high) of a run's metric: the run's logged CI, else a bootstrap of its examples."""
    m = run.metrics
    if metric in m and f"{metric}.ci_low" in m and f"{metric}.ci_high" in m:
        return m[metric], m[f"{metric}.ci_low"], m[f"{metric}.ci_high"]
    vals = np.array([r.scores.get(metric, 0.0) for r in run.rows])
    # the CI of mean(vals - 0) is the CI of mean(vals)
    iv = stats.paired_bootstrap_ci(np.zeros_like(vals), vals)
    return iv.estimate, iv.low, iv.high


def _ops_rows(comp: Comparison) -> list[tuple[str, Operational]]:
    return [(comp.baseline.label, comp.base_ops)] + [(c.run.label, c.ops) for c in comp.candidates]


def _fmt(x: float, digits: int = 4) -> str:
    return "n/a" if math.isnan(x) else f"{x:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


_TEST_NAMES = {"mcnemar": "McNemar (exact)", "t": "paired t", "wilcoxon": "Wilcoxon", "bootstrap": "bootstrap",
               "sign": "sign test"}


def _test_label(mc: MetricComparison) -> str:
    """The test the verdict used; a secondary test (Wilcoxon) shown with its p beside it."""
    label = _TEST_NAMES.get(mc.test.test, mc.test.test)
    if mc.secondary is not None:
        label += f" (Wilcoxon p={mc.secondary.p_value:.3g})"
    return label


def metric_rows(comp: Comparison) -> list[list[str]]:
    rows = []
    for c in comp.candidates:
        for mc in c.metrics:
            rows.append(
                [
                    c.run.label,
                    mc.metric + (" (primary)" if mc.metric == comp.primary else "")
                    + (" (model-graded)" if mc.metric in PREFERENCE_METRICS else ""),
                    _test_label(mc),
                    _fmt(mc.baseline_mean),
                    _fmt(mc.candidate_mean),
                    f"{mc.delta.estimate:+.4f}",
                    f"[{mc.delta.low:+.4f}, {mc.delta.high:+.4f}]",
                    f"{mc.test.p_value:.3g}",
                    f"{mc.p_holm:.3g}",
                    _fmt(mc.mde),
                    f"{mc.n_better}/{mc.n_worse}",
                    mc.verdict.value,
                ]
            )
    return rows


METRIC_HEADER = [
    "candidate", "metric", "test", "baseline", "candidate mean", "delta", "CI of delta",
    "p", "p (Holm)", "MDE", "better/worse", "verdict",
]  # fmt: skip
OPS_HEADER = [
    "run", "n", "prompt tok/req", "output tok/req", "latency p50 (s)", "latency p95 (s)",
    "USD / 1k req", "error rate",
]  # fmt: skip
DELTA_HEADER = [
    "candidate", "prompt tok/req", "output tok/req", "latency p50", "latency p95", "USD / 1k req",
    "error rate", "cheaper? (min_saving, CI, tokens)", "tuning cost", "break-even",
]  # fmt: skip


def ops_rows(comp: Comparison) -> list[list[str]]:
    return [
        [
            label,
            str(o.n),
            f"{o.prompt_tokens:.1f}",
            f"{o.output_tokens:.1f}",
            f"{o.latency_p50:.3f}",
            f"{o.latency_p95:.3f}",
            f"{o.cost_per_1k:.4f}",
            f"{o.error_rate:.2%}",
        ]
        for label, o in _ops_rows(comp)
    ]


def delta_rows(comp: Comparison) -> list[list[str]]:
    b = comp.base_ops
    return [
        [
            c.run.label,
            f"{c.ops.prompt_tokens - b.prompt_tokens:+.1f}",
            f"{c.ops.output_tokens - b.output_tokens:+.1f}",
            f"{c.ops.latency_p50 - b.latency_p50:+.3f}",
            f"{c.ops.latency_p95 - b.latency_p95:+.3f}",
            f"{c.ops.cost_per_1k - b.cost_per_1k:+.4f}",
            f"{c.ops.error_rate - b.error_rate:+.2%}",
            ("yes: " if c.cost.cheaper else "no: ") + c.cost.why if c.cost else "",
            f"${c.tuning_cost_usd:,.4f} ({c.tuning_cost_source})",  # each candidate's own, or the config's
            c.break_even_text(),
        ]
        for c in comp.candidates
    ]


def markdown(comp: Comparison) -> str:
    r = comp.rules
    out = [
        f"# Comparison on {comp.baseline.tag('task') or 'task'}: {comp.primary}",
        "",
        f"**Verdict:** {comp.headline()}",
        "",
        f"Baseline: `{comp.baseline.run_id}` ({comp.baseline.label}). "
        f"Rules: alpha={r.alpha}, Holm across all tests, margin={r.margin}, min_n={r.min_n}, "
        f"max_mde={r.max_mde}, power={r.power}, {r.resamples} bootstrap resamples (seed {r.seed}). "
        f"Tuning cost: per candidate below (config fallback ${comp.tuning_cost_usd:,.2f}).",
        "",
        "## Quality",
        "",
        _table(METRIC_HEADER, metric_rows(comp)),
        "",
        "## Operations",
        "",
        _table(OPS_HEADER, ops_rows(comp)),
        "",
        "### Change against the baseline",
        "",
        _table(DELTA_HEADER, delta_rows(comp)),
        "",
    ]
    for c in comp.candidates:
        out += [f"- {c.run.label}: warning: {w}" for w in c.warnings]
    out.append(examples.markdown(comp))
    out.append("See docs/comparison.md for how the verdict is reached.")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ plots


def _png(fig: object) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return base64.b64encode(buf.getvalue()).decode("ascii")


def quality_cost_plot(comp: Comparison) -> str:
    """Primary metric (with CI) against cost per 1,000 requests, one point per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    runs = [(comp.baseline, comp.base_ops)] + [(c.run, c.ops) for c in comp.candidates]
    for run, ops in runs:
        mean, low, high = _ci(run, comp.primary)
        ax.errorbar([ops.cost_per_1k], [mean], yerr=[[mean - low], [high - mean]], fmt="o", capsize=4, label=run.label)
    ax.set_xlabel("USD per 1,000 requests")
    ax.set_ylabel(comp.primary)
    ax.set_title(f"{comp.primary} vs cost (95% CI)")
    ax.legend(fontsize=8)
    return _png(fig)


def difference_plot(comp: Comparison) -> str:
    """Per-example difference (candidate - baseline) of the primary metric, one panel per candidate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from harness.compare.runs import align

    n = len(comp.candidates)
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 3.5), squeeze=False)
    for ax, c in zip(axes[0], comp.candidates, strict=True):
        al = align(comp.baseline, c.run, [comp.primary])
        d = al.candidate[comp.primary] - al.baseline[comp.primary]
        if c.metric(comp.primary).binary:
            labels = ["worse", "same", "better"]
            counts = [int(np.sum(d < 0)), int(np.sum(d == 0)), int(np.sum(d > 0))]
            ax.bar(labels, counts, color=["#c0392b", "#95a5a6", "#27ae60"])
            ax.set_ylabel("examples")
        else:
            ax.hist(d, bins=min(30, max(5, d.size // 5)), color="#2c7fb8")
            ax.axvline(0, color="black", lw=1)
            ax.set_xlabel(f"{comp.primary}: candidate - baseline")
        ax.set_title(c.run.label, fontsize=9)
    return _png(fig)


_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Comparison: {{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 1200px; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f3f3f3; } td:first-child, td:nth-child(2) { text-align: left; }
.verdict { font-size: 1.1em; padding: 0.6em; background: #f6f8fa; border-left: 4px solid #2c7fb8; }
</style></head><body>
<h1>Comparison: {{ title }}</h1>
<p class="verdict">{{ headline }}</p>
<p>{{ rules }}</p>
{% for t in tables %}<h2>{{ t.title }}</h2>
<table><tr>{% for h in t.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in t.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}
</table>{% endfor %}
{% for w in warnings %}<p>Warning: {{ w }}</p>{% endfor %}
<h2>Quality vs cost</h2><img alt="quality vs cost" src="data:image/png;base64,{{ cost_png }}">
<h2>Per-example differences</h2><img alt="per-example differences" src="data:image/png;base64,{{ diff_png }}">
</body></html>
"""


def html(comp: Comparison) -> str:
    import jinja2

    r = comp.rules
    env = jinja2.Environment(autoescape=True)
    return env.from_string(_HTML).render(
        title=f"{comp.baseline.tag('task') or 'task'} / {comp.primary}",
        headline=comp.headline(),
        rules=(
            f"alpha={r.alpha} (Holm across all tests), margin={r.margin}, min_n={r.min_n}, max_mde={r.max_mde}, "
            f"power={r.power}, {r.resamples} bootstrap resamples; tuning cost per candidate below "
            f"(config fallback ${comp.tuning_cost_usd:,.2f})"
        ),
        tables=[
            {"title": "Quality", "header": METRIC_HEADER, "rows": metric_rows(comp)},
            {"title": "Operations", "header": OPS_HEADER, "rows": ops_rows(comp)},
            {"title": "Change against the baseline", "header": DELTA_HEADER, "rows": delta_rows(comp)},
            *examples.html_tables(comp),
        ],
        warnings=[f"{c.run.label}: {w}" for c in comp.candidates for w in c.warnings],
        cost_png=quality_cost_plot(comp),
        diff_png=difference_plot(comp),
    )


def insert_after_verdict(report_html: str, block: str) -> str:
    """`block` right under the HTML report's verdict paragraph (leakage, judge), or at the end without one."""
    anchor = '<p class="verdict">'
    at = report_html.find(anchor)
    if at < 0:
        return report_html.replace("</body>", block + "</body>", 1)
    end = report_html.find("</p>", at) + len("</p>")
    return report_html[:end] + block + report_html[end:]
