"""The retry contract every API backend meets against its fake server, written once.

A backend classifies each injected fault (429 -> RATE_LIMITED, 5xx, hangs and broken
bodies -> TRANSIENT) and the one retry loop (`harness.run.retry`) turns a faulty run into
the fault-free answers; a Retry-After header is honoured. tests/backends/test_gemini.py and
test_openai_compat.py run it on their backend; tests/reliability/test_api_faults.py checks
the same promise one level up, through a whole evaluation.
"""

from __future__ import annotations

import random
from typing import Any

from harness.config.schema import RetryConfig
from harness.core.records import ErrorKind, Request, Response
from harness.run.retry import run_with_retries
from tests.fakes.gemini_server import Faults


def requests(n: int) -> list[Request]:
    return [Request(sample_id=str(i), prompt=f"question number {i}") for i in range(n)]


def outcome(rs: list[Response]) -> list[tuple[object, ...]]:
    """What a caller sees of each response (latency aside)."""
    return [(r.texts, r.prompt_tokens, r.output_tokens, r.finish_reason, r.error) for r in rs]


class Waits:
    """A fake clock for the retry loop: sleeping advances it, nothing waits."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, list[float]()

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s

    def clock(self) -> float:
        return self.now


def retried(backend: Any, reqs: list[Request], waits: Waits, **policy: float) -> list[Response]:
    """`reqs` through the one retry loop, on the fake clock."""
    pol = RetryConfig(**{"max_attempts": 10, "initial_backoff_s": 0.5, "budget_s": 600.0, **policy})  # type: ignore[arg-type]
    return run_with_retries(backend, reqs, pol, sleep=waits.sleep, clock=waits.clock, rng=random.Random(1))


def check_fault_is_retried(backend: Any, fake: Any, kind: str, seed: int, retry_after_s: int = 2) -> None:
    """Half the calls fail with `kind`: classified right, and retried to the fault-free answers."""
    reqs = requests(12)
    clean = backend.generate(reqs)
    assert all(r.ok for r in clean)
    fake.set_faults(Faults(rate=0.5, kinds=(kind,), seed=seed, hang_s=1.0, retry_after_s=retry_after_s))
    posted = len(fake.log)
    failed = [r.error for r in backend.generate(reqs) if r.error]
    assert failed, "the fault never fired"
    assert {e.kind for e in failed} == {ErrorKind.RATE_LIMITED if kind.startswith("429") else ErrorKind.TRANSIENT}
    waits = Waits()
    assert outcome(retried(backend, reqs, waits)) == outcome(clean)
    assert len(fake.log) - posted > 2 * len(reqs)  # faults cost extra calls
    if kind == "429_retry_after":
        assert failed[0].retry_after_s == float(retry_after_s) and min(waits.sleeps) >= retry_after_s
