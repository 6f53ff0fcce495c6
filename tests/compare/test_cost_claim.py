""""Cheaper" must be shown before a verdict rests on it (harness.compare.cost).

The case that motivated it, from the demonstration on an idle machine: the
base model 3-shot was timed faster per request than the 0-shot run it
followed (warm-up), so with accuracy +0.125, 95% CI [-0.0125, +0.2625],
p_holm 0.30 (not significant), rule 3 said "non-inferior and cheaper: PAYS OFF"
for a prompt that processes almost twice the tokens.
"""

from __future__ import annotations

import math

import pytest

from harness.compare.comparison import compare_runs, to_json
from harness.compare.cost import cost_claim
from harness.compare.report import markdown
from harness.compare.runs import ExampleRow, RunData
from harness.compare.verdict import Verdict, VerdictRules

N = 80
TIMED = {"model.prices.per_hour_usd": "0.1"}


def _run(
    run_id: str, correct: list[int], *, cost: float | list[float], prompt_tokens: float, params: dict[str, str]
) -> RunData:
    costs = cost if isinstance(cost, list) else [cost] * len(correct)
    rows = tuple(
        ExampleRow(f"q{i:03d}", prompt_tokens, 0.0, c * 36000, c, None, {"accuracy": float(ok)})
        for i, (ok, c) in enumerate(zip(correct, costs, strict=True))
    )
    return RunData(run_id * 32, run_id, {"harness.dataset_fingerprint": "same"}, {}, rows, 0, params)


def _demo_pair(cand_params: dict[str, str]) -> tuple[RunData, RunData]:
    # 0-shot 12/80 right; 3-shot 22 gained and 12 lost: +0.125, exact McNemar p = 0.12, a CI that includes 0
    base = [1] * 12 + [0] * 68
    cand = [0] * 12 + [1] * 22 + [0] * 46
    # timed: the 3-shot run happened to be faster per request (0.000555 vs 0.000707 USD), with 130 vs 72 tokens
    return (
        _run("a", base, cost=0.000707, prompt_tokens=72, params=TIMED),
        _run("b", cand, cost=0.000555, prompt_tokens=130, params=cand_params),
    )


MARGIN = 0.05


def test_timed_saving_against_more_tokens_is_not_cheaper_and_does_not_pay_off() -> None:
    base, cand = _demo_pair(TIMED)
    rules = VerdictRules(margin=MARGIN, min_n=30)
    comp = compare_runs(base, [cand], "accuracy", rules, tuning_cost_usd=0.0026)
    c = comp.candidates[0]
    assert c.cost is not None and not c.cost.cheaper
    assert "timing noise" in c.cost.why
    # the saving itself is real in the numbers: (0.000707 - 0.000555) / 0.000707
    assert c.cost.saving == pytest.approx((0.000707 - 0.000555) / 0.000707)
    mc = c.metric("accuracy")
    assert mc.test.p_value == pytest.approx(0.12149, abs=1e-4)  # 2 * P(X <= 12), X ~ Binomial(34, 1/2)
    assert -MARGIN < mc.delta.low < 0 < mc.delta.estimate  # non-inferior, and the CI includes 0 ...
    assert c.verdict is not Verdict.PAYS_OFF  # ... so nothing may say "pays off"
    assert math.isinf(c.break_even_requests)  # an unestablished saving pays nothing back
    md = markdown(comp)
    assert "no: timed saving contradicted by tokens (130 vs 72 per request)" in md
    assert to_json(comp)["candidates"][0]["cost_claim"]["cheaper"] is False


def test_token_priced_consistent_saving_is_cheaper_and_non_inferiority_pays_off() -> None:
    # the same numbers priced by tokens (an API): a 21% lower price per request on every example is a real saving
    base, cand = _demo_pair({})
    base = RunData(base.run_id, base.run_name, base.tags, {}, base.rows, 0, {})
    comp = compare_runs(base, [cand], "accuracy", VerdictRules(margin=MARGIN, min_n=30), tuning_cost_usd=0.0026)
    c = comp.candidates[0]
    assert c.cost is not None and c.cost.cheaper
    assert c.metric("accuracy").delta.low < 0 and c.verdict is Verdict.PAYS_OFF  # non-inferior and cheaper
    assert c.break_even_requests == pytest.approx(0.0026 / (0.000707 - 0.000555))


def test_a_saving_below_min_saving_is_not_claimed() -> None:
    same = [1] * 40 + [0] * 40
    base = _run("a", same, cost=0.0010, prompt_tokens=50, params={})
    cand = _run("b", same, cost=0.00095, prompt_tokens=50, params={})  # 5% cheaper
    claim = cost_claim(base, cand, [r.id for r in base.rows], min_saving=0.10)
    assert not claim.cheaper and "below min_saving" in claim.why
    assert cost_claim(base, cand, [r.id for r in base.rows], min_saving=0.04).cheaper


