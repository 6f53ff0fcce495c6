"""The side-by-side judge's logic with scripted in-process judges: combining orders, biases, golden statistics.

Golden values are worked out by hand in the comments (binomial tails, Wilson's
formula, a 4-point correlation), never read back from the code under test.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from harness.compare.verdict import WIN_RATE, VerdictRules, compare_metric
from harness.core.errors import ConfigError
from harness.core.records import Response
from harness.judge import pairwise as pw

_SLOTS = re.compile(r"\[Response A\]\n(.*?)\n\n\[Response B\]\n(.*?)\n\nReply with", re.S)


def slots(prompt: str) -> tuple[str, str]:
    """(response A, response B) as the built-in template shows them."""
    m = _SLOTS.search(prompt)
    assert m, prompt
    return m.group(1), m.group(2)


class Scripted:
    """A judge answering each prompt by a rule on the two responses it shows; records every prompt."""

    def __init__(self, rule: Callable[[str, str, str], str]) -> None:
        self.rule = rule
        self.asked: list[list[str]] = []

    def ask(self, prompts: Sequence[str], *, attempt: int = 0) -> list[Response]:
        self.asked.append(list(prompts))
        return [Response(texts=(self.rule(p, *slots(p)),)) for p in prompts]


def first_slot(_: str, a: str, b: str) -> str:
    return "A"


def longer(_: str, a: str, b: str) -> str:
    return "A" if len(a.split()) > len(b.split()) else "B" if len(b.split()) > len(a.split()) else "tie"


def correct(prompt: str, a: str, b: str) -> str:
    """A fair judge: prefers the response equal to the reference, tie when both or neither are."""
    ref = re.search(r"\[Reference answer\]\n(.*?)\n", prompt)
    assert ref
    ok_a, ok_b = a == ref.group(1), b == ref.group(1)
    return "tie" if ok_a == ok_b else "A" if ok_a else "B"


def items(kinds: str) -> list[pw.PairItem]:
    """One item per letter: c = only the candidate right, b = only the baseline, t = both right.

    The right answer has two words; the wrong one three on even items and one on odd items, so
    length says nothing about correctness when the kinds are balanced over even and odd items.
    """
    out = []
    for i, k in enumerate(kinds):
        right, wrong = f"answer {i}", f"wrong answer {i}" if i % 2 == 0 else f"wrong{i}"
        base, cand = {"c": (wrong, right), "b": (right, wrong), "t": (right, right)}[k]
        out.append(pw.PairItem(f"i{i:02d}", f"question {i}", base, cand, reference=right))
    return out


@pytest.mark.parametrize(
    ("reply", "pick"),
    [("A", "A"), ("b", "B"), ("[[A]]", "A"), ("Tie.", "tie"), ("Verdict: B", "B"), ("Response A is better", "A"),
     ("**B**", "B"), ("  tie - both fine", "tie"), ("", None), ("Both are good", None), ("Apple", None),
     ("C", None)],
)
def test_parse_pick(reply: str, pick: str | None) -> None:
    assert pw.parse_pick(reply) == pick


@pytest.mark.parametrize(
    ("forward", "backward", "outcome"),
    [
        ("B", "A", pw.WIN),  # candidate shown second, then first: picked both times
        ("A", "B", pw.LOSS),  # baseline picked in both orders
        ("tie", "tie", pw.TIE),
        ("A", "A", pw.TIE),  # the first slot both times: position-inconsistent
        ("B", "tie", pw.TIE),
        (None, "A", pw.TIE),  # unparsable
    ],
)
def test_combine(forward: str | None, backward: str | None, outcome: float) -> None:
    assert pw.combine(forward, backward) == outcome


def test_both_orders_are_asked_in_one_batch() -> None:
    judge = Scripted(correct)
    its = items("cbt")
    pw.judge_pairs(judge, its)
    assert len(judge.asked) == 1 and len(judge.asked[0]) == 6
    for k, it in enumerate(its):
        assert slots(judge.asked[0][2 * k]) == (it.baseline, it.candidate)
        assert slots(judge.asked[0][2 * k + 1]) == (it.candidate, it.baseline)


def test_first_position_judge_is_caught() -> None:
    res = pw.judge_pairs(Scripted(first_slot), items("cccccccbbt"))
    q = res.quality
    assert q.position_consistency.value == 0.0 and q.n_inconsistent == 10
    assert q.first_position_rate == 1.0
    assert (res.wins, res.ties, res.losses) == (0, 10, 0)
    assert math.isnan(q.length_bias.value)  # every item a tie: no preference to correlate
    reasons = pw.weak_reasons(q, pw.Thresholds())
    assert len(reasons) == 1 and reasons[0].startswith("position consistency 0.00 < 0.8")


def test_length_judge_is_caught() -> None:
    res = pw.judge_pairs(Scripted(longer), items("ccccccbbbb"))
    q = res.quality
    assert q.position_consistency.value == 1.0
    assert q.length_bias.value == 1.0 and q.length_bias.p == 0.0
    # the candidate's output is the longer one on items 1, 3, 5 (the baseline's one-word wrong answer)
    # and 6, 8 (its own three-word wrong answer): 5 wins, whatever is right
    assert (res.wins, res.losses) == (5, 5)
    reasons = pw.weak_reasons(q, pw.Thresholds())
    assert len(reasons) == 1 and "length bias r=+1.00" in reasons[0] and "longer" in reasons[0]


def test_fair_judge_golden_win_rate_and_sign_test() -> None:
    res = pw.judge_pairs(Scripted(correct), items("ccccccccbb"))
    # sign(length diff) = [-1, 1, -1, 1, -1, 1, -1, 1, 1, -1] against preference [1] * 8 + [-1] * 2: r = 0
    assert res.quality.length_bias.value == pytest.approx(0.0, abs=1e-12)
    assert res.quality.position_consistency.value == 1.0 and not pw.weak_reasons(res.quality, pw.Thresholds())
    assert (res.wins, res.ties, res.losses) == (8, 0, 2) and res.win_rate == 0.8
    outcomes = [j.outcome for j in res.items]
    mc = compare_metric(WIN_RATE, [0.5] * 10, outcomes, VerdictRules(resamples=500))
    # sign test: 8 wins of 10 decisive, two-sided: 2 * (C(10,8) + C(10,9) + C(10,10)) / 2**10 = 2 * 56 / 1024
    assert mc.test.test == "sign" and mc.test.p_value == pytest.approx(112 / 1024)
    assert mc.delta.estimate == pytest.approx(0.3)  # win rate 0.8 - 0.5
    assert (mc.n_better, mc.n_worse) == (8, 2) and mc.secondary is None


def test_fair_judge_with_ties_golden() -> None:
    res = pw.judge_pairs(Scripted(correct), items("cccccctttb"))
    assert (res.wins, res.ties, res.losses) == (6, 3, 1)
    assert res.win_rate == pytest.approx((6 + 0.5 * 3) / 10)
    mc = compare_metric(WIN_RATE, [0.5] * 10, [j.outcome for j in res.items], VerdictRules(resamples=500))
    # ties dropped: 6 wins of 7, two-sided: 2 * (C(7,6) + C(7,7)) / 2**7 = 16 / 128
    assert mc.test.p_value == pytest.approx(16 / 128)


def test_wilson_interval_golden() -> None:
    # Wilson by hand for 7 of 10, z = 1.959964: centre (p + z^2/2n) / (1 + z^2/n),
    # half-width z * sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)
    z, n, p = 1.959963985, 10, 0.7
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    est = pw.wilson(7, 10)
    assert est.value == 0.7
    assert (est.low, est.high) == pytest.approx((centre - half, centre + half), abs=1e-9)
    assert (est.low, est.high) == pytest.approx((0.3968, 0.8922), abs=1e-4)


def test_length_bias_golden() -> None:
    # sign(diff) = [1, 1, -1, -1], preference = [1, 0, -1, 0]: both means 0,
    # r = sum(xy) / sqrt(sum(x^2) sum(y^2)) = 2 / sqrt(4 * 2) = 0.70711
    est = pw.length_bias([1.0, 0.0, -1.0, 0.0], [3, 1, -2, -5])
    assert est.value == pytest.approx(2 / math.sqrt(8))
    assert est.low < est.value < est.high and 0 < est.p < 1
    assert math.isnan(pw.length_bias([1.0, 1.0, 1.0], [1, 2, 3]).value)  # preference constant: undefined


def test_unparsable_replies_are_retried_then_counted_invalid() -> None:
    calls: list[int] = []
    attempts: list[int] = []

    class Flaky:
        def ask(self, prompts: Sequence[str], *, attempt: int = 0) -> list[Response]:
            calls.append(len(prompts))
            attempts.append(attempt)
            good = len(calls) > 1  # junk on the first ask only
            return [Response(texts=(correct(p, *slots(p)) if good else "I cannot decide",)) for p in prompts]

    res = pw.judge_pairs(Flaky(), items("cb"), retries=2)
    assert calls == [4, 4] and attempts == [0, 1]  # the re-ask is attempt 1: not attempt 0's cached reply
    assert res.quality.n_invalid == 0 and (res.wins, res.losses) == (1, 1)

    class Junk:
        def ask(self, prompts: Sequence[str], *, attempt: int = 0) -> list[Response]:
            calls.append(len(prompts))
            return [Response(texts=("hmm",)) for _ in prompts]

    calls.clear()
    res = pw.judge_pairs(Junk(), items("cbc"), retries=2)
    assert calls == [6, 6, 6]  # the first ask and two re-asks, never more
    assert res.quality.n_invalid == 3 and res.ties == 3 and len(res.items) == 3  # counted, not dropped
    assert pw.weak_reasons(res.quality, pw.Thresholds())[0].startswith("no item judged validly")


def test_kappa_threshold_and_template() -> None:
    res = pw.judge_pairs(Scripted(correct), items("ccb"))
    assert pw.weak_reasons(res.quality, pw.Thresholds(), kappa=0.35) == ("judge_check kappa 0.35 < 0.4",)
    assert pw.weak_reasons(res.quality, pw.Thresholds(), kappa=0.6) == ()
    assert pw.template_hash(pw.DEFAULT_TEMPLATE) != pw.template_hash(pw.DEFAULT_TEMPLATE + " ")
    with pytest.raises(ConfigError, match="judge_template does not render"):
        pw.render("{{ response_c }}", items("c")[0], candidate_first=False)
    with pytest.raises(ConfigError, match="judge_template: cannot read"):
        pw.load_template("/nonexistent/judge.jinja")


def test_first_position_rate_is_half_for_a_fair_judge() -> None:
    res = pw.judge_pairs(Scripted(correct), items("cbcb"))
    assert res.quality.first_position_rate == 0.5
    assert np.isclose(res.win_rate, 0.5)


def test_sign_test_golden_and_degenerate() -> None:
    from harness.compare.stats import sign_test

    # 3 wins, 1 loss, 2 ties: ties dropped, 2 * P(X >= 3 | n=4, 1/2) = 2 * (4 + 1) / 16
    res = sign_test([0.5] * 6, [1.0, 1.0, 1.0, 0.0, 0.5, 0.5])
    assert res.test == "sign" and res.statistic == 3.0 and res.p_value == pytest.approx(10 / 16)
    assert sign_test([0.5] * 3, [0.5] * 3).p_value == 1.0  # all ties: no evidence
