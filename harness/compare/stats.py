"""Paired statistics for comparing two runs on the same examples.

Pure functions of numpy arrays; the distributions come from scipy and
statsmodels, never from hand-written formulas for tail probabilities.

Conventions: `a` is the baseline, `b` the candidate, both aligned by example,
and a difference is always `b - a` (positive = the candidate scores higher).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sst
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.multitest import multipletests

ALPHA = 0.05
POWER = 0.8


@dataclass(frozen=True)
class TestResult:
    """A two-sided test of 'no difference'."""

    test: str  # mcnemar | wilcoxon | bootstrap
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
    """Means of `d` over resampled example indices.

    Resampling indices of the differences is resampling the examples jointly:
    each drawn example brings both its baseline and its candidate score.
    """
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, d.size, size=(resamples, d.size))
    means: NDArray[np.float64] = d[idx].mean(axis=1)
    return means


def paired_bootstrap_ci(
    a: ArrayLike, b: ArrayLike, *, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> Interval:
    """Percentile bootstrap CI of mean(b - a), resampling examples jointly."""
    x, y = _pair(a, b)
    d = y - x
    means = _bootstrap_means(d, resamples, seed)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(float(d.mean()), float(low), float(high))


def paired_bootstrap_pvalue(a: ArrayLike, b: ArrayLike, *, resamples: int = 2000, seed: int = 0) -> TestResult:
    """Two-sided bootstrap p-value of mean(b - a) == 0.

    The bootstrap distribution is shifted to the null (centred on 0) and the
    p-value is the share of resampled means at least as far from 0 as the
    observed one, with the +1 correction so it is never exactly 0.
    """
    x, y = _pair(a, b)
    d = y - x
    observed = float(d.mean())
    if np.all(d == 0):
        return TestResult("bootstrap", 0.0, 1.0)
    centred = _bootstrap_means(d, resamples, seed) - observed
    extreme = int(np.sum(np.abs(centred) >= abs(observed) - 1e-12))
    return TestResult("bootstrap", observed, (extreme + 1) / (resamples + 1))


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


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> tuple[list[bool], list[float]]:
    """Holm step-down correction: (reject, adjusted p-values), in input order."""
    if not p_values:
        return [], []
    reject, adjusted, _, _ = multipletests(list(p_values), alpha=alpha, method="holm")
    return [bool(r) for r in reject], [float(p) for p in adjusted]


def min_discordant_for_significance(alpha: float = ALPHA) -> int:
    """Fewest discordant pairs with which exact McNemar can reach p < alpha.

    With k discordant pairs all in one direction the two-sided exact p-value
    is 2 * 0.5**k, so below this many no result can ever be significant.
    """
    k = 1
    while sst.binomtest(0, k, 0.5).pvalue >= alpha:
        k += 1
    return k


def minimum_detectable_effect(a: ArrayLike, b: ArrayLike, *, alpha: float = ALPHA, power: float = POWER) -> float:
    """Smallest |mean difference| detectable at this n (two-sided alpha, given power).

    Normal approximation for a paired mean: MDE = (z_{1-alpha/2} + z_power) * s_d / sqrt(n),
    where s_d is the standard deviation of the paired differences.

    * Binary outcomes: s_d**2 is the discordant-pair rate (n10 + n01) / n, the
      variance of the difference under 'no change' (Connor's approximation for
      McNemar), and the MDE is never below k_min / n, k_min being the fewest
      discordant pairs that can make exact McNemar significant (6 at .05).
    * When no example differs, s_d is 0: for binary metrics the k_min / n
      floor remains (a change in k_min examples, all one way, would have been
      detected); for continuous ones the MDE is 0, i.e. any consistent change
      would have been seen. The verdict's min_n keeps this from meaning much
      on a tiny sample.
    """
    x, y = _pair(a, b)
    n = x.size
    z = float(sst.norm.ppf(1 - alpha / 2) + sst.norm.ppf(power))
    d = y - x
    if is_binary(x, y):
        n10, n01 = discordant_counts(x, y)
        var_d = (n10 + n01) / n
    else:
        var_d = float(d.var(ddof=1)) if n > 1 else 0.0
    mde = z * math.sqrt(var_d / n)
    if is_binary(x, y):
        mde = max(mde, min_discordant_for_significance(alpha) / n)
    return mde


def break_even_requests(tuning_cost_usd: float, base_cost_per_request: float, cand_cost_per_request: float) -> float:
    """Requests after which the tuning cost is paid back by cheaper requests.

    `math.inf` ("never") when the candidate is not cheaper per request; 0 when
    tuning cost nothing and the candidate is not dearer.
    """
    savings = base_cost_per_request - cand_cost_per_request
    if savings <= 0:
        return 0.0 if tuning_cost_usd <= 0 and savings == 0 else math.inf
    return max(0.0, tuning_cost_usd) / savings
