"""The OpenAI-compatible backend through the real openai SDK against the fake server."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from harness.backends.base import BACKENDS
from harness.backends.openai_compat import OpenAICompatBackend
from harness.config.schema import OpenAIModelConfig
from harness.core.records import ErrorKind, GenerationParams, Request
from tests.backends.fault_contract import Waits, check_fault_is_retried, requests, retried
from tests.fakes.fixtures import compose_model
from tests.fakes.gemini_server import FAULT_KINDS
from tests.fakes.openai_server import FakeOpenAI


def config(fake: FakeOpenAI, **kw: object) -> OpenAIModelConfig:
    cfg = compose_model("openai_compat", base_url=fake.url, model_id="Qwen/Qwen2.5-7B-Instruct")
    assert isinstance(cfg, OpenAIModelConfig)
    return dataclasses.replace(cfg, **kw)  # type: ignore[arg-type]


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
    check_fault_is_retried(OpenAICompatBackend(config(openai_fake, timeout_s=0.4)), openai_fake, kind, seed=5)


def test_client_errors_are_fatal_and_key_is_scrubbed(
    openai_fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-PLANTED-openai")
    backend = OpenAICompatBackend(config(openai_fake, base_url=openai_fake.url.removesuffix("/v1") + "/nope"))
    [r] = retried(backend, requests(1), Waits())
    assert r.error is not None and r.error.kind is ErrorKind.FATAL and len(openai_fake.log) == 1
    seen = [r.to_json(), repr(backend), repr(backend.identity), *(rec.getMessage() for rec in caplog.records)]
    assert not [s for s in seen if "sk-PLANTED-openai" in s]
