"""Paired statistics for comparing two runs on the same examples.

Pure functions of numpy arrays; the distributions come from scipy and
statsmodels, never from hand-written formulas for tail probabilities.

Conventions: `a` is the baseline, `b` the candidate, both aligned by example,
and a difference is always `b - a` (positive = the candidate scores higher).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sst
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests

from harness.core.bootstrap import bootstrap_means

ALPHA = 0.05
POWER = 0.8


@dataclass(frozen=True)
class TestResult:
    """A two-sided test of 'no difference'."""

    test: str  # mcnemar | t | wilcoxon | bootstrap | sign
    statistic: float
    p_value: float


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float


def _pair(a: ArrayLike, b: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired samples must be 1-d and the same length, got {x.shape} and {y.shape}")
    if x.size == 0:
        raise ValueError("paired samples are empty")
    return x, y


def is_binary(*samples: ArrayLike) -> bool:
    """True when every value is 0 or 1 (accuracy, exact match, pass@1, json.valid)."""
    return all(np.isin(np.asarray(s, dtype=np.float64), (0.0, 1.0)).all() for s in samples)


def _bootstrap_means(d: NDArray[np.float64], resamples: int, seed: int) -> NDArray[np.float64]:
    """Means of `d` over resampled example indices, drawn in bounded memory (harness.core.bootstrap).

    Resampling indices of the differences is resampling the examples jointly:
    each drawn example brings both its baseline and its candidate score.
    """
    return bootstrap_means(d, resamples, seed)


def sign_flip_floor(k: int) -> float:
    """2 * 0.5**k (at most 1): the smallest two-sided p any test of a symmetric null can give.

    With k non-zero paired differences there are 2**k equally likely sign
    patterns under 'no difference', so even k changes all in one direction
    are a 2 / 2**k event: one example can never be evidence (p = 1).
    """
    return 1.0 if k < 1 else min(1.0, 2.0 ** (1 - k))


def paired_bootstrap_ci(
    a: ArrayLike, b: ArrayLike, *, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> Interval:
    """Percentile bootstrap CI of mean(b - a), resampling examples jointly."""
    return paired_bootstrap_cis(a, b, (confidence,), resamples=resamples, seed=seed)[0]


def paired_bootstrap_cis(
    a: ArrayLike, b: ArrayLike, confidences: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> list[Interval]:
    """`paired_bootstrap_ci` at several confidence levels from one set of resamples."""
    x, y = _pair(a, b)
    d = y - x
    means = _bootstrap_means(d, resamples, seed)
    out = []
    for confidence in confidences:
        tail = (1.0 - confidence) / 2.0
        low, high = np.quantile(means, [tail, 1.0 - tail])
        out.append(Interval(float(d.mean()), float(low), float(high)))
    return out


def paired_bootstrap_pvalue(a: ArrayLike, b: ArrayLike, *, resamples: int = 2000, seed: int = 0) -> TestResult:
    """Two-sided bootstrap p-value of mean(b - a) == 0.

    The bootstrap distribution is shifted to the null (centred on 0) and the
    p-value is the share of resampled means at least as far from 0 as the
    observed one, with the +1 correction so it is never exactly 0, and never
    below `sign_flip_floor` of the non-zero differences (n = 1 gives p = 1).
    """
    x, y = _pair(a, b)
    d = y - x
    observed = float(d.mean())
    if np.all(d == 0) or d.size < 2:
        return TestResult("bootstrap", observed, 1.0)
    centred = _bootstrap_means(d, resamples, seed) - observed
    extreme = int(np.sum(np.abs(centred) >= abs(observed) - 1e-12))
    # a constant difference gives a bootstrap distribution of zero width (p = 1 / (R + 1) at any n):
    # no p below what the sign pattern of the non-zero differences allows
    p = max((extreme + 1) / (resamples + 1), sign_flip_floor(int(np.count_nonzero(d))))
    return TestResult("bootstrap", observed, p)


def discordant_counts(a: ArrayLike, b: ArrayLike) -> tuple[int, int]:
    """(n10, n01): examples right only in the baseline, right only in the candidate."""
    x, y = _pair(a, b)
    return int(np.sum((x == 1) & (y == 0))), int(np.sum((x == 0) & (y == 1)))


def mcnemar_exact(a: ArrayLike, b: ArrayLike) -> TestResult:
    """Exact (binomial) McNemar test on paired binary outcomes."""
    x, y = _pair(a, b)
    n10, n01 = discordant_counts(x, y)
    if n10 + n01 == 0:
        return TestResult("mcnemar", 0.0, 1.0)
    n11 = int(np.sum((x == 1) & (y == 1)))
    n00 = int(np.sum((x == 0) & (y == 0)))
    res = sm_mcnemar([[n11, n10], [n01, n00]], exact=True)
    return TestResult("mcnemar", float(res.statistic), float(min(1.0, res.pvalue)))


def wilcoxon_signed_rank(a: ArrayLike, b: ArrayLike) -> TestResult:
    """Wilcoxon signed-rank test of the paired differences (zero differences dropped).

    With no non-zero difference there is no evidence of any change: p = 1.
    """
    x, y = _pair(a, b)
    d = y - x
    if np.count_nonzero(d) == 0:
        return TestResult("wilcoxon", 0.0, 1.0)
    res = sst.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return TestResult("wilcoxon", float(res.statistic), float(res.pvalue))


def paired_t_test(a: ArrayLike, b: ArrayLike) -> TestResult:
    """Two-sided paired t-test of mean(b - a) == 0 (`scipy.stats.ttest_rel`).

    It tests the mean difference, the effect the verdict reports with its
    bootstrap CI. Degenerate samples: one example, or no non-zero
    difference, is no evidence (p = 1); the same non-zero change on every
    example (zero spread, where t is infinite) gets the exact sign-test p of
    n same-sign changes, `sign_flip_floor(n)`.
    """
    x, y = _pair(a, b)
    d = y - x
    if d.size < 2 or not np.any(d):
        return TestResult("t", 0.0, 1.0)
    if np.ptp(d) <= 1e-12 * float(np.abs(d).max()):
        return TestResult("t", math.copysign(math.inf, float(d.mean())), sign_flip_floor(d.size))
    res = sst.ttest_rel(y, x)
    return TestResult("t", float(res.statistic), float(res.pvalue))


def sign_test(a: ArrayLike, b: ArrayLike) -> TestResult:
    """Two-sided exact sign test of the paired differences b - a (ties dropped; binomial, p = 1/2).

    The statistic is the number of positive differences (the candidate's
    wins in a side-by-side judgement); no non-zero difference is no evidence (p = 1).
    """
    x, y = _pair(a, b)
    d = y - x
    wins, losses = int(np.sum(d > 0)), int(np.sum(d < 0))
    if wins + losses == 0:
        return TestResult("sign", 0.0, 1.0)
    return TestResult("sign", float(wins), float(sst.binomtest(wins, wins + losses, 0.5).pvalue))


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> tuple[list[bool], list[float]]:
    """Holm step-down correction: (reject, adjusted p-values), in input order."""
    if not p_values:
        return [], []
    reject, adjusted, _, _ = multipletests(list(p_values), alpha=alpha, method="holm")
    return [bool(r) for r in reject], [float(p) for p in adjusted]


@functools.cache  # a pure function of alpha, asked once per metric and comparison
def min_discordant_for_significance(alpha: float = ALPHA) -> int:
    """Fewest discordant pairs with which exact McNemar can reach p < alpha.

    With k discordant pairs all in one direction the two-sided exact p-value
    is 2 * 0.5**k, so below this many no result can ever be significant.
    """
    k = 1
    while sst.binomtest(0, k, 0.5).pvalue >= alpha:
        k += 1
    return k


def difference_sd(a: ArrayLike, b: ArrayLike) -> float:
    """s_d behind the MDE: sqrt of the discordant-pair rate for binary outcomes, else the SD of b - a.

    The discordant rate (n10 + n01) / n is the variance of a binary paired
    difference under 'no change' (Connor's approximation for McNemar).
    """
    x, y = _pair(a, b)
    if is_binary(x, y):
        n10, n01 = discordant_counts(x, y)
        return math.sqrt((n10 + n01) / x.size)
    return float((y - x).std(ddof=1)) if x.size > 1 else 0.0


def mde_from_sd(sd: float, n: int, binary: bool, *, alpha: float = ALPHA, power: float = POWER) -> float:
    """(z_{1-alpha/2} + z_power) * sd / sqrt(n), and for binary metrics never below k_min(alpha) / n."""
    z = float(sst.norm.ppf(1 - alpha / 2) + sst.norm.ppf(power))
    mde = z * sd / math.sqrt(n)
    if binary:
        mde = max(mde, min_discordant_for_significance(alpha) / n)
    return mde


def minimum_detectable_effect(a: ArrayLike, b: ArrayLike, *, alpha: float = ALPHA, power: float = POWER) -> float:
    """Smallest |mean difference| detectable at this n (two-sided alpha, given power).

    Normal approximation for a paired mean: MDE = (z_{1-alpha/2} + z_power) * s_d / sqrt(n),
    where s_d is the standard deviation of the paired differences (`difference_sd`).

    * Binary outcomes: s_d**2 is the discordant-pair rate (n10 + n01) / n, the
      variance of the difference under 'no change' (Connor's approximation for
      McNemar), and the MDE is never below k_min / n, k_min being the fewest
      discordant pairs that can make exact McNemar significant (6 at .05).
    * When no example differs, s_d is 0: for binary metrics the k_min / n
      floor remains (a change in k_min examples, all one way, would have been
      detected); for continuous ones the MDE is 0, i.e. any consistent change
      would have been seen. The verdict's min_n keeps this from meaning much
      on a tiny sample.

    `alpha` is the level the test must reach: in a comparison of m tests
    under Holm, the verdict passes alpha / m (see verdict.apply_holm).
    """
    x, y = _pair(a, b)
    return mde_from_sd(difference_sd(x, y), x.size, is_binary(x, y), alpha=alpha, power=power)


def break_even_requests(tuning_cost_usd: float, base_cost_per_request: float, cand_cost_per_request: float) -> float:
    """Requests after which the tuning cost is paid back by cheaper requests.

    `math.inf` ("never") when the candidate is not cheaper per request; 0 when
    tuning cost nothing and the candidate is not dearer.
    """
    savings = base_cost_per_request - cand_cost_per_request
    if savings <= 0:
        return 0.0 if tuning_cost_usd <= 0 and savings == 0 else math.inf
    return max(0.0, tuning_cost_usd) / savings
