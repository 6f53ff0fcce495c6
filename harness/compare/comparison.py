"""The comparison itself, pure: finished runs in, a `Comparison` (verdicts per candidate) out.

`compare_runs` pairs each candidate with the baseline example by example,
applies the verdict rules with Holm across candidates and metrics, and
prices the difference (break-even volume). No I/O here: `api` finds the runs
and writes the reports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.compare import runs as rn
from harness.compare.cost import CostClaim, cost_claim
from harness.compare.stats import break_even_requests
from harness.compare.verdict import (
    PREFERENCE_METRICS,
    MetricComparison,
    Verdict,
    VerdictRules,
    apply_holm,
    compare_metric,
    overall,
)
from harness.core.errors import ConfigError, suggest


@dataclass(frozen=True)
class CandidateResult:
    """One candidate against the baseline."""

    run: rn.RunData
    metrics: tuple[MetricComparison, ...]
    verdict: Verdict
    warnings: tuple[str, ...]
    ops: rn.Operational
    break_even_requests: float  # math.inf: never
    cost: CostClaim | None = None  # whether "cheaper" is established (harness.compare.cost)
    # what tuning this candidate cost, behind its break-even: its own tuning run's figure when the
    # comparison found one (harness.compare.tuning), else the config's tuning_cost_usd
    tuning_cost_usd: float = 0.0
    tuning_cost_source: str = "config"

    def metric(self, name: str) -> MetricComparison:
        return next(mc for mc in self.metrics if mc.metric == name)

    def break_even_text(self) -> str:
        """The break-even volume in words; a candidate that cost nothing to make has nothing to pay back."""
        if self.tuning_cost_usd <= 0:
            return "n/a (no tuning cost)"
        return format_break_even(self.break_even_requests)


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
        """The verdicts on one line (MLflow tag, CI summary): one part per candidate."""
        return " | ".join(self.verdict_lines())

    def verdict_lines(self) -> list[str]:
        """One verdict per candidate, as the console prints them."""
        parts = []
        for c in self.candidates:
            mc = c.metric(self.primary)
            d = mc.delta
            text = (
                f"{c.run.label} vs {self.baseline.label}: {c.verdict.value.upper()} on {self.primary}"
                f"{' (model-graded)' if self.primary in PREFERENCE_METRICS else ''} "
                f"({d.estimate:+.4f}, {1 - self.rules.alpha:.0%} CI [{d.low:+.4f}, {d.high:+.4f}], "
                f"p_holm={mc.p_holm:.3g}, n={mc.n}"
            )
            if c.verdict in (Verdict.NO_DIFFERENCE, Verdict.INCONCLUSIVE):
                text += f", MDE={mc.mde:.4f}"
            if c.cost is not None and c.cost.cheaper and mc.ni is not None:  # rule 3 read this bound, not the CI
                k = len(self.candidates)
                text += f", non-inferiority {1 - self.rules.alpha / k:.2%} CI [{mc.ni.low:+.4f}, {mc.ni.high:+.4f}]"
            text += f"); break-even {c.break_even_text()}"
            if c.tuning_cost_source != "config":
                text += f" (tuning ${c.tuning_cost_usd:.4f}, {c.tuning_cost_source})"
            if c.warnings:
                text += "; warning: " + ", ".join(c.warnings)
            parts.append(text)
        return parts


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
    tuning_costs: Mapping[str, tuple[float, str]] | None = None,
) -> Comparison:
    """Paired comparison of each candidate with the baseline on every shared metric.

    `tuning_costs` maps a candidate's run id to its own tuning cost and where that figure came
    from; a candidate without one is priced at `tuning_cost_usd`.
    """
    base_ops = rn.operational(baseline)
    per_cand: dict[str, list[MetricComparison]] = {}
    claims: dict[str, CostClaim] = {}
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
            compare_metric(m, aligned.baseline[m], aligned.candidate[m], rules, len(candidates))
            for m in aligned.metrics
        ]
        ops[cand.run_id] = rn.operational(cand)
        claims[cand.run_id] = cost_claim(
            baseline, cand, aligned.ids, min_saving=rules.min_saving, trust_timed_cost=rules.trust_timed_cost,
            confidence=1 - rules.alpha, resamples=rules.resamples, seed=rules.seed,
        )  # fmt: skip
    decided = apply_holm(per_cand, rules, {run_id: claim.cheaper for run_id, claim in claims.items()})
    results = []
    for cand in candidates:
        mcs = decided[cand.run_id]
        verdict, warnings = overall(mcs, primary)
        cost_usd, source = (tuning_costs or {}).get(cand.run_id, (tuning_cost_usd, "config"))
        results.append(
            CandidateResult(
                run=cand,
                metrics=tuple(mcs),
                verdict=verdict,
                warnings=tuple(warnings),
                ops=ops[cand.run_id],
                break_even_requests=_break_even(cost_usd, base_ops, ops[cand.run_id], claims[cand.run_id]),
                cost=claims[cand.run_id],
                tuning_cost_usd=cost_usd,
                tuning_cost_source=source,
            )
        )
    return Comparison(baseline, base_ops, tuple(results), primary, rules, tuning_cost_usd)


def _break_even(tuning_cost_usd: float, base: rn.Operational, cand: rn.Operational, claim: CostClaim) -> float:
    # a saving the cost claim does not establish pays nothing back: priced as no saving
    cand_cost = cand.cost_per_request if claim.cheaper else max(cand.cost_per_request, base.cost_per_request)
    return break_even_requests(tuning_cost_usd, base.cost_per_request, cand_cost)


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
                    "tuning_cost_usd": c.tuning_cost_usd,
                    "tuning_cost_source": c.tuning_cost_source,
                    "cost_claim": asdict(c.cost) if c.cost else None,
                    "ops": asdict(c.ops),
                    "metrics": [asdict(mc) for mc in c.metrics],
                }
                for c in comp.candidates
            ],
        }
    )
