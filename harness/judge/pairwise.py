"""The side-by-side (pairwise) judge: baseline and candidate outputs shown in both orders.

For each aligned item the judge is asked twice, baseline first ("forward")
and candidate first ("backward"), with the same template. Each reply is
parsed to a pick of the first slot (A), the second (B) or a tie; the two
picks are mapped back to models and combined:

* both orders name the same winner (or both say tie): that outcome;
* they disagree: a tie, counted as position-inconsistent;
* a reply that stays unparsable after `retries` re-asks: a tie, counted as
  invalid (never dropped).

The per-item outcome is the candidate's win score (1 win, 0.5 tie, 0 loss);
its mean is the win rate. The quality of the judge is measured on the same
replies (`JudgeQuality`): position consistency (share of validly judged
items whose verdict survives the swap, with a Wilson CI), how often a
decisive reply picked the first slot, and length bias (Pearson correlation,
with Fisher CI and p, between the judge's mean preference for the candidate
and the sign of the candidate-minus-baseline length difference in words;
+1 = it always prefers the longer output). Pure apart from `judge_pairs`,
which asks the judge.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from harness.core.errors import ConfigError
from harness.core.records import Response

# Jinja2; {{ input }}, {{ reference }} (may be empty), {{ response_a }}, {{ response_b }}
DEFAULT_TEMPLATE = """You are comparing two responses to the same request. Judge which response is better: \
more correct, more helpful and more faithful to the request{% if reference %} and to the reference answer{% endif %}. \
Do not prefer a response for its position or its length.

[Request]
{{ input }}
{% if reference %}
[Reference answer]
{{ reference }}
{% endif %}
[Response A]
{{ response_a }}

[Response B]
{{ response_b }}

Reply with exactly one word: A if Response A is better, B if Response B is better, or tie.
Verdict:"""

WIN, TIE, LOSS = 1.0, 0.5, 0.0
_PICK = re.compile(r"^[\s\[\(\*\"'`]*(?:verdict\s*:\s*|response\s+)?(a|b|tie)\b", re.IGNORECASE)


class Judge(Protocol):
    """What the pairwise judge needs of a judge model (harness.judge.model.JudgeModel has this shape)."""

    def ask(self, prompts: Sequence[str], *, attempt: int = 0) -> list[Response]:
        """One response per prompt; `attempt` > 0 re-asks, not answered from attempt 0's cache entry."""
        ...


@dataclass(frozen=True)
class PairItem:
    """One aligned item: the request and both models' outputs."""

    id: str
    input: str
    baseline: str
    candidate: str
    reference: str = ""


@dataclass(frozen=True)
class ItemJudgement:
    """Both orders' replies on one item and what they add up to."""

    id: str
    forward: str  # raw reply, baseline shown as A
    backward: str  # raw reply, candidate shown as A
    forward_pick: str | None  # "A" | "B" | "tie" | None (unparsable)
    backward_pick: str | None
    outcome: float  # the candidate's win score: 1 win, 0.5 tie, 0 loss
    length_diff: int  # words of the candidate's output minus the baseline's

    @property
    def invalid(self) -> bool:
        return self.forward_pick is None or self.backward_pick is None

    @property
    def consistent(self) -> bool | None:
        """Did the verdict survive the swap? None when a reply was unparsable."""
        if self.invalid:
            return None
        return _winner(self.forward_pick, candidate_is_a=False) == _winner(self.backward_pick, candidate_is_a=True)

    @property
    def preference(self) -> float:
        """Mean preference for the candidate over the two orders, in [-1, 1] (NaN when invalid)."""
        if self.invalid:
            return math.nan
        fwd = _winner(self.forward_pick, candidate_is_a=False)
        bwd = _winner(self.backward_pick, candidate_is_a=True)
        return (_SIGN[fwd] + _SIGN[bwd]) / 2


@dataclass(frozen=True)
class Estimate:
    """A figure with its CI and, where it has one, the p-value of 'no effect' (NaN: undefined)."""

    value: float
    low: float
    high: float
    p: float = math.nan


