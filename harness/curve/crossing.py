"""The crossing point, pure: per-size paired verdicts against a reference run -> a size and a sentence.

A tuned size "beats" the reference (few-shot or zero-shot prompting of the
base model) only when the paired comparison of harness.compare calls it
significantly better on the primary metric after Holm across the sizes; a
"pays off" that rests on non-inferiority plus a lower price is not a win on
quality. The crossing is the smallest size from which every larger size
tried beats the reference, so a lucky middle size followed by a miss is no
crossing. The sentence says what the sizes tried can support and no more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.compare.comparison import Comparison
from harness.compare.verdict import Verdict, direction


@dataclass(frozen=True)
class Step:
    """One tuned size against the reference, on the primary metric."""

    size: int  # training examples
    delta: float  # mean paired difference, tuned - reference
    low: float  # its CI
    high: float
    p_holm: float
    verdict: Verdict
    beats: bool  # significantly better after Holm (not merely non-inferior and cheaper)


def steps(comp: Comparison, sizes: Sequence[int]) -> tuple[Step, ...]:
    """One Step per candidate of `comp` (the tuned runs, in the order of `sizes`)."""
    out = []
    for size, cand in zip(sizes, comp.candidates, strict=True):
        mc = cand.metric(comp.primary)
        better = direction(comp.primary) * mc.delta.estimate > 0
        beats = mc.verdict is Verdict.PAYS_OFF and mc.significant and better
        out.append(Step(size, mc.delta.estimate, mc.delta.low, mc.delta.high, mc.p_holm, mc.verdict, beats))
    return tuple(out)


def crossing(tried: Sequence[Step]) -> int | None:
    """The smallest size from which every larger size tried beats the reference; None when the largest does not."""
    ordered = sorted(tried, key=lambda s: s.size)
    if not ordered or not ordered[-1].beats:
        return None
    i = len(ordered) - 1
    while i > 0 and ordered[i - 1].beats:
        i -= 1
    return ordered[i].size


def sentence(method: str, reference: str, tried: Sequence[Step]) -> str:
    """e.g. 'LoRA beats 5-shot from about 100 examples (...)', or '...: not within the sizes tried (...)'."""
    ordered = sorted(tried, key=lambda s: s.size)
    if not ordered:
        return f"{method} vs {reference}: no sizes tried"
    span = f"{ordered[0].size}-{ordered[-1].size}" if len(ordered) > 1 else str(ordered[0].size)
    found = crossing(ordered)
    if found is None:
        last = ordered[-1]
        also = [s.size for s in ordered if s.beats]
        extra = f"; significantly better at {', '.join(map(str, also))} only" if also else ""
        return (f"{method} beats {reference}: not within the sizes tried ({span} examples; "
                f"at {last.size}: {last.verdict.value}{extra})")
    if found == ordered[0].size:
        return (f"{method} beats {reference} from about {found} examples or fewer "
                f"(significantly better at every size tried, {span})")
    before = max(s.size for s in ordered if s.size < found)
    where = ", the largest size tried" if found == ordered[-1].size else " and every larger size tried"
    return (f"{method} beats {reference} from about {found} examples "
            f"(significantly better at {found}{where}; not at {before})")
