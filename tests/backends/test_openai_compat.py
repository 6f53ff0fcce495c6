"""The OpenAI-compatible backend through the real openai SDK against the fake server."""

from __future__ import annotations

import dataclasses
import json
import logging
import random

import pytest

from harness.backends.base import BACKENDS
from harness.backends.openai_compat import OpenAICompatBackend
from harness.config.schema import OpenAIModelConfig, RetryConfig
from harness.core.records import ErrorKind, GenerationParams, Request, Response
from harness.run.retry import run_with_retries
from tests.fakes.fixtures import compose_model
from tests.fakes.gemini_server import FAULT_KINDS, Faults
from tests.fakes.openai_server import FakeOpenAI


def config(fake: FakeOpenAI, **kw: object) -> OpenAIModelConfig:
    cfg = compose_model("openai_compat", base_url=fake.url, model_id="Qwen/Qwen2.5-7B-Instruct")
    assert isinstance(cfg, OpenAIModelConfig)
    return dataclasses.replace(cfg, **kw)  # type: ignore[arg-type]


def requests(n: int) -> list[Request]:
    return [Request(sample_id=str(i), prompt=f"question number {i}") for i in range(n)]


def outcome(rs: list[Response]) -> list[tuple[object, ...]]:
    return [(r.texts, r.prompt_tokens, r.output_tokens, r.finish_reason, r.error) for r in rs]


def retried(backend: OpenAICompatBackend, reqs: list[Request], sleeps: list[float]) -> list[Response]:
    policy = RetryConfig(max_attempts=10, initial_backoff_s=0.5, budget_s=600.0)
    return run_with_retries(backend, reqs, policy, sleep=sleeps.append, clock=lambda: 0.0, rng=random.Random(1))


def test_registered_and_params_reach_the_wire(openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    backend = BACKENDS.get("openai").load(config(openai_fake))
    schema = {"type": "object"}
    params = GenerationParams(
        max_new_tokens=9,
        temperature=0.5,
        top_p=0.8,
        top_k=5,
        stop=("END",),
        seed=3,
        n=2,
        json_schema=json.dumps(schema),
    )
    [r] = backend.generate([Request("a", "hi there", params=params, system="be brief")])
    assert r.ok and len(r.texts) == 2 and json.loads(r.text) == {"answer": "echo: hi there"}
    assert (r.prompt_tokens, r.output_tokens, r.finish_reason) == (4, 2 * 4, "stop")
    post = openai_fake.log[0]
    assert post.path == "v1/chat/completions" and post.headers["authorization"] == "Bearer sk-test"
    body = post.body
    assert body["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi there"}]
    assert {k: body[k] for k in ("model", "temperature", "top_p", "top_k", "max_tokens", "stop", "seed", "n")} == {
        "model": "Qwen/Qwen2.5-7B-Instruct",
        "temperature": 0.5,
        "top_p": 0.8,
        "top_k": 5,
        "max_tokens": 9,
        "stop": ["END"],
        "seed": 3,
        "n": 2,
    }
    assert body["response_format"]["json_schema"]["schema"] == schema
    assert backend.identity.revision == openai_fake.url.removeprefix("http://")


def test_length_finish(openai_fake: FakeOpenAI) -> None:
    [r] = OpenAICompatBackend(config(openai_fake)).generate(
        [Request("a", "a b c d", params=GenerationParams(max_new_tokens=2))]
    )
    assert r.texts == ("echo: a",) and r.finish_reason == "length"


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_every_fault_is_retried_to_the_fault_free_result(openai_fake: FakeOpenAI, kind: str) -> None:
    backend = OpenAICompatBackend(config(openai_fake, timeout_s=0.4))
    reqs = requests(12)
    clean = backend.generate(reqs)
    assert all(r.ok for r in clean)
    openai_fake.set_faults(Faults(rate=0.5, kinds=(kind,), seed=5, hang_s=1.0, retry_after_s=2))
    first = backend.generate(reqs)
    kinds = {r.error.kind for r in first if r.error}
    assert kinds == {ErrorKind.RATE_LIMITED if kind.startswith("429") else ErrorKind.TRANSIENT}
    sleeps: list[float] = []
    assert outcome(retried(backend, reqs, sleeps)) == outcome(clean)
    if kind == "429_retry_after":
        assert min(sleeps) >= 2.0


def test_client_errors_are_fatal_and_key_is_scrubbed(
    openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-PLANTED-openai")
    backend = OpenAICompatBackend(config(openai_fake, base_url=openai_fake.url.removesuffix("/v1") + "/nope"))
    [r] = retried(backend, requests(1), [])
    assert r.error is not None and r.error.kind is ErrorKind.FATAL and len(openai_fake.log) == 1
    seen = [r.to_json(), repr(backend), repr(backend.identity), *(rec.getMessage() for rec in caplog.records)]
    assert not [s for s in seen if "sk-PLANTED-openai" in s]