@dataclass(frozen=True)
class JudgeQuality:
    """How far the judge can be trusted, measured on this comparison's own replies."""

    n: int
    n_valid: int  # items with both replies parsed
    n_inconsistent: int  # valid items whose verdict changed with the order (scored as ties)
    position_consistency: Estimate  # share of valid items consistent across orders, Wilson CI
    first_position_rate: float  # share of decisive replies (A or B) that picked slot A; 0.5 = no position bias
    length_bias: Estimate  # Pearson r of preference vs sign(length difference), Fisher CI, p

    @property
    def n_invalid(self) -> int:
        return self.n - self.n_valid


@dataclass(frozen=True)
class PairwiseResult:
    """The pairwise judgement of one candidate against the baseline."""

    items: tuple[ItemJudgement, ...]
    quality: JudgeQuality
    template_hash: str

    @property
    def wins(self) -> int:
        return sum(1 for j in self.items if j.outcome == WIN)

    @property
    def losses(self) -> int:
        return sum(1 for j in self.items if j.outcome == LOSS)

    @property
    def ties(self) -> int:
        return len(self.items) - self.wins - self.losses

    @property
    def win_rate(self) -> float:
        return sum(j.outcome for j in self.items) / len(self.items) if self.items else math.nan


_SIGN = {"candidate": 1.0, "baseline": -1.0, "tie": 0.0}


def _winner(pick: str | None, *, candidate_is_a: bool) -> str:
    if pick == "tie" or pick is None:
        return "tie"
    return "candidate" if (pick == "A") == candidate_is_a else "baseline"


def template_hash(template: str) -> str:
    """Content hash of a judge template (first 16 hex digits of its SHA-256)."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def load_template(path: str) -> str:
    """The template text at `path`, or the built-in one for ''; a missing file is a ConfigError."""
    if not path:
        return DEFAULT_TEMPLATE
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise ConfigError(f"judge_template: cannot read {path} ({exc.strerror})") from None


def render_all(template: str, items: Sequence[PairItem]) -> list[str]:
    """Both orders' prompts of every item (baseline first, then candidate first), the template compiled once.

    A template that does not compile or render is a ConfigError.
    """
    import jinja2

    try:
        env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        compiled = env.from_string(template)
        return [
            compiled.render(input=it.input, reference=it.reference, response_a=a, response_b=b)
            for it in items
            for a, b in ((it.baseline, it.candidate), (it.candidate, it.baseline))
        ]
    except jinja2.TemplateError as exc:
        raise ConfigError(f"judge_template does not render ({type(exc).__name__}: {exc})") from None


def render(template: str, item: PairItem, *, candidate_first: bool) -> str:
    """The judge prompt for one item in one order."""
    return render_all(template, [item])[1 if candidate_first else 0]


def parse_pick(reply: str) -> str | None:
    """'A', 'B' or 'tie' from the start of a reply ('[[A]]', 'Verdict: B', 'Tie.' ...); None if neither."""
    m = _PICK.match(reply)
    if not m:
        return None
    word = m.group(1).lower()
    return "tie" if word == "tie" else word.upper()


def combine(forward: str | None, backward: str | None) -> float:
    """The candidate's win score from both orders; disagreement or an unparsable reply is a tie."""
    if forward is None or backward is None:
        return TIE
    fwd, bwd = _winner(forward, candidate_is_a=False), _winner(backward, candidate_is_a=True)
    if fwd != bwd:
        return TIE
    return {"candidate": WIN, "baseline": LOSS, "tie": TIE}[fwd]


def words(text: str) -> int:
    return len(text.split())


def wilson(k: int, n: int, confidence: float = 0.95) -> Estimate:
    """k/n with its Wilson score interval (NaN for n = 0)."""
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan)
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Estimate(k / n, float(ci.low), float(ci.high))


def length_bias(preference: Sequence[float], length_diff: Sequence[int], confidence: float = 0.95) -> Estimate:
    """Pearson r of preference against sign(length difference), Fisher-z CI and p (NaN when undefined).

    Undefined when either side does not vary (a judge that always says tie,
    or outputs of equal length everywhere), or with fewer than 3 items.
    """
    x = np.sign(np.asarray(length_diff, dtype=np.float64))
    y = np.asarray(preference, dtype=np.float64)
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Estimate(math.nan, math.nan, math.nan)
    r = float(np.corrcoef(x, y)[0, 1])
    if abs(r) >= 1.0 - 1e-12:  # perfect: Fisher's z is infinite, the CI collapses and p is 0
        r = math.copysign(1.0, r)
        return Estimate(r, r, r, 0.0)
    from scipy.stats import pearsonr

    res = pearsonr(x, y)
    ci = res.confidence_interval(confidence_level=confidence)
    return Estimate(r, float(ci.low), float(ci.high), float(res.pvalue))


