"""`compare()`: the plain function behind `python -m harness.compare`.

`compare_runs` is pure (runs in, Comparison out); `run_compare` adds the
I/O: finding runs in MLflow, writing the reports, logging a comparison run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.compare import runs as rn
from harness.compare.config import CompareConfig
from harness.compare.stats import break_even_requests
from harness.compare.verdict import MetricComparison, Verdict, VerdictRules, apply_holm, compare_metric, overall
from harness.errors import ConfigError, suggest


@dataclass(frozen=True)
class CandidateResult:
    """One candidate against the baseline."""

    run: rn.RunData
    metrics: tuple[MetricComparison, ...]
    verdict: Verdict
    warnings: tuple[str, ...]
    ops: rn.Operational
    break_even_requests: float  # math.inf: never

    def metric(self, name: str) -> MetricComparison:
        return next(mc for mc in self.metrics if mc.metric == name)


@dataclass(frozen=True)
class Comparison:
    """Everything a report shows."""

    baseline: rn.RunData
    base_ops: rn.Operational
    candidates: tuple[CandidateResult, ...]
    primary: str
    rules: VerdictRules
    tuning_cost_usd: float

    def headline(self) -> str:
        """The one-line verdict printed on the console."""
        parts = []
        for c in self.candidates:
            mc = c.metric(self.primary)
            d = mc.delta
            text = (
                f"{c.run.label} vs {self.baseline.label}: {c.verdict.value.upper()} on {self.primary} "
                f"({d.estimate:+.4f}, {1 - self.rules.alpha:.0%} CI [{d.low:+.4f}, {d.high:+.4f}], "
                f"p_holm={mc.p_holm:.3g}, n={mc.n}"
            )
            if c.verdict in (Verdict.NO_DIFFERENCE, Verdict.INCONCLUSIVE):
                text += f", MDE={mc.mde:.4f}"
            text += f"); break-even {format_break_even(c.break_even_requests)}"
            if c.warnings:
                text += "; warning: " + ", ".join(c.warnings)
            parts.append(text)
        return " | ".join(parts)


def format_break_even(requests: float) -> str:
    if math.isinf(requests):
        return "never"
    return f"{math.ceil(requests):,} requests"


def compare_runs(
    baseline: rn.RunData,
    candidates: Sequence[rn.RunData],
    primary: str,
    rules: VerdictRules,
    tuning_cost_usd: float = 0.0,
    metrics: Sequence[str] | None = None,
) -> Comparison:
    """Paired comparison of each candidate with the baseline on every shared metric."""
    base_ops = rn.operational(baseline)
    per_cand: dict[str, list[MetricComparison]] = {}
    cheaper: dict[str, bool] = {}
    ops: dict[str, rn.Operational] = {}
    for cand in candidates:
        aligned = rn.align(baseline, cand, metrics)
        if primary not in aligned.metrics:
            raise ConfigError(
                f"primary_metric {primary!r} is not a per-example metric of both runs "
                f"{baseline.run_id} and {cand.run_id}{suggest(primary, aligned.metrics)}; "
                f"they have: {', '.join(aligned.metrics) or 'none'}"
            )
        per_cand[cand.run_id] = [
            compare_metric(m, aligned.baseline[m], aligned.candidate[m], rules) for m in aligned.metrics
        ]
        ops[cand.run_id] = rn.operational(cand)
        cheaper[cand.run_id] = ops[cand.run_id].cost_per_request < base_ops.cost_per_request
    decided = apply_holm(per_cand, rules, cheaper)
    results = []
    for cand in candidates:
        mcs = decided[cand.run_id]
        verdict, warnings = overall(mcs, primary)
        results.append(
            CandidateResult(
                run=cand,
                metrics=tuple(mcs),
                verdict=verdict,
                warnings=tuple(warnings),
                ops=ops[cand.run_id],
                break_even_requests=_break_even(tuning_cost_usd, base_ops, ops[cand.run_id]),
            )
        )
    return Comparison(baseline, base_ops, tuple(results), primary, rules, tuning_cost_usd)


def _break_even(tuning_cost_usd: float, base: rn.Operational, cand: rn.Operational) -> float:
    return break_even_requests(tuning_cost_usd, base.cost_per_request, cand.cost_per_request)


@dataclass(frozen=True)
class CompareOutcome:
    comparison: Comparison
    out_dir: Path
    markdown: Path
    html: Path
    mlflow_run_id: str | None


def load_runs(cfg: CompareConfig) -> tuple[rn.RunData, list[rn.RunData]]:
    """Resolve the configured baseline and candidates to finished runs with their examples."""
    if not cfg.candidates:
        raise ConfigError("compare: `candidates` is empty; name at least one run id or model")
    base = rn.find_run(rn.Selector(cfg.baseline, cfg.task, cfg.baseline_tags), cfg.tracking_uri)
    cands = [rn.find_run(rn.Selector(ref, cfg.task), cfg.tracking_uri) for ref in cfg.candidates]
    return base, cands


def run_compare(cfg: CompareConfig, now: datetime | None = None) -> CompareOutcome:
    """Load, compare, write reports under out_dir/<timestamp>/, log a comparison run."""
    from harness.compare import report

    base, cands = load_runs(cfg)
    primary = cfg.primary_metric or base.tag("primary_metric")
    if not primary:
        raise ConfigError(f"compare: set primary_metric=...; run {base.run_id} has no harness.primary_metric tag")
    comp = compare_runs(base, cands, primary, cfg.rules(), cfg.tuning_cost_usd, cfg.metrics or None)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    out = Path(cfg.out_dir) / stamp
    out.mkdir(parents=True, exist_ok=True)
    md = out / "report.md"
    html = out / "report.html"
    md.write_text(report.markdown(comp), encoding="utf-8")
    html.write_text(report.html(comp), encoding="utf-8")
    (out / "comparison.json").write_text(json.dumps(to_json(comp), indent=2), encoding="utf-8")
    run_id = log_comparison(comp, out, cfg.tracking_uri) if cfg.log_to_mlflow else None
    return CompareOutcome(comp, out, md, html, run_id)


def to_json(comp: Comparison) -> dict[str, Any]:
    """A JSON-able summary (infinities as the string 'never')."""

    def clean(obj: Any) -> Any:
        if isinstance(obj, float) and math.isinf(obj):
            return "never"
        if isinstance(obj, dict):
            return {k: clean(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [clean(v) for v in obj]
        return obj

    return clean(
        {
            "baseline": comp.baseline.run_id,
            "primary_metric": comp.primary,
            "rules": asdict(comp.rules),
            "baseline_ops": asdict(comp.base_ops),
            "candidates": [
                {
                    "run_id": c.run.run_id,
                    "label": c.run.label,
                    "verdict": c.verdict.value,
                    "warnings": list(c.warnings),
                    "break_even_requests": c.break_even_requests,
                    "ops": asdict(c.ops),
                    "metrics": [asdict(mc) for mc in c.metrics],
                }
                for c in comp.candidates
            ],
        }
    )


def log_comparison(comp: Comparison, out: Path, tracking_uri: str | None) -> str:
    """A run in the baseline's experiment, tagged with the compared run ids, reports attached."""
    from mlflow.entities import Metric, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    exp_id = client.get_run(comp.baseline.run_id).info.experiment_id
    tags = {
        "harness.kind": "comparison",
        "harness.compare.task": comp.baseline.tag("task"),
        "harness.compare.baseline": comp.baseline.run_id,
        "harness.compare.candidates": ",".join(c.run.run_id for c in comp.candidates),
        "harness.compare.primary_metric": comp.primary,
        "harness.compare.verdict": "; ".join(f"{c.run.run_id}={c.verdict.value}" for c in comp.candidates),
        "mlflow.note.content": comp.headline(),
    }
    run = client.create_run(exp_id, run_name=f"compare-{comp.baseline.run_id[:8]}", tags=tags)
    run_id = str(run.info.run_id)
    metrics = []
    for i, c in enumerate(comp.candidates):
        for mc in c.metrics:
            key = f"c{i}.{mc.metric}"
            metrics += [Metric(f"{key}.delta", mc.delta.estimate, 0, 0), Metric(f"{key}.p_holm", mc.p_holm, 0, 0)]
            metrics += [Metric(f"{key}.delta_ci_low", mc.delta.low, 0, 0), Metric(f"{key}.mde", mc.mde, 0, 0)]
    client.log_batch(run_id, metrics=metrics[:1000], tags=[RunTag("harness.compare.out_dir", str(out))])
    for name in ("report.md", "report.html", "comparison.json"):
        client.log_artifact(run_id, str(out / name))
    client.set_terminated(run_id, "FINISHED")
    return run_id
