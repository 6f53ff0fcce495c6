"""Accuracy and Cohen's kappa of judge grades: golden values by hand and against sklearn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from harness.judge.agreement import INVALID, agreement, kappa_rows


def test_hand_computed_table_with_an_invalid_reply() -> None:
    # known: 4 pass, 4 fail; judge: 4 pass, 3 fail, 1 invalid; 5 of 8 agree.
    # p_o = 5/8; p_e = (4*4 [pass] + 4*3 [fail] + 0*1 [invalid]) / 64 = 28/64; kappa = (40/64-28/64)/(36/64) = 1/3
    known = ["pass", "fail", "pass", "pass", "fail", "fail", "pass", "fail"]
    judged = ["pass", "fail", "fail", "pass", "fail", "pass", "pass", None]
    a = agreement(known, judged, ["fail", "pass"], resamples=500, seed=1)
    assert a.n == 8 and a.n_invalid == 1
    assert a.accuracy.value == pytest.approx(5 / 8)
    assert a.kappa.value == pytest.approx(1 / 3)
    assert a.labels == ("fail", "pass", INVALID)
    assert a.confusion == ((2, 1, 1), (1, 3, 0), (0, 0, 0))  # the invalid reply is a disagreement, not dropped
    assert a.kappa.low < a.kappa.value < a.kappa.high and a.accuracy.low <= 5 / 8 <= a.accuracy.high
    again = agreement(known, judged, ["fail", "pass"], resamples=500, seed=1)
    assert again == a  # seeded


def test_a_judge_that_always_says_pass_has_kappa_zero_however_often_it_is_right() -> None:
    known = ["pass"] * 9 + ["fail"]
    a = agreement(known, ["pass"] * 10, ["fail", "pass"], resamples=200)
    assert a.accuracy.value == pytest.approx(0.9)
    assert a.kappa.value == pytest.approx(0.0)  # p_o = 0.9 = p_e


def test_perfect_and_inverted_judges() -> None:
    known = ["a", "b", "c", "a", "b", "c"]
    assert agreement(known, known, ["a", "b", "c"], resamples=0).kappa.value == pytest.approx(1.0)
    flipped = ["b", "a", "a", "c", "c", "b"]
    assert agreement(known, flipped, ["a", "b", "c"], resamples=0).kappa.value == pytest.approx(
        cohen_kappa_score(known, flipped))
    assert agreement(known, flipped, ["a", "b", "c"], resamples=0).accuracy.value == 0.0


def test_undefined_kappa_is_nan_not_an_error() -> None:
    a = agreement(["pass"] * 4, ["pass"] * 4, ["fail", "pass"], resamples=100)
    assert math.isnan(a.kappa.value) and a.accuracy.value == 1.0


@pytest.mark.parametrize("k", [2, 3, 5])
def test_vectorised_bootstrap_kappa_equals_sklearn_row_by_row(k: int) -> None:
    rng = np.random.default_rng(k)
    a = rng.integers(0, k, size=(50, 30))
    b = np.where(rng.random((50, 30)) < 0.6, a, rng.integers(0, k, size=(50, 30)))
    mine = kappa_rows(a, b, k)
    ref = [cohen_kappa_score(a[i], b[i], labels=list(range(k))) for i in range(50)]
    assert np.allclose(mine, ref)
