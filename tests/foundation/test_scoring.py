"""Classification scoring, aggregation and cost, against hand-worked values."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from harness.config.schema import PriceConfig
from harness.core.cost import cost_parts, cost_usd
from harness.core.records import BackendError, ErrorKind, Response, Sample, Score
from harness.kinds.classification import INVALID
from harness.run.aggregate import counters, mean_with_ci, per_example_metrics
from harness.scorers.base import ScoreInput
from harness.scorers.classification import (
    classification_report,
    classification_report_resampled,
    label_match,
    normalize,
    parse_label,
)

LABELS = ["positive", "negative", "neutral", "very positive"]
TASK = SimpleNamespace(labels=LABELS)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (" Positive", "positive"),
        ("NEGATIVE.", "negative"),
        ("it is neutral, not negative", "neutral"),  # first match wins
        ("Very positive!", "very positive"),  # longer label wins at the same position
        ("positively great", None),  # whole words only
        ("", None),
        ("Négative", "negative"),  # accents stripped
    ],
)
def test_parse_label(output: str, expected: str | None) -> None:
    assert parse_label(output, LABELS) == expected


def test_normalize() -> None:
    assert normalize("  Très_BIEN!!  ok ") == "tres bien!! ok"  # punctuation kept: "C++" is not "C"


def test_label_match_generation_and_choices() -> None:
    s = Sample("1", "x", ("negative",))
    assert label_match(s, Response(texts=(" negative\n",)), TASK).values == {"accuracy": 1.0, "invalid": 0.0}
    bad = label_match(s, Response(texts=("1.5",)), TASK)
    assert bad.values == {"accuracy": 0.0, "invalid": 1.0} and bad.details["predicted"] == INVALID
    choice = label_match(s, Response(choice_logprobs=(-3.0, -0.5, -2.0, -9.0)), TASK)
    assert choice.details["predicted"] == "negative" and choice.values["accuracy"] == 1.0
    failed = label_match(s, Response(texts=("negative",), error=BackendError(ErrorKind.FATAL, "x")), TASK)
    assert failed.values["accuracy"] == 0.0  # an errored request never counts as right


def test_classification_report_hand_worked() -> None:
    """gold: p p n n u ; pred: p n n n <invalid>.
    positive: P=1/1 R=1/2 F1=2/3; negative: P=2/3 R=2/2 F1=0.8; neutral: P=0 R=0 F1=0;
    macro over the three labels of task.labels, all present (neutral as a reference)."""
    task = SimpleNamespace(labels=["positive", "negative", "neutral"])
    gold = ["positive", "positive", "negative", "negative", "neutral"]
    pred = ["positive", "negative", "negative", "negative", INVALID]
    items = [ScoreInput(Sample(str(i), "x", (g,)), Response()) for i, g in enumerate(gold)]
    scores = [Score({}, {"predicted": p}) for p in pred]
    out = classification_report(items, scores, task)
    assert out["class.positive.precision"] == pytest.approx(1.0)
    assert out["class.positive.recall"] == pytest.approx(0.5)
    assert out["class.positive.f1"] == pytest.approx(2 / 3)
    assert out["class.negative.precision"] == pytest.approx(2 / 3)
    assert out["class.negative.f1"] == pytest.approx(0.8)
    assert out["class.neutral.f1"] == 0.0
    assert out["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 0.0) / 3)


def test_resampled_report_equals_sklearn_on_every_resample() -> None:
    """The vectorized bootstrap path gives, row by row, what classification_report (sklearn) gives."""
    rng = np.random.default_rng(5)
    task = SimpleNamespace(labels=["a", "b c", "d", "never"])  # "never": no gold, never predicted
    gold = rng.choice(["a", "b c", "d"], size=40)
    pred = [g if rng.random() < 0.6 else rng.choice(["a", "b c", "d", INVALID]) for g in gold]
    items = [ScoreInput(Sample(str(i), "x", (str(g),)), Response()) for i, g in enumerate(gold)]
    scores = [Score({}, {"predicted": str(p)}) for p in pred]
    idx = rng.integers(0, 40, size=(60, 40))
    idx[0] = 0  # a degenerate resample: one example repeated
    fast = classification_report_resampled(items, scores, task, idx)
    for r, row in enumerate(idx):
        slow = classification_report([items[i] for i in row], [scores[i] for i in row], task)
        assert set(slow) <= set(fast)
        for key, value in slow.items():
            assert fast[key][r] == pytest.approx(value, abs=1e-12), (r, key)
        # a class absent from the resample has no keys there, and NaN (left out of the CI) in the fast path
        assert all(np.isnan(fast[key][r]) for key in set(fast) - set(slow)), r


def test_mean_with_ci_is_seeded_and_brackets_the_mean() -> None:
    values = [1.0] * 30 + [0.0] * 70
    a, b = mean_with_ci(values, 1000, seed=3), mean_with_ci(values, 1000, seed=3)
    assert a == b and a.value == pytest.approx(0.3)
    assert a.ci_low is not None and a.ci_high is not None
    assert a.ci_low < 0.3 < a.ci_high
    # the normal-approximation interval for a proportion, computed independently
    half = 1.96 * np.sqrt(0.3 * 0.7 / 100)
    assert a.ci_low == pytest.approx(0.3 - half, abs=0.03) and a.ci_high == pytest.approx(0.3 + half, abs=0.03)
    constant = mean_with_ci([0.5] * 10, 200)
    assert (constant.ci_low, constant.value, constant.ci_high) == (0.5, 0.5, 0.5)
    assert mean_with_ci([0.7], 200).ci_low is None  # one example: no interval


def test_missing_values_are_left_out_of_their_mean() -> None:
    scores = [Score({"a": 1.0, "b": 0.0}), Score({"a": 0.0}), Score({"a": 1.0, "b": 1.0})]
    m = per_example_metrics(scores, 0)
    assert m["a"].value == pytest.approx(2 / 3) and m["b"].value == pytest.approx(0.5)


def test_cost_and_counters() -> None:
    prices = PriceConfig(input_per_mtok=0.30, output_per_mtok=2.50, cached_per_mtok=0.03, per_hour_usd=3.6)
    r = Response(texts=("x",), prompt_tokens=1000, cached_tokens=400, output_tokens=200, latency_s=2.0)
    # 600 * 0.30e-6 + 400 * 0.03e-6 + 200 * 2.50e-6 + 2 s * 3.6 $/h = 0.00018 + 0.000012 + 0.0005 + 0.002
    assert cost_usd(r, prices) == pytest.approx(0.002692)
    parts = cost_parts(r, prices)  # the split MLflow's trace shows: prompt tokens, output tokens, compute
    assert (parts.input_usd, parts.output_usd, parts.compute_usd) == pytest.approx((0.000192, 0.0005, 0.002))
    err = Response(error=BackendError(ErrorKind.TRANSIENT, "503"), latency_s=4.0)
    c = counters([r, err], [0.002692, 0.0])
    assert c["n_errors"] == 1 and c["error_rate"] == 0.5
    assert c["prompt_tokens_total"] == 1000 and c["latency_s_p50"] == pytest.approx(3.0)
    assert c["cost_usd_per_1k"] == pytest.approx(1000 * 0.002692 / 2)
