"""Per-metric paired comparisons and the verdict rules.

For each metric a candidate is compared with the baseline on the same
examples: binary metrics with exact McNemar, a side-by-side judge's win rate
with the sign test, continuous ones with the paired
t-test of the mean difference (Wilcoxon signed-rank kept as a secondary
figure: it tests a different quantity and can disagree in sign with the
mean), both with a paired bootstrap CI of the mean difference. P-values are
Holm-corrected across every (candidate, metric) test in one comparison, and
a difference is *significant* only when Holm rejects and the CI excludes 0
on the side of the estimate, so a verdict never claims an effect its own CI
does not show. The MDE is at Holm's strictest level, alpha / m. The
non-inferiority bound is the shown CI's worst end for one candidate, and for k
candidates the end of the 1 - alpha / k CI (Bonferroni): each "pays off" that
rests on non-inferiority is then held to the one-sided alpha / 2k its own CI
would be held to alone. The rules (docs/comparison.md):

* n < min_n                                  -> inconclusive (never "pays off")
* significantly better (see above)           -> pays off
* NI bound > -margin and established cheaper -> pays off (non-inferior, cheaper; harness.compare.cost)
* significantly worse (see above)            -> regression
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
    min_saving: float = 0.10  # "cheaper" needs at least this relative saving per request (harness.compare.cost)
    trust_timed_cost: bool = False  # credit a time-priced saving the token counts do not carry (dedicated hardware)
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
    test: stats.TestResult  # the test the verdict uses: McNemar (binary) or paired t (continuous)
    p_holm: float = 1.0
    significant: bool = False  # Holm rejects and the CI excludes 0 on the estimate's side
    mde: float = 0.0  # at alpha / m once apply_holm has seen all m tests
    sd_diff: float = 0.0  # s_d behind the MDE (stats.difference_sd)
    secondary: stats.TestResult | None = None  # Wilcoxon signed-rank for continuous metrics; not used by the verdict
    n_better: int = 0  # examples where the candidate scores higher
    n_worse: int = 0
    verdict: Verdict = Verdict.INCONCLUSIVE
    ni: stats.Interval | None = None  # the 1 - alpha / k CI rule 3 reads, for k > 1 candidates; None: `delta`

    @property
    def ni_bound(self) -> stats.Interval:
        """The interval whose worst end decides non-inferiority (verdict rule 3)."""
        return self.ni or self.delta


# Side-by-side judge metrics (harness.compare.judged): the candidate's per-item win score
# (1 win, 0.5 tie, 0 loss) against a baseline of 0.5, so the difference is win rate - 0.5
# and the test is the sign test of wins against losses. Model-graded, labelled so in reports.
WIN_RATE = "judge.win_rate"
PREFERENCE_METRICS = (WIN_RATE,)


def compare_metric(
    metric: str, a: ArrayLike, b: ArrayLike, rules: VerdictRules, candidates: int = 1
) -> MetricComparison:
    """Effect size, CI, test and MDE for one metric (verdict filled in later, after Holm).

    `candidates`: how many candidates the comparison holds; with more than one, the
    non-inferiority bound is their Bonferroni share of alpha (module docstring).
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    binary = stats.is_binary(x, y)
    preference = metric in PREFERENCE_METRICS
    # wins against losses of a side-by-side judge: the sign test
    test = stats.sign_test(x, y) if preference else stats.mcnemar_exact(x, y) if binary else stats.paired_t_test(x, y)
    levels = [1 - rules.alpha, *([1 - rules.alpha / candidates] if candidates > 1 else [])]
    ci, *wider = stats.paired_bootstrap_cis(x, y, levels, resamples=rules.resamples, seed=rules.seed)
    ni = wider[0] if wider else None  # the same resamples, a wider quantile
    sd = stats.difference_sd(x, y)
    return MetricComparison(
        metric=metric,
        n=int(x.size),
        binary=binary,
        baseline_mean=float(x.mean()),
        candidate_mean=float(y.mean()),
        delta=ci,
        test=test,
        p_holm=test.p_value,
        mde=stats.mde_from_sd(sd, int(x.size), binary, alpha=rules.alpha, power=rules.power),
        sd_diff=sd,
        secondary=None if binary or preference else stats.wilcoxon_signed_rank(x, y),
        n_better=int(np.sum(y > x)),
        n_worse=int(np.sum(y < x)),
        ni=ni,
    )


def ci_agrees(mc: MetricComparison) -> bool:
    """The CI of the difference excludes 0 on the side of the estimate."""
    d = mc.delta
    return (d.estimate > 0 and d.low > 0) or (d.estimate < 0 and d.high < 0)


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
    bound = mc.ni_bound
    worst = bound.low if sign > 0 else -bound.high  # the CI end that is worst for the candidate
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

    `results` and `cheaper` are keyed by candidate run id. A rejection whose
    CI includes 0 is not significant (a skewed difference can give a small
    p with a mean the CI cannot tell from 0); the MDE is recomputed at
    alpha / m, the level Holm asks of a single effect among m tests.
    """
    flat = [(cand, mc) for cand, mcs in results.items() for mc in mcs]
    reject, adjusted = stats.holm([mc.test.p_value for _, mc in flat], alpha=rules.alpha)
    level = rules.alpha / max(1, len(flat))
    out: dict[str, list[MetricComparison]] = {cand: [] for cand in results}
    for (cand, mc), rej, p in zip(flat, reject, adjusted, strict=True):
        mde = stats.mde_from_sd(mc.sd_diff, mc.n, mc.binary, alpha=level, power=rules.power)
        corrected = replace(mc, p_holm=p, significant=rej and ci_agrees(mc), mde=mde)
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
