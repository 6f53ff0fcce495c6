"""The Gemini backend through the real google-genai SDK against the fake REST server."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time

import pytest
from google.oauth2.credentials import Credentials

from harness.backends.base import BACKENDS
from harness.backends.gemini.client import GeminiBackend
from harness.config.schema import GeminiModelConfig
from harness.core.errors import ConfigError
from harness.core.records import ErrorKind, GenerationParams, Request
from tests.backends.fault_contract import Waits, check_fault_is_retried, outcome, requests, retried
from tests.fakes.fixtures import compose_model
from tests.fakes.gemini_server import FAULT_KINDS, FakeGemini, Faults


def flash(fake: FakeGemini, **kw: object) -> GeminiModelConfig:
    cfg = compose_model("gemini_flash", base_url=fake.url)
    assert isinstance(cfg, GeminiModelConfig)
    return dataclasses.replace(cfg, **kw)  # type: ignore[arg-type]


def test_registered_and_maps_a_plain_reply(gemini_fake: FakeGemini, planted_key: str) -> None:
    assert "gemini" in BACKENDS
    backend = BACKENDS.get("gemini").load(flash(gemini_fake))
    [r] = backend.generate([Request("a", "hello there")])
    assert r.ok and r.texts == ("echo: hello there",) and r.finish_reason == "stop"
    assert (r.prompt_tokens, r.output_tokens) == (2, 3) and r.latency_s > 0
    [post] = gemini_fake.log
    assert re.fullmatch(r"v1(beta)?/models/gemini-2\.5-flash:generateContent", post.path)  # SDK picks the version
    assert post.headers["x-goog-api-key"] == planted_key
    backend.close()


def test_generation_params_reach_the_wire(gemini_fake: FakeGemini, planted_key: str) -> None:
    backend = GeminiBackend(flash(gemini_fake))
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    params = GenerationParams(
        max_new_tokens=50,
        temperature=0.7,
        top_p=0.9,
        top_k=20,
        stop=("END",),
        seed=7,
        n=3,
        json_schema=json.dumps(schema),
    )
    [r] = backend.generate([Request("a", "hi", params=params, system="be brief")])
    body = gemini_fake.log[0].body
    assert body["systemInstruction"]["parts"][0]["text"] == "be brief"
    assert body["generationConfig"] == {
        "temperature": 0.7,
        "topP": 0.9,
        "topK": 20,
        "maxOutputTokens": 50,
        "stopSequences": ["END"],
        "seed": 7,
        "candidateCount": 3,
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }
    assert len(r.texts) == 3 and json.loads(r.text) == {"answer": "echo: hi"}
    assert r.output_tokens == 3 * 3


def test_max_tokens_and_safety_blocks_are_normal_responses(gemini_fake: FakeGemini, planted_key: str) -> None:
    gemini_fake.blocked_prompts.add("something bad")
    backend = GeminiBackend(flash(gemini_fake))
    long, bad = backend.generate(
        [Request("a", "one two three four", params=GenerationParams(max_new_tokens=2)), Request("b", "something bad")]
    )
    assert long.texts == ("echo: one",) and long.finish_reason == "length"
    assert bad.ok and bad.texts == () and bad.finish_reason == "SAFETY" and bad.prompt_tokens == 2
    gemini_fake.set_faults(Faults(rate=1.0, kinds=("safety_finish",)))
    [fin] = backend.generate([Request("c", "fine")])
    assert fin.ok and fin.texts == () and fin.finish_reason == "SAFETY"


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_every_fault_is_retried_to_the_fault_free_result(gemini_fake: FakeGemini, planted_key: str, kind: str) -> None:
    check_fault_is_retried(GeminiBackend(flash(gemini_fake, timeout_s=0.4)), gemini_fake, kind, seed=3, retry_after_s=3)


def test_mixed_faults_and_latency(gemini_fake: FakeGemini, planted_key: str) -> None:
    backend = GeminiBackend(flash(gemini_fake, timeout_s=0.4, concurrency=8))
    reqs = requests(40)
    clean = backend.generate(reqs)
    gemini_fake.set_faults(Faults(rate=0.3, kinds=FAULT_KINDS, seed=11, latency_s=0.01, hang_s=1.0, retry_after_s=1))
    assert outcome(retried(backend, reqs, Waits())) == outcome(clean)


def test_total_outage_ends_with_errors_within_the_budget(gemini_fake: FakeGemini, planted_key: str) -> None:
    gemini_fake.set_faults(Faults(rate=1.0, kinds=("503",)))
    backend = GeminiBackend(flash(gemini_fake))
    waits = Waits()
    final = retried(
        backend, requests(5), waits, max_attempts=50, initial_backoff_s=1.0, max_backoff_s=4.0, budget_s=30.0
    )
    assert all(r.error is not None and r.error.kind is ErrorKind.TRANSIENT for r in final)
    assert 0 < sum(waits.sleeps) <= 30.0
    assert len(gemini_fake.log) == 5 * (1 + len(waits.sleeps))


def test_fatal_client_errors_are_not_retried(gemini_fake: FakeGemini, planted_key: str) -> None:
    backend = GeminiBackend(flash(gemini_fake, model_id="no-such-model"))
    gemini_fake.set_faults(Faults(rate=1.0, kinds=("400_leaky",)))
    [r] = retried(backend, requests(1), Waits())
    assert r.error is not None and r.error.kind is ErrorKind.FATAL
    assert len(gemini_fake.log) == 1


def test_developer_tuned_model_path(gemini_fake: FakeGemini, planted_key: str) -> None:
    backend = GeminiBackend(flash(gemini_fake, model_id="tunedModels/my-tuned-abc", variant="tuned"))
    [r] = backend.generate(requests(1))
    assert r.ok and re.fullmatch(r"v1(beta)?/tunedModels/my-tuned-abc:generateContent", gemini_fake.log[0].path)
    assert backend.identity.variant == "tuned"


def test_vertex_tuned_endpoint_and_base_model_paths(gemini_fake: FakeGemini, planted_key: str) -> None:
    cfg = compose_model("gemini_tuned_vertex", base_url=gemini_fake.url)
    assert isinstance(cfg, GeminiModelConfig)
    token = Credentials(token="vertex-test-token")  # a valid, unexpired ADC stand-in: no refresh, no network
    tuned = GeminiBackend(cfg, credentials=token)
    base = GeminiBackend(dataclasses.replace(cfg, model_id="gemini-2.5-flash", variant="base"), credentials=token)
    assert tuned.generate(requests(1))[0].ok and base.generate(requests(1))[0].ok
    tuned_post, base_post = gemini_fake.log
    assert tuned_post.path == "v1beta1/projects/my-project/locations/us-central1/endpoints/1234567890:generateContent"
    assert base_post.path == (
        "v1beta1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
    )
    assert tuned_post.headers["authorization"] == "Bearer vertex-test-token"
    assert "x-goog-api-key" not in tuned_post.headers  # Vertex uses ADC even when a key is in the env
    assert tuned.identity.variant == "tuned" and tuned.identity.base_model == "gemini_flash"
    assert tuned.identity.revision.startswith("vertex:127.0.0.1")


def test_api_version_override(gemini_fake: FakeGemini, planted_key: str) -> None:
    GeminiBackend(flash(gemini_fake, api_version="v1alpha")).generate(requests(1))
    assert gemini_fake.log[0].path.startswith("v1alpha/models/")


def test_missing_key_and_bad_vertex_config_are_user_errors(
    gemini_fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="GEMINI_API_KEY"):
        GeminiBackend(flash(gemini_fake))
    with pytest.raises(ConfigError, match="project"):
        GeminiBackend(flash(gemini_fake, api="vertex"))


def test_first_set_key_variable_wins(gemini_fake: FakeGemini, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "first")
    monkeypatch.setenv("OTHER_KEY", "second")
    GeminiBackend(flash(gemini_fake, api_key_env=["MISSING_KEY", "OTHER_KEY", "GEMINI_API_KEY"])).generate(requests(1))
    assert gemini_fake.log[0].headers["x-goog-api-key"] == "second"


def test_planted_key_never_leaks(gemini_fake: FakeGemini, planted_key: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    backend = GeminiBackend(flash(gemini_fake, timeout_s=0.3))
    seen: list[str] = [repr(backend), repr(backend.identity), json.dumps(backend.identity.cache_payload())]
    for kind in (*FAULT_KINDS, "400_leaky", "safety_prompt"):
        gemini_fake.set_faults(Faults(rate=1.0, kinds=(kind,), hang_s=0.6))
        seen += [r.to_json() for r in backend.generate(requests(2))]
    gemini_fake.set_faults(Faults())
    seen += [r.to_json() for r in retried(backend, requests(2), Waits())]
    backend.close()
    seen += [rec.getMessage() for rec in caplog.records]
    assert any("400" in s and "***" in s for s in seen)  # the echoed key was scrubbed, not dropped silently
    assert not [s for s in seen if planted_key in s]


@pytest.mark.parametrize("concurrency", [2, 8])
def test_concurrency_bounds_requests_in_flight(gemini_fake: FakeGemini, planted_key: str, concurrency: int) -> None:
    backend = GeminiBackend(flash(gemini_fake, concurrency=concurrency))
    backend.generate(requests(1))  # warm-up: first connection
    gemini_fake.set_faults(Faults(latency_s=0.2))
    start = time.perf_counter()
    assert all(r.ok for r in backend.generate(requests(8)))
    wall = time.perf_counter() - start
    rounds = 8 / concurrency  # 4 sequential waves at 2, one wave at 8
    assert 0.2 * rounds - 0.05 <= wall < 0.2 * rounds + 0.6
