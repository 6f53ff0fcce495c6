"""How far a judge's grades agree with known ones: accuracy and Cohen's kappa, with bootstrap CIs.

Kappa corrects the raw agreement for what two raters agree on by chance:
kappa = (p_o - p_e) / (1 - p_e), with p_o the observed agreement and p_e the
agreement expected from each rater's own grade frequencies. A judge that
says PASS to everything agrees often on a mostly-correct set but has
kappa 0. The point value is sklearn's `cohen_kappa_score`; the bootstrap
(items resampled with replacement, seeded, percentile interval) uses the
same formula vectorised over resamples (tested equal to sklearn).

An invalid judge reply (no parsable grade) is never dropped: it is its own
category `<invalid>`, which no known grade equals, so it counts as a
disagreement in both figures. Resamples on which kappa is undefined (every
item of the resample in one category for both raters) are left out of the
kappa interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from harness.core.bootstrap import index_chunks

INVALID = "<invalid>"
CI_LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A figure with its percentile bootstrap interval (NaN where undefined)."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Agreement:
    """Judge grades against known grades on the same items."""

    n: int
    n_invalid: int
    accuracy: Estimate  # share of items where the judge's grade equals the known one
    kappa: Estimate  # Cohen's kappa, unweighted
    labels: tuple[str, ...]  # the categories, known ones first, then <invalid> when any
    confusion: tuple[tuple[int, ...], ...]  # rows: known grade, columns: judge's grade (order of `labels`)


def agreement(
    known: Sequence[str], judged: Sequence[str | None], labels: Sequence[str], resamples: int = 1000, seed: int = 0
) -> Agreement:
    """Accuracy and kappa of `judged` (None: invalid) against `known`, over the categories `labels`."""
    if len(known) != len(judged):
        raise ValueError(f"{len(known)} known grades but {len(judged)} judged ones")
    cats = list(labels)
    n_invalid = sum(1 for j in judged if j is None)
    if n_invalid:
        cats.append(INVALID)
    index = {c: i for i, c in enumerate(cats)}
    a = np.asarray([index[k] for k in known], dtype=np.int64)
    b = np.asarray([index[INVALID if j is None else j] for j in judged], dtype=np.int64)
    n, k = a.size, len(cats)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (a, b), 1)
    if n == 0:
        nan = Estimate(math.nan, math.nan, math.nan)
        return Agreement(0, 0, nan, nan, tuple(cats), _rows(confusion))
    acc_point = float(np.mean(a == b))
    kappa_point = sklearn_kappa(a, b, k)
    accs: list[NDArray[np.float64]] = []
    kappas: list[NDArray[np.float64]] = []
    if n >= 2 and resamples > 0:
        for idx in index_chunks(n, resamples, seed):
            ra, rb = a[idx], b[idx]
            accs.append((ra == rb).mean(axis=1))
            kappas.append(kappa_rows(ra, rb, k))
    return Agreement(
        n=n,
        n_invalid=n_invalid,
        accuracy=_estimate(acc_point, accs),
        kappa=_estimate(kappa_point, kappas),
        labels=tuple(cats),
        confusion=_rows(confusion),
    )


def sklearn_kappa(a: NDArray[np.int64], b: NDArray[np.int64], k: int) -> float:
    """sklearn's Cohen's kappa; NaN where it is undefined (both raters put every item in one category)."""
    import warnings

    from sklearn.metrics import cohen_kappa_score

    if np.all(a == a[0]) and np.all(b == a[0]):  # p_e = 1: 0/0, which sklearn warns about and returns as nan
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(cohen_kappa_score(a, b, labels=list(range(k))))


def kappa_rows(a: NDArray[np.int64], b: NDArray[np.int64], k: int) -> NDArray[np.float64]:
    """Cohen's kappa of each row pair of two (rows x n) category matrices; NaN where undefined."""
    n = a.shape[1]
    p_o = (a == b).mean(axis=1)
    ca = np.stack([(a == c).sum(axis=1) for c in range(k)], axis=1)  # rows x k category counts
    cb = np.stack([(b == c).sum(axis=1) for c in range(k)], axis=1)
    p_e = (ca * cb).sum(axis=1) / float(n * n)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(p_e < 1.0, (p_o - p_e) / (1.0 - p_e), np.nan)
    return out.astype(np.float64)


def _estimate(point: float, parts: list[NDArray[np.float64]]) -> Estimate:
    if not parts:
        return Estimate(point, math.nan, math.nan)
    values = np.concatenate(parts)
    values = values[~np.isnan(values)]
    if values.size < 2 or math.isnan(point):
        return Estimate(point, math.nan, math.nan)
    lo, hi = np.quantile(values, [(1 - CI_LEVEL) / 2, 1 - (1 - CI_LEVEL) / 2])
    return Estimate(point, float(lo), float(hi))


def _rows(m: NDArray[np.int64]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(x) for x in row) for row in m)
