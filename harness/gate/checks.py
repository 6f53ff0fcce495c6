"""Evaluating a gate's checks against a finished candidate run.

Metric checks read the run's flat metrics (plus a few derived per-request
figures); non-inferiority re-uses the paired comparison machinery on the
per-example scores of the candidate and a baseline run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.compare import runs as rn
from harness.compare.verdict import VerdictRules, compare_metric
from harness.core.errors import ConfigError, suggest
from harness.gate.config import CheckConfig, GateConfig


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check, as shown in JUnit and the summary."""

    name: str
    passed: bool
    observed: str
    threshold: str
    detail: str = ""


@dataclass(frozen=True)
class GateResult:
    gate: str
    candidate: rn.RunData
    baseline: rn.RunData | None
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]


def run_metrics(run: rn.RunData) -> dict[str, float]:
    """The run's flat metrics plus derived per-request figures the gate can check."""
    m = dict(run.metrics)
    n = m.get("n_examples", 0.0)
    if n > 0:
        if "n_errors" in m:
            m.setdefault("error_rate", m["n_errors"] / n)
        if "cost_usd_total" in m:
            m.setdefault("cost_per_1k_usd", 1000.0 * m["cost_usd_total"] / n)
            m.setdefault("cost_per_request_usd", m["cost_usd_total"] / n)
        for kind in ("prompt", "output"):
            if f"{kind}_tokens_total" in m:
                m.setdefault(f"{kind}_tokens_per_request", m[f"{kind}_tokens_total"] / n)
    return m


def validate_metrics(gate: GateConfig, candidate: rn.RunData) -> None:
    """Every metric a check names must exist on the candidate: a ConfigError with close matches otherwise."""
    available = run_metrics(candidate)
    per_example = set(candidate.score_names)
    for check in gate.checks:
        if check.kind == "non_inferior_margin":
            names: Sequence[str] = sorted(per_example)
            ok = check.metric in per_example
        else:
            key = f"{check.metric}.ci_low" if check.kind == "min" and check.bound == "ci_low" else check.metric
            names = sorted(available)
            ok = key in available
            if not ok and check.metric in available:
                raise ConfigError(f"gate {gate.name!r}: run {candidate.run_id} has no CI for {check.metric!r}")
        if not ok:
            raise ConfigError(
                f"gate {gate.name!r}: run {candidate.run_id} has no metric {check.metric!r}"
                f"{suggest(check.metric, names)}; it has: {', '.join(names) or 'none'}"
            )


def _metric_check(check: CheckConfig, metrics: Mapping[str, float]) -> CheckResult:
    if check.kind == "min":
        assert check.min is not None
        key = check.metric if check.bound == "value" else f"{check.metric}.ci_low"
        value = metrics[key]
        return CheckResult(check.title, value >= check.min, f"{key} = {value:.4g}", f">= {check.min:g}")
    assert check.max is not None
    value = metrics[check.metric]
    return CheckResult(check.title, value <= check.max, f"{check.metric} = {value:.4g}", f"<= {check.max:g}")


def _non_inferior(check: CheckConfig, gate: GateConfig, base: rn.RunData, cand: rn.RunData) -> CheckResult:
    assert check.non_inferior_margin is not None
    margin = check.non_inferior_margin
    detail_clean = ""
    if check.subset == "clean":
        from harness.compare.leakage import clean_ids

        ids = clean_ids([base, cand])
        if ids is None:
            return CheckResult(check.title, False, "no leakage audit in either run", f"CI low > {-margin:+g}",
                               "subset: clean needs runs with a leakage audit (a training side)")
        keep = set(ids)
        base, cand = (dataclasses.replace(r, rows=tuple(x for x in r.rows if x.id in keep)) for r in (base, cand))
        detail_clean = f" on the clean subset ({len(keep)} items)"
        if not keep:
            return CheckResult(check.title, False, "n_clean=0", f"CI low > {-margin:+g}", "every item is flagged")
    aligned = rn.align(base, cand, [check.metric])
    rules = VerdictRules(alpha=gate.alpha, resamples=gate.resamples, seed=gate.seed, margin=margin)
    mc = compare_metric(check.metric, aligned.baseline[check.metric], aligned.candidate[check.metric], rules)
    d = mc.delta
    observed = f"delta {d.estimate:+.4f}, {1 - gate.alpha:.0%} CI [{d.low:+.4f}, {d.high:+.4f}], n={mc.n}"
    detail = f"against {base.label}{detail_clean}"
    required = f"CI low > {-margin:+g}"
    if mc.n < gate.min_n:
        detail += f": only {mc.n} paired examples (< min_n {gate.min_n}), too few to show non-inferiority"
        return CheckResult(check.title, False, observed, required, detail)
    return CheckResult(check.title, d.low > -margin, observed, required, detail)


