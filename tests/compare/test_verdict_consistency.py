"""The test behind a verdict agrees with the effect and CI it reports (issue 16, items 1 and 7).

Reference values come from scipy directly (`ttest_rel`, `wilcoxon`, `norm`),
from numpy's generator called the way the bootstrap is defined, or by hand.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from scipy import stats as sst

from harness.compare import stats
from harness.compare.verdict import Verdict, VerdictRules, apply_holm, compare_metric
from harness.core import bootstrap


def _decide(metric: str, a: object, b: object, rules: VerdictRules | None = None) -> object:
    rules = rules or VerdictRules()
    return apply_holm({"c": [compare_metric(metric, a, b, rules)]}, rules, {"c": False})["c"][0]


def _skewed() -> tuple[np.ndarray, np.ndarray]:
    """47 of 50 examples worse by 0.01, 3 better by 0.5: mean +0.0206, most examples worse."""
    a = np.full(50, 0.5)
    b = a.copy()
    b[:47] -= 0.01
    b[47:] += 0.5
    return a, b


def test_skewed_gain_whose_ci_includes_zero_does_not_pay_off() -> None:
    a, b = _skewed()
    mc = _decide("rougeL", a, b)
    assert mc.delta.estimate == pytest.approx((3 * 0.5 - 47 * 0.01) / 50)
    assert mc.delta.low < 0 < mc.delta.high  # the effect's CI includes 0
    # the test is about the mean (the reported effect): scipy's paired t-test
    assert mc.test.test == "t"
    assert mc.test.p_value == pytest.approx(sst.ttest_rel(b, a).pvalue)
    assert mc.test.p_value > 0.2
    # Wilcoxon (which tests a shift of the median-like centre, here downward) is kept as a secondary figure
    assert mc.secondary is not None and mc.secondary.test == "wilcoxon"
    assert mc.secondary.p_value == pytest.approx(sst.wilcoxon(b - a).pvalue)
    assert not mc.significant
    assert mc.verdict is not Verdict.PAYS_OFF
    assert mc.verdict is Verdict.NO_DIFFERENCE


@pytest.mark.parametrize("seed", range(16))
def test_a_significant_verdict_always_has_a_ci_that_excludes_zero(seed: int) -> None:
    """Random skewed continuous and binary pairs: pays off / regression only with a one-sided CI."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 80))
    if seed % 2:
        a = rng.integers(0, 2, n).astype(float)
        b = np.where(rng.random(n) < rng.uniform(0.05, 0.4), 1 - a, a)
    else:
        a = rng.random(n)
        b = a + rng.exponential(rng.uniform(0.01, 0.3), n) * rng.choice([-1, 1], n, p=[0.8, 0.2])
    rules = VerdictRules()
    pair = {"ab": [compare_metric("accuracy", a, b, rules)], "ba": [compare_metric("accuracy", b, a, rules)]}
    for [mc] in apply_holm(pair, rules, {"ab": False, "ba": False}).values():
        if mc.verdict is Verdict.PAYS_OFF:
            assert mc.delta.low > 0, (seed, mc)
        if mc.verdict is Verdict.REGRESSION:
            assert mc.delta.high < 0, (seed, mc)
        if mc.significant:
            assert mc.p_holm < 0.05 and (mc.delta.low > 0 or mc.delta.high < 0)


def test_binary_mcnemar_and_ci_agree_on_a_small_clear_gain() -> None:
    # 0 vs 6 discordant pairs, n=40: exact two-sided p = 2 * 0.5**6 = 0.03125; every changed example got better
    a = [1] * 20 + [0] * 20
    b = [1] * 20 + [1] * 6 + [0] * 14
    mc = _decide("accuracy", a, b)
    assert mc.test.test == "mcnemar" and mc.test.p_value == pytest.approx(0.03125)
    assert mc.secondary is None
    assert mc.delta.low > 0 and mc.verdict is Verdict.PAYS_OFF


def test_paired_t_test_degenerate_cases() -> None:
    assert stats.paired_t_test([0.2], [0.9]).p_value == 1.0  # one example: no evidence
    assert stats.paired_t_test([0.2, 0.3], [0.2, 0.3]).p_value == 1.0
    # every example changed by the same amount: the exact sign-test p of n same-sign changes, 2 * 0.5**n
    assert stats.paired_t_test([0.1] * 5, [0.3] * 5).p_value == pytest.approx(2 / 32)
    rng = np.random.default_rng(0)
    a, b = rng.random(30), rng.random(30)
    assert stats.paired_t_test(a, b).p_value == pytest.approx(sst.ttest_rel(b, a).pvalue)


def test_bootstrap_pvalue_of_one_example_is_one() -> None:
    assert stats.paired_bootstrap_pvalue([0.0], [1.0]).p_value == 1.0
    # two examples that both rose: no sign-flip test can go below 2 * 0.5**2 = 0.5
    assert stats.paired_bootstrap_pvalue([0.0, 0.0], [1.0, 1.0]).p_value == pytest.approx(0.5)


def test_tiny_sample_verdict_is_inconclusive() -> None:
    assert _decide("rougeL", [0.1], [0.9], VerdictRules(min_n=1)).verdict is not Verdict.PAYS_OFF