def quality(items: Sequence[ItemJudgement], confidence: float = 0.95) -> JudgeQuality:
    """The judge-quality figures of one pairwise judgement (see the module docstring)."""
    valid = [j for j in items if not j.invalid]
    consistent = sum(1 for j in valid if j.consistent)
    picks = [p for j in items for p in (j.forward_pick, j.backward_pick) if p in ("A", "B")]
    first = sum(1 for p in picks if p == "A") / len(picks) if picks else math.nan
    return JudgeQuality(
        n=len(items),
        n_valid=len(valid),
        n_inconsistent=len(valid) - consistent,
        position_consistency=wilson(consistent, len(valid), confidence),
        first_position_rate=first,
        length_bias=length_bias([j.preference for j in items], [j.length_diff for j in items], confidence),
    )


def judge_pairs(
    judge: Judge, items: Sequence[PairItem], template: str = DEFAULT_TEMPLATE, retries: int = 2
) -> PairwiseResult:
    """Ask the judge about every item in both orders (one batch of 2n prompts) and combine.

    Unparsable replies are asked again with the same prompt, up to `retries`
    more times, in one batch per round (attempt k is cached apart from the
    first answer, so a sampling judge may answer differently; a greedy one
    answers the same, and the reply then counts as invalid).
    """
    prompts = render_all(template, items)
    replies = [r.text for r in judge.ask(prompts)]
    if len(replies) != len(prompts):
        raise RuntimeError(f"judge returned {len(replies)} replies for {len(prompts)} prompts")
    for attempt in range(1, max(0, retries) + 1):
        again = [i for i, text in enumerate(replies) if parse_pick(text) is None]
        if not again:
            break
        for i, resp in zip(again, judge.ask([prompts[i] for i in again], attempt=attempt), strict=True):
            if parse_pick(resp.text) is not None:
                replies[i] = resp.text
    out = []
    for k, it in enumerate(items):
        fwd, bwd = replies[2 * k], replies[2 * k + 1]
        pf, pb = parse_pick(fwd), parse_pick(bwd)
        out.append(ItemJudgement(it.id, fwd, bwd, pf, pb, combine(pf, pb), words(it.candidate) - words(it.baseline)))
    return PairwiseResult(tuple(out), quality(out), template_hash(template))


@dataclass(frozen=True)
class Thresholds:
    """Below these a judge is weak: `CAUTION: weak judge` (docs/judges.md, Side by side)."""

    min_position_consistency: float = 0.8
    min_kappa: float = 0.4  # a judge_check of this judge agreeing less with gold answers
    max_length_bias: float = 0.8  # |r| at or above this (and significant at alpha) is weak
    alpha: float = 0.05


def weak_reasons(q: JudgeQuality, t: Thresholds, kappa: float | None = None) -> tuple[str, ...]:
    """Why the judge is weak on this comparison (empty: not weak)."""
    out = []
    pc = q.position_consistency
    if q.n_valid == 0:
        out.append(f"no item judged validly in both orders ({q.n_invalid} of {q.n} unparsable)")
    elif pc.value < t.min_position_consistency:
        out.append(
            f"position consistency {pc.value:.2f} < {t.min_position_consistency:g} "
            f"({q.n_inconsistent} of {q.n_valid} verdicts changed with the order)"
        )
    lb = q.length_bias
    if not math.isnan(lb.value) and abs(lb.value) >= t.max_length_bias and lb.p < t.alpha:
        side = "longer" if lb.value > 0 else "shorter"
        out.append(f"length bias r={lb.value:+.2f} >= {t.max_length_bias:g} in size (p={lb.p:.3g}): "
                   f"its preference follows the {side} output")
    if kappa is not None and not math.isnan(kappa) and kappa < t.min_kappa:
        out.append(f"judge_check kappa {kappa:.2f} < {t.min_kappa:g}")
    return tuple(out)