def leakage_check(limit: float, metrics: Mapping[str, float]) -> CheckResult:
    """max_leakage: the candidate's share of leakage-flagged test items must not exceed `limit`."""
    title = f"leakage.any <= {limit:g}"
    if "leakage.any" not in metrics:
        return CheckResult(title, False, "no leakage audit", f"<= {limit:g}",
                           "the run has no leakage.any metric (no training side was audited)")
    value = metrics["leakage.any"]
    return CheckResult(title, value <= limit, f"leakage.any = {value:.4g}", f"<= {limit:g}")


def latest_judged_comparison(candidate: rn.RunData, tracking_uri: str | None) -> Any | None:
    """The newest comparison run (compare judge=...) that judged `candidate`, or None."""
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)]
    query = ("tags.`harness.kind` = 'comparison' and tags.`harness.compare.judge` = 'pairwise' and "
             f"tags.`harness.compare.candidates` LIKE '%{candidate.run_id}%'")
    runs = client.search_runs(experiments, query, order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def judge_check(gate: GateConfig, candidate: rn.RunData, tracking_uri: str | None) -> CheckResult | None:
    """allow_weak_judge: false: the latest judged comparison of the candidate must not say CAUTION: weak judge.

    None when no comparison judged the candidate (nothing relies on a judge).
    """
    run = latest_judged_comparison(candidate, tracking_uri)
    if run is None:
        return None
    tags = run.data.tags
    weak = tags.get("harness.compare.judge.weak") == "true"
    judge = tags.get("harness.compare.judge.model", "?")
    title = "judge is not weak" + (" (allow_weak_judge: true)" if gate.allow_weak_judge else "")
    observed = f"judge {judge}: " + ("CAUTION: weak judge" if weak else "not weak")
    reasons = tags.get("harness.compare.judge.caution", "")
    detail = f"comparison run {run.info.run_id}" + (f": {reasons}" if weak else "")
    return CheckResult(title, gate.allow_weak_judge or not weak, observed, "not weak", detail)


def find_baseline(gate: GateConfig, tracking_uri: str | None, task: str) -> rn.RunData:
    b = gate.baseline
    return rn.find_run(rn.Selector(b.run, task, {} if b.run else b.tags), tracking_uri)


def evaluate_gate(gate: GateConfig, candidate: rn.RunData, tracking_uri: str | None) -> GateResult:
    """Run every check of `gate` on `candidate` (a FINISHED run with its examples loaded)."""
    if not gate.checks and gate.max_leakage is None:
        raise ConfigError(f"gate {gate.name!r} has no checks")
    validate_metrics(gate, candidate)
    metrics = run_metrics(candidate)
    baseline = None
    if any(c.kind == "non_inferior_margin" for c in gate.checks):
        baseline = find_baseline(gate, tracking_uri, gate.task or candidate.tag("task"))
    results = []
    for check in gate.checks:
        if check.kind == "non_inferior_margin":
            assert baseline is not None
            results.append(_non_inferior(check, gate, baseline, candidate))
        else:
            results.append(_metric_check(check, metrics))
    if gate.max_leakage is not None:
        results.append(leakage_check(gate.max_leakage, metrics))
    judged = judge_check(gate, candidate, tracking_uri)
    if judged is not None:
        results.append(judged)
    return GateResult(gate.name, candidate, baseline, tuple(results))
