"""What one response cost: its tokens at the model's prices plus its compute time.

The run's per-example cost, the judge's spend and the cost MLflow shows on each trace all
come from here, so the MLflow UI and the harness's own reports cannot disagree on a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from harness.core.records import Response


class Prices(Protocol):
    """USD per million tokens and per hour of compute (the config's `model.prices`)."""

    input_per_mtok: float
    output_per_mtok: float
    cached_per_mtok: float
    per_hour_usd: float


@dataclass(frozen=True)
class CostParts:
    """One response's cost: prompt tokens (uncached and cached), output tokens, compute time."""

    input_usd: float
    output_usd: float
    compute_usd: float  # latency x per-hour price: self-hosted models
    total_usd: float


def cost_parts(resp: Response, prices: Prices) -> CostParts:
    uncached = max(0, resp.prompt_tokens - resp.cached_tokens)
    input_tokens = uncached * prices.input_per_mtok + resp.cached_tokens * prices.cached_per_mtok
    output_tokens = resp.output_tokens * prices.output_per_mtok
    compute = resp.latency_s * prices.per_hour_usd / 3600
    return CostParts(input_tokens / 1e6, output_tokens / 1e6, compute, (input_tokens + output_tokens) / 1e6 + compute)


def cost_usd(resp: Response, prices: Prices) -> float:
    """Cost of one response: uncached input, cached input and output tokens, plus compute time."""
    return cost_parts(resp, prices).total_usd