def test_bootstrap_ci_same_numbers_as_the_one_shot_index_matrix() -> None:
    """Chunked draws give the numbers of `d[rng.integers(0, n, (R, n))].mean(1)`, the definition before chunking."""
    rng = np.random.default_rng(4)
    a, b = rng.random(37), rng.random(37)
    d = b - a
    means = d[np.random.default_rng(7).integers(0, 37, size=(500, 37))].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    ci = stats.paired_bootstrap_ci(a, b, resamples=500, seed=7)
    assert (ci.low, ci.high) == (float(low), float(high))
    for cells in (1, 37, 100, 10_000):  # one row at a time, exact rows, ragged rows, all at once
        got = bootstrap.bootstrap_means(d, 500, 7, max_cells=cells)
        assert np.array_equal(got, means)


def test_bootstrap_chunks_are_bounded() -> None:
    shapes = [c.shape for c in bootstrap.index_chunks(1000, 25, seed=0, max_cells=4096)]
    assert all(rows * n <= 4096 for rows, n in shapes) and sum(r for r, _ in shapes) == 25
    # wider than the budget: one row at a time
    assert {c.shape for c in bootstrap.index_chunks(10_000, 3, seed=0, max_cells=4096)} == {(1, 10_000)}


def test_bootstrap_memory_does_not_grow_with_resamples_times_n() -> None:
    n, resamples = 50_000, 100  # one-shot: 2 x 100 x 50,000 x 8 bytes = 80 MB
    rng = np.random.default_rng(1)
    a, b = rng.random(n), rng.random(n)
    tracemalloc.start()
    try:
        stats.paired_bootstrap_ci(a, b, resamples=resamples)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * bootstrap.MAX_CELLS * 8 + 4 * n * 8 + 1_000_000 < resamples * n * 8


def test_mde_uses_the_holm_level() -> None:
    """Four tests in one comparison: the MDE is at alpha / 4 (Holm's strictest step)."""
    rules = VerdictRules()
    rng = np.random.default_rng(3)
    a = rng.random(100)
    b = a + rng.normal(0, 0.2, 100)
    cont = [compare_metric(f"rouge{i}", a, b, rules) for i in range(3)]
    x = [1] * 60 + [1] * 10 + [0] * 10 + [0] * 20  # n=100, discordant rate .2
    y = [1] * 60 + [0] * 10 + [1] * 10 + [0] * 20
    binary = compare_metric("accuracy", x, y, rules)
    out = apply_holm({"c": [*cont, binary]}, rules, {"c": False})["c"]
    z = sst.norm.ppf(1 - 0.05 / 4 / 2) + sst.norm.ppf(0.8)
    assert out[0].mde == pytest.approx(z * np.std(b - a, ddof=1) / math.sqrt(100))
    assert out[3].mde == pytest.approx(z * math.sqrt(0.2 / 100))
    # identical binary runs: the floor is the fewest one-way discordant pairs significant at .0125:
    # 2 * .5**7 = .0156 is not, 2 * .5**8 = .0078 is -> 8 / n
    same = compare_metric("accuracy", x, x, rules)
    out = apply_holm({"c": [*cont, same]}, rules, {"c": False})["c"]
    assert out[3].mde == pytest.approx(8 / 100)
    # alone, the unadjusted level
    alone = apply_holm({"c": [compare_metric("accuracy", x, x, rules)]}, rules, {"c": False})["c"][0]
    assert alone.mde == pytest.approx(6 / 100)


def test_non_inferiority_with_several_candidates_is_held_to_their_bonferroni_share() -> None:
    """Rule 3 ("non-inferior and cheaper") with k candidates reads the 1 - alpha/k CI's worst end.

    One candidate whose 95% CI low clears -margin pays off alone; the same candidate among four
    must clear it with the 98.75% CI (one-sided alpha / 8), computed here from the definition of
    the bootstrap, and does not.
    """
    rng = np.random.default_rng(11)
    a = rng.random(100)
    b = a + rng.normal(0.0, 0.05, 100)
    d = b - a
    means = d[np.random.default_rng(0).integers(0, 100, size=(2000, 100))].mean(axis=1)  # seed 0, 2000 resamples
    low95 = float(np.quantile(means, 0.025))
    low4 = float(np.quantile(means, 0.05 / 4 / 2))
    assert low4 < low95 < 0
    rules = VerdictRules(margin=-(low95 + low4) / 2)  # between the two bounds

    alone = compare_metric("rougeL", a, b, rules)
    assert alone.ni is None and alone.ni_bound.low == pytest.approx(low95)
    assert apply_holm({"c": [alone]}, rules, {"c": True})["c"][0].verdict is Verdict.PAYS_OFF
    assert apply_holm({"c": [alone]}, rules, {"c": False})["c"][0].verdict is not Verdict.PAYS_OFF  # cost matters

    among4 = {f"c{i}": [compare_metric("rougeL", a, b, rules, candidates=4)] for i in range(4)}
    mc = among4["c0"][0]
    assert mc.ni is not None and mc.ni.low == pytest.approx(low4)
    assert mc.delta.low == pytest.approx(low95)  # the reported CI is still the 95% one
    out = apply_holm(among4, rules, dict.fromkeys(among4, True))
    assert {r[0].verdict for r in out.values()} == {Verdict.NO_DIFFERENCE}
