"""Paired statistics against values computed independently."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sst
from statsmodels.stats.contingency_tables import mcnemar

from harness.compare import stats
from harness.compare.verdict import Verdict, VerdictRules, apply_holm, compare_metric


def _binary_pair(n11: int, n10: int, n01: int, n00: int) -> tuple[list[int], list[int]]:
    a = [1] * n11 + [1] * n10 + [0] * n01 + [0] * n00
    b = [1] * n11 + [0] * n10 + [1] * n01 + [0] * n00
    return a, b


def test_mcnemar_matches_binomial_by_hand() -> None:
    # 1 vs 5 discordant pairs: exact two-sided p = 2 * P(X <= 1 | Bin(6, .5)) = 2 * 7/64
    a, b = _binary_pair(10, 1, 5, 20)
    res = stats.mcnemar_exact(a, b)
    assert res.p_value == pytest.approx(14 / 64)
    assert res.p_value == pytest.approx(mcnemar([[10, 1], [5, 20]], exact=True).pvalue)
    assert stats.discordant_counts(a, b) == (1, 5)


def test_mcnemar_all_equal_outcomes() -> None:
    a, b = _binary_pair(7, 0, 0, 3)
    assert stats.mcnemar_exact(a, b).p_value == 1.0


def test_wilcoxon_matches_scipy_with_ties_and_zeros() -> None:
    a = [0.5, 0.2, 0.3, 0.3, 0.9, 0.1, 0.4, 0.4]
    b = [0.6, 0.3, 0.3, 0.4, 0.8, 0.3, 0.5, 0.4]
    d = np.subtract(b, a)
    expected = sst.wilcoxon(d, zero_method="wilcox").pvalue
    assert stats.wilcoxon_signed_rank(a, b).p_value == pytest.approx(expected)


def test_wilcoxon_small_exact_case_by_hand() -> None:
    # five positive differences with distinct ranks: exact two-sided p = 2 / 2**5
    assert stats.wilcoxon_signed_rank([0] * 5, [0.1, 0.2, 0.3, 0.4, 0.5]).p_value == pytest.approx(2 / 32)


def test_wilcoxon_all_zero_differences() -> None:
    res = stats.wilcoxon_signed_rank([0.3, 0.4], [0.3, 0.4])
    assert res.p_value == 1.0


def test_holm_matches_hand_worked() -> None:
    # sorted p: .01*3=.03, .03*2=.06, max(.06, .04*1)=.06
    reject, adjusted = stats.holm([0.01, 0.04, 0.03])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06])
    assert reject == [True, False, False]
    assert stats.holm([]) == ([], [])


def test_bootstrap_ci_is_seeded_and_covers_the_mean() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, 200)
    b = a + 0.3 + rng.normal(0, 0.5, 200)
    ci1 = stats.paired_bootstrap_ci(a, b, seed=3)
    ci2 = stats.paired_bootstrap_ci(a, b, seed=3)
    assert ci1 == ci2
    assert ci1.low < ci1.estimate < ci1.high
    assert ci1.estimate == pytest.approx(float(np.mean(b - a)))
    # the normal-theory interval of a paired mean is close to the bootstrap one for n=200
    se = np.std(b - a, ddof=1) / math.sqrt(200)
    assert ci1.low == pytest.approx(ci1.estimate - 1.96 * se, abs=0.03)
    assert ci1.high == pytest.approx(ci1.estimate + 1.96 * se, abs=0.03)


def test_bootstrap_pvalue() -> None:
    assert stats.paired_bootstrap_pvalue([1.0, 2.0], [1.0, 2.0]).p_value == 1.0
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, 100)
    strong = stats.paired_bootstrap_pvalue(a, a + 1 + rng.normal(0, 0.2, 100), resamples=999)
    assert strong.p_value == pytest.approx(1 / 1000)
    null = stats.paired_bootstrap_pvalue(a, a + rng.normal(0, 1, 100), resamples=999)
    assert null.p_value > 0.05


def test_min_discordant_pairs() -> None:
    # 2 * .5**5 = .0625 >= .05; 2 * .5**6 = .03125 < .05
    assert stats.min_discordant_for_significance(0.05) == 6


def test_mde_binary_uses_discordant_rate() -> None:
    a, b = _binary_pair(60, 10, 10, 20)  # n=100, discordant rate .2
    z = sst.norm.ppf(0.975) + sst.norm.ppf(0.8)
    assert stats.minimum_detectable_effect(a, b) == pytest.approx(z * math.sqrt(0.2 / 100))


def test_mde_binary_floor_is_min_discordant_pairs() -> None:
    a, _ = _binary_pair(80, 0, 0, 20)  # identical runs, n=100: 6 discordant pairs needed
    assert stats.minimum_detectable_effect(a, a) == pytest.approx(6 / 100)
    a, b = _binary_pair(80, 1, 0, 19)  # z * sqrt(.01 / 100) = .028 < 6 / 100
    assert stats.minimum_detectable_effect(a, b) == pytest.approx(6 / 100)


def test_mde_continuous() -> None:
    a = np.linspace(0, 1, 50)
    b = a + np.tile([0.1, -0.1], 25)
    z = sst.norm.ppf(0.975) + sst.norm.ppf(0.8)
    assert stats.minimum_detectable_effect(a, b) == pytest.approx(z * np.std(b - a, ddof=1) / math.sqrt(50))


def test_break_even() -> None:
    assert stats.break_even_requests(100.0, 0.002, 0.001) == pytest.approx(100_000)
    assert stats.break_even_requests(100.0, 0.001, 0.002) == math.inf
    assert stats.break_even_requests(100.0, 0.001, 0.001) == math.inf
    assert stats.break_even_requests(0.0, 0.001, 0.001) == 0.0


def _verdict(a: list[int], b: list[int], cheaper: bool = False, **kw: float) -> Verdict:
    rules = VerdictRules(**kw)  # type: ignore[arg-type]
    mc = compare_metric("accuracy", a, b, rules)
    return apply_holm({"c": [mc]}, rules, {"c": cheaper})["c"][0].verdict


def test_tiny_sample_is_inconclusive_even_when_all_better_and_cheaper() -> None:
    assert _verdict([0] * 10, [1] * 10, cheaper=True) is Verdict.INCONCLUSIVE


def test_verdicts() -> None:
    better_a, better_b = _binary_pair(100, 2, 30, 68)
    assert _verdict(better_a, better_b) is Verdict.PAYS_OFF
    assert _verdict(better_b, better_a) is Verdict.REGRESSION
    same_a, _ = _binary_pair(150, 0, 0, 50)
    assert _verdict(same_a, same_a) is Verdict.NO_DIFFERENCE
    # identical and cheaper: non-inferior within the margin, so tuning pays off
    assert _verdict(same_a, same_a, cheaper=True) is Verdict.PAYS_OFF
    # n=40, 12 discordant pairs split evenly: MDE = z*sqrt(.3/40) = .24 > max_mde .1
    small_a, small_b = _binary_pair(14, 6, 6, 14)
    assert _verdict(small_a, small_b) is Verdict.INCONCLUSIVE
    assert _verdict(small_a, small_b, max_mde=0.3) is Verdict.NO_DIFFERENCE


def test_holm_across_metrics_can_remove_significance() -> None:
    rules = VerdictRules()
    a, b = _binary_pair(100, 3, 13, 84)  # exact p ~ .021 alone
    alone = compare_metric("accuracy", a, b, rules)
    assert alone.test.p_value < 0.05
    others = [compare_metric(f"m{i}", a, b, rules) for i in range(3)]
    corrected = apply_holm({"c": [alone, *others]}, rules, {"c": False})["c"][0]
    assert corrected.p_holm == pytest.approx(min(1.0, 4 * alone.test.p_value))
    assert not corrected.significant


def test_lower_is_better_metrics_are_judged_the_right_way_round() -> None:
    """Fewer invalid answers is an improvement, not a regression; lengths are neither."""
    from harness.compare.verdict import Verdict, VerdictRules, apply_holm, compare_metric, direction

    assert (direction("accuracy"), direction("invalid"), direction("latency_s"), direction("output_length")) == (
        1, -1, -1, 0,
    )
    base = [1.0] * 40 + [0.0] * 20
    cand = [0.0] * 60  # invalid rate drops from 2/3 to 0
    rules = VerdictRules(min_n=30)
    out = apply_holm({"c": [compare_metric("invalid", base, cand, rules)]}, rules, {"c": False})
    assert out["c"][0].verdict is Verdict.PAYS_OFF
    worse = apply_holm({"c": [compare_metric("invalid", cand, base, rules)]}, rules, {"c": False})
    assert worse["c"][0].verdict is Verdict.REGRESSION
    longer = apply_holm({"c": [compare_metric("output_length", [3.0] * 60, [9.0] * 60, rules)]}, rules, {"c": False})
    assert longer["c"][0].verdict is not Verdict.REGRESSION and longer["c"][0].verdict is not Verdict.PAYS_OFF
