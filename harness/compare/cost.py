"""Is the candidate cheaper per request? A claim the verdict may rest on, so it must be shown.

"Non-inferior and cheaper -> pays off" (verdict rule 3) is a claim about
cost. A point comparison of two mean costs is not evidence: a local model is
priced by its measured compute time (`model.prices.per_hour_usd`), and the
same prompts timed twice on one machine differ by 20-40% with warm-up and
load (measured on the demonstration: a 3-shot run timed faster than the
0-shot run it followed, which made "3-shot pays off" out of timing noise).
A saving counts only when all of these hold:

1. it is material: at least `min_saving` of the baseline's cost per request;
2. it is consistent: the paired bootstrap CI of the per-example cost
   difference lies below 0;
3. when either run is priced by compute time, the tokens carry the saving:
   the candidate processes at least `min_saving` fewer tokens per request
   (prompt + output) than the baseline. Tokens are deterministic, time is
   not: two runs timed at different moments on a shared machine differ by
   its load alone (measured: a merged IA3 adapter that gave exactly the base
   model's answers was timed 13% faster than the base run and "paid off").
   Conservative by design: a smaller model that is faster on the same tokens
   is not credited unless `trust_timed_cost` says the runs were timed on
   dedicated, equally loaded hardware (docs/comparison.md).

Pure: rows and rules in, a `CostClaim` out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from harness.compare import runs as rn
from harness.compare import stats

TIME_PRICE_PARAM = "model.prices.per_hour_usd"  # the run's logged config value


@dataclass(frozen=True)
class CostClaim:
    """The candidate's cost per request against the baseline's, and whether "cheaper" is established."""

    saving: float  # relative: (baseline - candidate) / baseline cost per request; 0 when the baseline is free
    delta: stats.Interval  # mean per-example cost difference (candidate - baseline), USD, with its CI
    cheaper: bool
    why: str  # one phrase: why the saving is or is not claimed


def time_priced(params: Mapping[str, str]) -> bool:
    """Whether a run's cost includes measured compute time."""
    try:
        return float(params.get(TIME_PRICE_PARAM, "0") or 0) > 0
    except ValueError:
        return False


def cost_claim(
    base: rn.RunData,
    cand: rn.RunData,
    ids: Sequence[str],
    *,
    min_saving: float,
    trust_timed_cost: bool = False,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> CostClaim:
    """Whether `cand` is established as cheaper per request than `base` on the paired examples `ids`."""
    b_rows = {r.id: r for r in base.rows}
    c_rows = {r.id: r for r in cand.rows}
    b = np.array([b_rows[i].cost_usd for i in ids], dtype=np.float64)
    c = np.array([c_rows[i].cost_usd for i in ids], dtype=np.float64)
    if b.size == 0:
        return CostClaim(0.0, stats.Interval(0.0, 0.0, 0.0), False, "no paired examples")
    delta = stats.paired_bootstrap_ci(b, c, confidence=confidence, resamples=resamples, seed=seed)
    base_mean = float(b.mean())
    saving = (base_mean - float(c.mean())) / base_mean if base_mean > 0 else 0.0
    if saving <= 0:
        return CostClaim(saving, delta, False, "not cheaper")
    if saving < min_saving:
        return CostClaim(saving, delta, False, f"saving {saving:.1%} below min_saving {min_saving:.0%}")
    if delta.high >= 0:
        return CostClaim(saving, delta, False, "saving not consistent across examples (its CI includes 0)")
    if time_priced(base.params) or time_priced(cand.params):
        tokens_b = float(np.mean([b_rows[i].prompt_tokens + b_rows[i].output_tokens for i in ids]))
        tokens_c = float(np.mean([c_rows[i].prompt_tokens + c_rows[i].output_tokens for i in ids]))
        if tokens_c > tokens_b:
            return CostClaim(
                saving, delta, False,
                f"timed saving contradicted by tokens ({tokens_c:.0f} vs {tokens_b:.0f} per request): timing noise",
            )  # fmt: skip
        token_saving = (tokens_b - tokens_c) / tokens_b if tokens_b > 0 else 0.0
        if token_saving < min_saving and not trust_timed_cost:
            return CostClaim(
                saving, delta, False,
                f"timed saving not carried by tokens ({tokens_c:.0f} vs {tokens_b:.0f} per request): "
                "machine load can make it",
            )  # fmt: skip
    return CostClaim(saving, delta, True, f"cheaper by {saving:.1%}")
