"""Macro-F1 and per-class bootstrap CIs leave out classes a resample lacks (issue 16, item 5).

Reference: scikit-learn called directly on each resample, with `labels` the
task labels present in that resample's references or predictions (a class
with neither has no F1 to average) and zero_division=0.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_fscore_support

from harness.core.records import Response, Sample, Score
from harness.kinds.classification import INVALID
from harness.run.aggregate import corpus_metrics
from harness.scorers.base import ScoreInput
from harness.scorers.classification import classification_report, classification_report_resampled


def _items(gold: list[str], pred: list[str]) -> tuple[list[ScoreInput], list[Score]]:
    items = [ScoreInput(Sample(str(i), "x", (g,)), Response()) for i, g in enumerate(gold)]
    return items, [Score({}, {"predicted": p}) for p in pred]


def test_perfect_predictions_give_ci_of_one() -> None:
    """A rare class (2 of 40) is missing from many resamples; that is no error of the model's."""
    task = SimpleNamespace(labels=["a", "b", "rare"])
    gold = ["a"] * 20 + ["b"] * 18 + ["rare"] * 2
    items, scores = _items(gold, list(gold))
    out = corpus_metrics({"classification_report": classification_report}, items, scores, task, 200, seed=0)
    assert (out["macro_f1"].value, out["macro_f1"].ci_low, out["macro_f1"].ci_high) == (1.0, 1.0, 1.0)
    for label in task.labels:
        f1 = out[f"class.{label}.f1"]
        assert (f1.value, f1.ci_low, f1.ci_high) == (1.0, 1.0, 1.0), label
        assert out[f"class.{label}.precision"].ci_low == 1.0 and out[f"class.{label}.recall"].ci_low == 1.0


def test_a_label_never_seen_or_predicted_is_left_out_of_the_point_estimate() -> None:
    task = SimpleNamespace(labels=["a", "b", "never"])
    gold = ["a", "a", "b", "b"]
    pred = ["a", "b", "b", "b"]
    items, scores = _items(gold, pred)
    out = classification_report(items, scores, task)
    # a: P=1 R=.5 F1=2/3; b: P=2/3 R=1 F1=.8; 'never' has no F1 (it used to count as 0: macro .489)
    assert out["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert out["macro_f1"] == pytest.approx(f1_score(gold, pred, labels=["a", "b"], average="macro", zero_division=0))
    assert "class.never.f1" not in out


def test_resampled_report_matches_sklearn_over_present_labels() -> None:
    rng = np.random.default_rng(11)
    labels = ["a", "b", "c", "rare", "never"]
    task = SimpleNamespace(labels=labels)
    gold = [*(str(g) for g in rng.choice(["a", "b", "c"], size=30)), "rare"]
    pred = [g if rng.random() < 0.7 else str(rng.choice(["a", "b", "c", INVALID])) for g in gold]
    items, scores = _items(gold, pred)
    idx = rng.integers(0, len(gold), size=(80, len(gold)))
    fast = classification_report_resampled(items, scores, task, idx)
    for r, row in enumerate(idx):
        g = [gold[i] for i in row]
        p = [pred[i] for i in row]
        present = [lab for lab in labels if lab in set(g) | set(p)]
        want = f1_score(g, p, labels=present, average="macro", zero_division=0)
        assert fast["macro_f1"][r] == pytest.approx(want, abs=1e-12), r
        prec, rec, f1, _ = precision_recall_fscore_support(g, p, labels=present, average=None, zero_division=0)
        for lab in labels:
            got = [fast[f"class.{lab}.{m}"][r] for m in ("precision", "recall", "f1")]
            if lab in present:
                i = present.index(lab)
                assert got == pytest.approx([prec[i], rec[i], f1[i]], abs=1e-12), (r, lab)
            else:
                assert all(math.isnan(x) for x in got), (r, lab)