def test_a_saving_that_is_not_consistent_across_examples_is_not_claimed() -> None:
    same = [1] * 40 + [0] * 40
    base = _run("a", same, cost=0.0010, prompt_tokens=50, params={})
    # cheaper on average (-1.5%) only because of two free examples; dearer on the other 78
    costs = [0.00101] * 78 + [0.0] * 2
    cand = _run("b", same, cost=costs, prompt_tokens=50, params={})
    ids = [r.id for r in base.rows]
    claim = cost_claim(base, cand, ids, min_saving=0.01, resamples=2000, seed=0)
    mean_c = sum(costs) / len(costs)
    assert claim.saving == pytest.approx((0.0010 - mean_c) / 0.0010)
    assert claim.delta.low < 0 < claim.delta.high and not claim.cheaper
    assert "CI includes 0" in claim.why


def test_a_dearer_candidate_is_never_cheaper() -> None:
    same = [1] * 40 + [0] * 40
    base = _run("a", same, cost=0.0010, prompt_tokens=50, params={})
    cand = _run("b", same, cost=0.0012, prompt_tokens=40, params={})
    claim = cost_claim(base, cand, [r.id for r in base.rows], min_saving=0.10)
    assert not claim.cheaper and claim.saving == pytest.approx(-0.2)


def test_a_candidate_that_cost_nothing_to_make_has_no_break_even() -> None:
    # a prompting baseline (3-shot) is not tuned: "break-even 0 requests" would read as "pays back at once"
    base, cand = _demo_pair(TIMED)
    comp = compare_runs(base, [cand], "accuracy", VerdictRules(margin=MARGIN, min_n=30), tuning_cost_usd=0.0)
    assert "break-even n/a (no tuning cost)" in comp.headline()
    assert "| n/a (no tuning cost) |" in markdown(comp)


def test_a_timed_saving_on_the_same_tokens_is_machine_load_not_a_saving() -> None:
    # the methods table's case: a merged IA3 adapter gave exactly the base's answers (delta 0.000) on the same
    # prompts, timed 13% faster (0.124 vs 0.142 USD per 1k requests) because the machine was less loaded then
    same = [1] * 10 + [0] * 70
    base = _run("a", same, cost=0.000142, prompt_tokens=72, params=TIMED)
    cand = _run("b", same, cost=0.000124, prompt_tokens=72, params=TIMED)
    ids = [r.id for r in base.rows]
    claim = cost_claim(base, cand, ids, min_saving=0.10)
    assert claim.saving == pytest.approx(18 / 142) and claim.delta.high < 0  # material and consistent ...
    assert not claim.cheaper and "not carried by tokens (72 vs 72 per request)" in claim.why  # ... yet not shown
    comp = compare_runs(base, [cand], "accuracy", VerdictRules(margin=MARGIN, min_n=30), tuning_cost_usd=0.0047)
    assert comp.candidates[0].verdict is not Verdict.PAYS_OFF and math.isinf(comp.candidates[0].break_even_requests)
    # on dedicated hardware the user may say the timings are comparable
    assert cost_claim(base, cand, ids, min_saving=0.10, trust_timed_cost=True).cheaper
    trusted = VerdictRules(margin=MARGIN, min_n=30, trust_timed_cost=True)
    assert compare_runs(base, [cand], "accuracy", trusted).candidates[0].verdict is Verdict.PAYS_OFF


def test_a_timed_saving_carried_by_fewer_tokens_is_cheaper() -> None:
    # a shorter prompt (0-shot against a 3-shot baseline): fewer tokens and less time, both by more than min_saving
    same = [1] * 40 + [0] * 40
    base = _run("a", same, cost=0.000707, prompt_tokens=130, params=TIMED)
    cand = _run("b", same, cost=0.000555, prompt_tokens=72, params=TIMED)
    claim = cost_claim(base, cand, [r.id for r in base.rows], min_saving=0.10)
    assert claim.cheaper and claim.why == "cheaper by 21.5%"


def test_four_cheaper_candidates_each_clear_non_inferiority_at_their_bonferroni_share() -> None:
    """The same cheaper candidate pays off alone and not among four, with the bound in the verdict line."""
    base, cand = _demo_pair({})
    base = RunData(base.run_id, base.run_name, base.tags, {}, base.rows, 0, {})
    alone = compare_runs(base, [cand], "accuracy", VerdictRules(min_n=30))
    four = [RunData(str(i) * 32, f"cand{i}", cand.tags, {}, cand.rows, 0, {}) for i in range(4)]
    probe = compare_runs(base, four, "accuracy", VerdictRules(min_n=30)).candidates[0].metric("accuracy")
    assert probe.ni is not None
    low95, low4 = alone.candidates[0].metric("accuracy").delta.low, probe.ni.low
    assert low4 < low95 < 0
    rules = VerdictRules(margin=-(low95 + low4) / 2, min_n=30)

    assert compare_runs(base, [cand], "accuracy", rules).candidates[0].verdict is Verdict.PAYS_OFF
    comp = compare_runs(base, four, "accuracy", rules)
    assert all(c.cost is not None and c.cost.cheaper for c in comp.candidates)
    assert {c.verdict for c in comp.candidates} == {Verdict.INCONCLUSIVE}
    assert "non-inferiority 98.75% CI [" in comp.verdict_lines()[0]
