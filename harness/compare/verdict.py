"""Per-metric paired comparisons and the verdict rules.

For each metric a candidate is compared with the baseline on the same
examples: binary metrics with exact McNemar, continuous ones with the
Wilcoxon signed-rank test, both with a paired bootstrap CI of the mean
difference. P-values are Holm-corrected across every (candidate, metric)
test in one comparison. The rules (docs/comparison.md):

* n < min_n                                  -> inconclusive (never "pays off")
* significantly better after Holm            -> pays off
* CI low > -margin and cheaper per request   -> pays off (non-inferior, cheaper)
* significantly worse after Holm             -> regression
* otherwise, MDE <= max_mde                  -> no significant difference
* otherwise                                  -> inconclusive (sample too small)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike

from harness.compare import stats


class Verdict(StrEnum):
    PAYS_OFF = "pays off"
    NO_DIFFERENCE = "no significant difference"
    REGRESSION = "regression"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class VerdictRules:
    """Thresholds behind a verdict."""

    margin: float = 0.01  # non-inferiority margin, in the metric's units
    alpha: float = stats.ALPHA
    power: float = stats.POWER
    min_n: int = 30  # below this many paired examples: inconclusive
    max_mde: float = 0.1  # a 'no difference' that could hide more than this is inconclusive
    resamples: int = 2000
    seed: int = 0


@dataclass(frozen=True)
class MetricComparison:
    """One metric, one candidate against the baseline."""

    metric: str
    n: int
    binary: bool
    baseline_mean: float
    candidate_mean: float
    delta: stats.Interval  # mean(candidate - baseline) with its bootstrap CI
    test: stats.TestResult
    p_holm: float = 1.0
    significant: bool = False
    mde: float = 0.0
    n_better: int = 0  # examples where the candidate scores higher
    n_worse: int = 0
    verdict: Verdict = Verdict.INCONCLUSIVE


def compare_metric(metric: str, a: ArrayLike, b: ArrayLike, rules: VerdictRules) -> MetricComparison:
    """Effect size, CI, test and MDE for one metric (verdict filled in later, after Holm)."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    binary = stats.is_binary(x, y)
    test = stats.mcnemar_exact(x, y) if binary else stats.wilcoxon_signed_rank(x, y)
    ci = stats.paired_bootstrap_ci(x, y, confidence=1 - rules.alpha, resamples=rules.resamples, seed=rules.seed)
    return MetricComparison(
        metric=metric,
        n=int(x.size),
        binary=binary,
        baseline_mean=float(x.mean()),
        candidate_mean=float(y.mean()),
        delta=ci,
        test=test,
        p_holm=test.p_value,
        mde=stats.minimum_detectable_effect(x, y, alpha=rules.alpha, power=rules.power),
        n_better=int(np.sum(y > x)),
        n_worse=int(np.sum(y < x)),
    )


# Per-example metrics where a smaller value is the better one, and metrics that
# describe the output without being better or worse (a longer summary is not a win).
LOWER_IS_BETTER = ("invalid", "error", "latency", "cost")
DESCRIPTIVE = ("output_length", "length_ratio")


def direction(metric: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when neither."""
    leaf = metric.rsplit(".", 1)[-1] if metric.startswith("class.") else metric
    if any(leaf.startswith(d) for d in DESCRIPTIVE):
        return 0
    return -1 if any(word in leaf for word in LOWER_IS_BETTER) else 1


def decide(mc: MetricComparison, rules: VerdictRules, cheaper: bool) -> Verdict:
    """The verdict for one metric after Holm correction (see the module docstring)."""
    if mc.n < rules.min_n:
        return Verdict.INCONCLUSIVE
    sign = direction(mc.metric)
    gain = sign * mc.delta.estimate
    worst = mc.delta.low if sign > 0 else -mc.delta.high  # the CI end that is worst for the candidate
    if sign and mc.significant and gain > 0:
        return Verdict.PAYS_OFF
    if sign and cheaper and worst > -rules.margin:
        return Verdict.PAYS_OFF
    if sign and mc.significant and gain < 0:
        return Verdict.REGRESSION
    if mc.mde <= rules.max_mde:
        return Verdict.NO_DIFFERENCE
    return Verdict.INCONCLUSIVE


def apply_holm(
    results: Mapping[str, Sequence[MetricComparison]], rules: VerdictRules, cheaper: Mapping[str, bool]
) -> dict[str, list[MetricComparison]]:
    """Holm-correct every test across candidates and metrics, then decide each verdict.

    `results` and `cheaper` are keyed by candidate run id.
    """
    flat = [(cand, mc) for cand, mcs in results.items() for mc in mcs]
    reject, adjusted = stats.holm([mc.test.p_value for _, mc in flat], alpha=rules.alpha)
    out: dict[str, list[MetricComparison]] = {cand: [] for cand in results}
    for (cand, mc), rej, p in zip(flat, reject, adjusted, strict=True):
        corrected = replace(mc, p_holm=p, significant=rej)
        out[cand].append(replace(corrected, verdict=decide(corrected, rules, cheaper[cand])))
    return out


def overall(by_metric: Sequence[MetricComparison], primary: str) -> tuple[Verdict, list[str]]:
    """The candidate's verdict (its primary metric's) and warnings from the others.

    A secondary metric that regresses significantly does not change the
    verdict, which is about the declared primary metric, but it is named.
    """
    main = next((mc for mc in by_metric if mc.metric == primary), None)
    if main is None:
        raise KeyError(primary)
    warnings = [
        f"{mc.metric} regressed ({mc.delta.estimate:+.4f}, p_holm={mc.p_holm:.3g})"
        for mc in by_metric
        if mc.metric != primary and mc.verdict is Verdict.REGRESSION
    ]
    return main.verdict, warnings
