"""Per-example scores -> run metrics with 95% bootstrap confidence intervals.

Means of per-example values use a vectorized percentile bootstrap over
examples; corpus metrics (macro-F1, BLEU, ...) are recomputed on the same
resampled index sets. The resampling is seeded, so the same scores always
give the same intervals, and drawn a few resamples at a time
(harness.core.bootstrap), so memory does not grow as resamples x n.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from harness.core.bootstrap import bootstrap_means, index_chunks
from harness.core.records import MetricValue, Response, Score
from harness.scorers.base import CORPUS_RESAMPLED, CorpusFn, ScoreInput

CI_LEVEL = 0.95


def mean_with_ci(values: Sequence[float], resamples: int, seed: int = 0) -> MetricValue:
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return MetricValue(math.nan)
    mean = float(arr.mean())
    if arr.size < 2 or resamples <= 0:
        return MetricValue(mean)
    means = bootstrap_means(arr, resamples, seed)
    lo, hi = np.quantile(means, [(1 - CI_LEVEL) / 2, 1 - (1 - CI_LEVEL) / 2])
    return MetricValue(mean, float(lo), float(hi))


def per_example_metrics(scores: Sequence[Score], resamples: int, seed: int = 0) -> dict[str, MetricValue]:
    """Mean and CI of every value name; an example lacking a value is left out of that mean."""
    names = sorted({name for s in scores for name in s.values})
    out: dict[str, MetricValue] = {}
    for name in names:
        vals = [s.values[name] for s in scores if name in s.values and not math.isnan(s.values[name])]
        out[name] = mean_with_ci(vals, resamples, seed)
    return out


def corpus_metrics(
    fns: Mapping[str, CorpusFn],
    items: Sequence[ScoreInput],
    scores: Sequence[Score],
    task: object,
    resamples: int,
    seed: int = 0,
) -> dict[str, MetricValue]:
    out: dict[str, MetricValue] = {}
    n = len(items)
    # corpus metrics re-run whole scorers per resample: 200 resamples keep CI error
    # small (the 2.5% quantile moves ~1 point) at a fifth of the cost
    resamples = min(resamples, 200)
    boot = n >= 2 and resamples > 0
    for name, fn in fns.items():
        point = point_value(name, fn, items, scores, task)
        samples: dict[str, list[float]] = {k: [] for k in point}
        if boot and name in CORPUS_RESAMPLED:  # vectorized: a chunk of resamples at once
            for chunk in index_chunks(n, resamples, seed):
                resampled = CORPUS_RESAMPLED.get(name)(items, scores, task, chunk)
                for k in point:
                    samples[k] += [float(x) for x in resampled[k] if not math.isnan(x)]
        elif boot:
            for chunk in index_chunks(n, resamples, seed):
                for row in chunk:
                    again = fn([items[i] for i in row], [scores[i] for i in row], task)
                    for k in point:
                        if k in again and not math.isnan(again[k]):
                            samples[k].append(again[k])
        for k, v in point.items():
            if len(samples[k]) >= 2:
                lo, hi = np.quantile(samples[k], [(1 - CI_LEVEL) / 2, 1 - (1 - CI_LEVEL) / 2])
                out[k] = MetricValue(float(v), float(lo), float(hi))
            else:
                out[k] = MetricValue(float(v))
    return out


def clean_metrics(
    fns: Mapping[str, CorpusFn],
    items: Sequence[ScoreInput],
    scores: Sequence[Score],
    task: object,
    keep: Sequence[bool],
    resamples: int,
    seed: int = 0,
) -> dict[str, MetricValue]:
    """Every aggregate again on the kept items only (those the leakage audit did not flag), as `<name>.clean`."""
    idx = [i for i, k in enumerate(keep) if k]
    if not idx:
        return {}
    sub_items, sub_scores = [items[i] for i in idx], [scores[i] for i in idx]
    out = per_example_metrics(sub_scores, resamples, seed)
    out.update(corpus_metrics(fns, sub_items, sub_scores, task, resamples, seed))
    return {f"{name}.clean": mv for name, mv in out.items()}


def point_value(
    name: str, fn: CorpusFn, items: Sequence[ScoreInput], scores: Sequence[Score], task: object
) -> dict[str, float]:
    """A corpus metric on the whole set: from its vectorized form on the identity row when it has one.

    The vectorized form must agree with the plain one (harness.scorers.base), and it needs
    no library the bootstrap does not already use: classification_report's plain form
    imports sklearn (about a second), which a cached re-run would otherwise pay for one call.
    A key that is NaN on the whole set (a class neither referenced nor predicted) has no
    value, as in the plain form.
    """
    if name not in CORPUS_RESAMPLED or not items:
        return fn(items, scores, task)
    row = CORPUS_RESAMPLED.get(name)(items, scores, task, np.arange(len(items))[None, :])
    return {k: float(v[0]) for k, v in row.items() if not math.isnan(float(v[0]))}


def counters(responses: Sequence[Response], costs: Sequence[float]) -> dict[str, float]:
    """Token, latency, cost and error counts, deterministic for a given set of responses."""
    n = len(responses)
    lat = np.asarray([r.latency_s for r in responses], dtype=float)
    prompt = sum(r.prompt_tokens for r in responses)
    output = sum(r.output_tokens for r in responses)
    cached = sum(r.cached_tokens for r in responses)
    errors = sum(1 for r in responses if r.error is not None)
    empty = sum(
        1 for r in responses if r.error is None and not any(t.strip() for t in r.texts) and not r.choice_logprobs
    )
    total_cost = float(sum(costs))
    return {
        "n_examples": float(n),
        "n_errors": float(errors),
        "error_rate": errors / n if n else 0.0,
        "n_empty": float(empty),
        "prompt_tokens_total": float(prompt),
        "output_tokens_total": float(output),
        "cached_tokens_total": float(cached),
        "prompt_tokens_mean": prompt / n if n else 0.0,
        "output_tokens_mean": output / n if n else 0.0,
        "latency_s_p50": float(np.percentile(lat, 50)) if n else 0.0,
        "latency_s_p95": float(np.percentile(lat, 95)) if n else 0.0,
        "cost_usd_total": total_cost,
        "cost_usd_per_1k": 1000 * total_cost / n if n else 0.0,
    }
