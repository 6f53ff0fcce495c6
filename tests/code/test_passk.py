"""pass@k against golden values computed independently (exact rationals, cases/pass_at_k.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.code.passk import pass_at_k, pass_at_ks

CASES = json.loads((Path(__file__).parent / "cases" / "pass_at_k.json").read_text())


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: f"n{c['n']}-c{c['c']}-k{c['k']}")
def test_golden(case: dict) -> None:
    got = pass_at_k(case["n"], case["c"], case["k"])
    if case["expected"] is None:
        assert got is None
    else:
        assert got == pytest.approx(case["expected"], abs=CASES["tolerance"])


def test_pass_at_k_is_not_pass_at_n() -> None:
    # 10 candidates, 3 pass: pass@1 is 0.3, not "any of the 10 passed" (1.0).
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 10) == 1.0
    assert pass_at_ks(10, 3, [1, 5]) == pytest.approx({"pass@1": 0.3, "pass@5": 11 / 12})


def test_k_above_n_is_left_out() -> None:
    assert pass_at_ks(2, 1, [1, 5, 10]) == {"pass@1": 0.5}


def test_numerically_stable_for_large_n() -> None:
    assert 0.0 < pass_at_k(10_000, 1, 1) == pytest.approx(1e-4)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, -1, 1), (3, 1, 0)])
def test_bad_arguments(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)
