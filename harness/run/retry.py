"""The one retry loop: backends classify failures, this module retries them.

`run_with_retries` sends a batch to a backend, then re-submits only the
requests whose responses carry a retryable error (rate limited, transient),
after exponential backoff with full jitter, until each request has had
`max_attempts` tries or the policy's time budget is spent. A `Retry-After`
the server sent (`BackendError.retry_after_s`) is a floor on the wait.

Retrying rounds, not single requests, keeps a backend's batching and
concurrency intact: every round is one `backend.generate` call.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence

from harness.backends.base import Backend
from harness.config.schema import RetryConfig
from harness.core.records import Request, Response

log = logging.getLogger(__name__)


def backoff_s(round_no: int, policy: RetryConfig, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(max_backoff, initial * 2**(round_no-1))]."""
    cap = min(policy.max_backoff_s, policy.initial_backoff_s * (2 ** (round_no - 1)))
    return rng.uniform(0.0, cap)


def run_with_retries(
    backend: Backend,
    requests: Sequence[Request],
    policy: RetryConfig,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> list[Response]:
    """Answer every request, retrying retryable failures; returns final responses.

    Responses that still fail when attempts or budget run out keep their
    error; fatal errors are never retried. The budget bounds the time spent
    in the retry phase (waits plus re-sent calls), measured with `clock`.
    """
    rng = rng or random.Random()
    responses = list(backend.generate(requests))
    if len(responses) != len(requests):
        raise RuntimeError(f"backend returned {len(responses)} responses for {len(requests)} requests")
    start = clock()
    round_no = 0
    while True:
        round_no += 1
        pending = [i for i, r in enumerate(responses) if r.error is not None and r.error.retryable]
        # every pending request has failed exactly `round_no` times so far
        if not pending or round_no >= policy.max_attempts:
            break
        floor = max((responses[i].error.retry_after_s or 0.0) for i in pending)  # type: ignore[union-attr]
        delay = max(backoff_s(round_no, policy, rng), floor)
        if clock() - start + delay > policy.budget_s:
            log.warning("retry budget %.0fs spent; %d request(s) left failing", policy.budget_s, len(pending))
            break
        first = responses[pending[0]].error
        log.info(
            "retry round %d: %d request(s) after %.2fs (e.g. %s)",
            round_no,
            len(pending),
            delay,
            first.kind.value if first else "?",
        )
        sleep(delay)
        again = backend.generate([requests[i] for i in pending])
        if len(again) != len(pending):
            raise RuntimeError(f"backend returned {len(again)} responses for {len(pending)} requests")
        for i, resp in zip(pending, again, strict=True):
            responses[i] = resp
    return responses
