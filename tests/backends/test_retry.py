"""The retry loop against a scripted backend: what is re-sent, when, and when it stops."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from harness.backends.base import BackendIdentity, Capability
from harness.config.schema import RetryConfig
from harness.core.records import BackendError, ErrorKind, Request, Response
from harness.run.retry import backoff_s, run_with_retries

OK = "ok"
RATE = BackendError(ErrorKind.RATE_LIMITED, "429")
RATE_AFTER = BackendError(ErrorKind.RATE_LIMITED, "429", retry_after_s=7.0)
FLAKY = BackendError(ErrorKind.TRANSIENT, "503")
FATAL = BackendError(ErrorKind.FATAL, "400")


class ScriptedBackend:
    """Answers each prompt with the next outcome of its script; the last outcome repeats."""

    identity = BackendIdentity(backend="scripted", model="scripted")
    capabilities: frozenset[Capability] = frozenset()

    def __init__(self, script: dict[str, list[str | BackendError]]) -> None:
        self.script = script
        self.calls: list[list[str]] = []
        self._seen: dict[str, int] = {}

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.calls.append([r.prompt for r in requests])
        out = []
        for r in requests:
            i = self._seen.get(r.prompt, 0)
            self._seen[r.prompt] = i + 1
            outcomes = self.script.get(r.prompt, [OK])
            step = outcomes[min(i, len(outcomes) - 1)]
            out.append(Response(error=step) if isinstance(step, BackendError) else Response(texts=(f"{r.prompt}!",)))
        return out

    def close(self) -> None:
        pass


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s

    def clock(self) -> float:
        return self.now


def run(backend: ScriptedBackend, prompts: list[str], policy: RetryConfig, t: FakeTime) -> list[Response]:
    reqs = [Request(sample_id=p, prompt=p) for p in prompts]
    return run_with_retries(backend, reqs, policy, sleep=t.sleep, clock=t.clock, rng=random.Random(0))


POLICY = RetryConfig(max_attempts=4, initial_backoff_s=1.0, max_backoff_s=8.0, budget_s=100.0)


def test_no_failures_means_one_call_and_no_sleep() -> None:
    b, t = ScriptedBackend({}), FakeTime()
    out = run(b, ["a", "b"], POLICY, t)
    assert [r.text for r in out] == ["a!", "b!"]
    assert b.calls == [["a", "b"]] and t.sleeps == []


def test_only_retryable_failures_are_resent_and_order_is_kept() -> None:
    b, t = ScriptedBackend({"b": [FLAKY, OK], "c": [RATE, RATE, OK], "d": [FATAL, OK]}), FakeTime()
    out = run(b, ["a", "b", "c", "d"], POLICY, t)
    assert [r.text for r in out[:3]] == ["a!", "b!", "c!"]
    assert out[3].error == FATAL  # fatal: never re-sent
    assert b.calls == [["a", "b", "c", "d"], ["b", "c"], ["c"]]
    assert len(t.sleeps) == 2


def test_gives_up_after_max_attempts_keeping_the_error() -> None:
    b, t = ScriptedBackend({"x": [FLAKY]}), FakeTime()
    out = run(b, ["x", "y"], POLICY, t)
    assert out[0].error == FLAKY and out[1].ok
    assert sum(1 for call in b.calls if "x" in call) == POLICY.max_attempts


def test_retry_after_is_a_floor_on_the_wait() -> None:
    b, t = ScriptedBackend({"x": [RATE_AFTER, OK]}), FakeTime()
    out = run(b, ["x"], POLICY, t)
    assert out[0].ok and t.sleeps[0] >= 7.0


def test_budget_bounds_the_time_spent_retrying() -> None:
    b, t = ScriptedBackend({"x": [RATE_AFTER]}), FakeTime()
    policy = RetryConfig(max_attempts=100, initial_backoff_s=1.0, max_backoff_s=8.0, budget_s=20.0)
    out = run(b, ["x"], policy, t)
    assert out[0].error == RATE_AFTER
    assert sum(t.sleeps) <= 20.0 and len(t.sleeps) == 2  # 7 + 7, a third 7 would pass 20


@pytest.mark.parametrize("round_no", [1, 2, 3, 4, 6])
def test_backoff_is_full_jitter_under_an_exponential_cap(round_no: int) -> None:
    rng = random.Random(round_no)
    cap = min(POLICY.max_backoff_s, POLICY.initial_backoff_s * 2 ** (round_no - 1))
    draws = [backoff_s(round_no, POLICY, rng) for _ in range(500)]
    assert all(0.0 <= d <= cap for d in draws)
    assert max(draws) > 0.8 * cap and min(draws) < 0.2 * cap  # spread over the whole range


def test_backend_returning_wrong_count_is_a_bug() -> None:
    class Short(ScriptedBackend):
        def generate(self, requests: Sequence[Request]) -> list[Response]:
            return []

    with pytest.raises(RuntimeError):
        run(Short({}), ["a"], POLICY, FakeTime())
