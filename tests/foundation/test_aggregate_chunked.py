"""Run-metric CIs drawn in chunks give the numbers of the one-shot index matrix (issue 16, item 7).

The reference is the bootstrap as defined before chunking, written out here:
`idx = default_rng(seed).integers(0, n, size=(R, n))`, statistics per row of
`idx`, then the 2.5% and 97.5% quantiles. n is large enough that the runner
splits the resamples into several chunks.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from harness.core import bootstrap
from harness.core.records import Response, Sample, Score
from harness.run.aggregate import corpus_metrics, mean_with_ci
from harness.scorers.base import ScoreInput
from harness.scorers.classification import classification_report, classification_report_resampled

N = 12_000


def test_mean_ci_equals_the_one_shot_bootstrap() -> None:
    values = np.random.default_rng(2).random(N)
    assert bootstrap.MAX_CELLS // N < 300  # 300 resamples come in several chunks
    means = values[np.random.default_rng(5).integers(0, N, size=(300, N))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    got = mean_with_ci(list(values), 300, seed=5)
    assert (got.ci_low, got.ci_high) == (float(low), float(high))


def test_corpus_ci_equals_the_one_shot_bootstrap() -> None:
    rng = np.random.default_rng(3)
    task = SimpleNamespace(labels=["a", "b", "c"])
    gold = rng.choice(["a", "b", "c"], size=N)
    pred = np.where(rng.random(N) < 0.8, gold, rng.choice(["a", "b", "c"], size=N))
    items = [ScoreInput(Sample(str(i), "x", (str(g),)), Response()) for i, g in enumerate(gold)]
    scores = [Score({}, {"predicted": str(p)}) for p in pred]
    assert bootstrap.MAX_CELLS // N < 200  # the runner's 200 corpus resamples come in several chunks
    idx = np.random.default_rng(9).integers(0, N, size=(200, N))
    whole = classification_report_resampled(items, scores, task, idx)
    got = corpus_metrics({"classification_report": classification_report}, items, scores, task, 1000, seed=9)
    for key in ("macro_f1", "class.b.f1", "class.c.precision"):
        low, high = np.quantile(whole[key], [0.025, 0.975])
        assert (got[key].ci_low, got[key].ci_high) == (float(low), float(high)), key
