"""Context caching of the shared few-shot prefix, through the real SDK against the fake server."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path

import pytest

from harness.backends.gemini.client import GeminiBackend, identify
from harness.backends.gemini.context_cache import shared_prefix
from harness.config.load import compose_run
from harness.config.schema import GeminiModelConfig
from harness.core.records import Request
from harness.run.runner import evaluate
from tests.fakes.fixtures import compose_model
from tests.fakes.gemini_server import FakeGemini

SHOTS = "Review: great film\nLabel: positive\n\nReview: dull and slow\nLabel: negative\n\n"


def flash(fake: FakeGemini, **kw: object) -> GeminiModelConfig:
    cfg = compose_model("gemini_flash", base_url=fake.url)
    assert isinstance(cfg, GeminiModelConfig)
    return dataclasses.replace(cfg, **kw)  # type: ignore[arg-type]


def few_shot(n: int, system: str | None = None) -> list[Request]:
    return [Request(str(i), f"{SHOTS}Review: item {i}\nLabel:", system=system) for i in range(n)]


@pytest.mark.parametrize(
    ("prompts", "min_chars", "want"),
    [
        (["ab\ncd\nx1", "ab\ncd\nx2"], 1, "ab\ncd\n"),
        (["ab\ncd\nx", "ab\ncd\ny", "ab\nzz"], 1, "ab\n"),  # common to all, not just to most
        (["ab\ncd\n", "ab\ncd\nmore"], 1, "ab\n"),  # every prompt keeps a non-empty rest
        (["same\n", "same\n"], 1, ""),
        (["ab\ncd\nx1", "ab\ncd\nx2"], 7, ""),  # shorter than the minimum
        (["only one\nprompt"], 1, ""),
        (["abc", "abd"], 1, ""),  # no newline to cut at
    ],
)
def test_shared_prefix_cuts_after_a_newline(prompts: list[str], min_chars: int, want: str) -> None:
    got = shared_prefix(prompts, min_chars)
    assert got == want
    assert all(p.startswith(got) and len(p) > len(got) for p in prompts)


def test_cached_prefix_is_sent_once_and_answers_equal_uncached(gemini_fake: FakeGemini, planted_key: str) -> None:
    reqs = few_shot(6, system="You label movie reviews.")
    plain = GeminiBackend(flash(gemini_fake))
    uncached = plain.generate(reqs)
    plain.close()
    gemini_fake.log.clear()

    backend = GeminiBackend(flash(gemini_fake, context_cache=True, context_cache_min_tokens=10))
    first = backend.generate(reqs[:3])
    second = backend.generate(reqs[3:])  # a later batch reuses the same cache
    cached = first + second
    assert [r.texts for r in cached] == [r.texts for r in uncached]
    assert [r.prompt_tokens for r in cached] == [r.prompt_tokens for r in uncached]
    shot_words = len(SHOTS.split())
    assert [r.cached_tokens for r in cached] == [shot_words] * 6 and all(r.cached_tokens == 0 for r in uncached)

    creates = [e for e in gemini_fake.log if e.method == "POST" and e.path.endswith("cachedContents")]
    assert len(creates) == 1
    body = creates[0].body
    assert body["contents"] == [{"role": "user", "parts": [{"text": SHOTS}]}]
    assert body["systemInstruction"]["parts"] == [{"text": "You label movie reviews."}] and body["ttl"] == "3600s"
    gens = [e.body for e in gemini_fake.log if e.path.endswith(":generateContent")]
    assert len(gens) == 6 and {g["cachedContent"] for g in gens} == {"cachedContents/fake-cache-1"}
    assert all("systemInstruction" not in g for g in gens)  # it lives in the cache
    assert sorted(g["contents"][0]["parts"][0]["text"] for g in gens) == [f"Review: item {i}\nLabel:" for i in range(6)]

    assert gemini_fake.caches  # alive until the backend closes...
    backend.close()
    assert gemini_fake.caches == {}  # ...then deleted, so storage stops billing
    [deleted] = gemini_fake.paths("DELETE")
    assert re.fullmatch(r"v1(beta)?/cachedContents/fake-cache-1", deleted)  # the SDK picks the version


def test_a_single_retried_request_reuses_the_runs_cache(gemini_fake: FakeGemini, planted_key: str) -> None:
    """One request alone has no shared prefix of its own; it still goes through the live cache."""
    backend = GeminiBackend(flash(gemini_fake, context_cache=True, context_cache_min_tokens=10))
    backend.generate(few_shot(4)[:3])
    [alone] = backend.generate(few_shot(4)[3:])
    backend.close()
    assert alone.ok and alone.cached_tokens == len(SHOTS.split())
    assert len([e for e in gemini_fake.log if e.path.endswith("cachedContents")]) == 1
    last = [e.body for e in gemini_fake.log if e.path.endswith(":generateContent")][-1]
    assert last["cachedContent"] == "cachedContents/fake-cache-1"
    assert last["contents"][0]["parts"][0]["text"] == "Review: item 3\nLabel:"


def test_prefix_under_the_minimum_is_sent_uncached(gemini_fake: FakeGemini, planted_key: str) -> None:
    backend = GeminiBackend(flash(gemini_fake, context_cache=True))  # default minimum 1,024 tokens
    out = backend.generate(few_shot(3))
    backend.close()
    assert all(r.ok and r.cached_tokens == 0 for r in out)
    assert not [e for e in gemini_fake.log if e.path.endswith("cachedContents")]
    assert all("cachedContent" not in e.body for e in gemini_fake.log if e.path.endswith(":generateContent"))


def test_refused_cache_warns_once_and_the_run_goes_on(
    gemini_fake: FakeGemini, planted_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    gemini_fake.min_cache_tokens = 10_000  # the API refuses: "Cached content is too small"
    backend = GeminiBackend(flash(gemini_fake, context_cache=True, context_cache_min_tokens=10))
    with caplog.at_level(logging.WARNING):
        out = backend.generate(few_shot(3)) + backend.generate(few_shot(3))
    backend.close()
    assert all(r.ok and r.texts[0].startswith("echo: ") and r.cached_tokens == 0 for r in out)
    warnings = [r.getMessage() for r in caplog.records if "context cache not created" in r.getMessage()]
    assert len(warnings) == 1 and "too small" in warnings[0] and planted_key not in warnings[0]
    creates = [e for e in gemini_fake.log if e.path.endswith("cachedContents")]
    assert len(creates) == 1  # not retried for every batch


def test_vertex_cache_paths(gemini_fake: FakeGemini) -> None:
    cfg = flash(gemini_fake, api="vertex", project="proj", location="us-central1", context_cache=True,
                context_cache_min_tokens=10)
    from google.oauth2.credentials import Credentials

    backend = GeminiBackend(cfg, credentials=Credentials(token="fake-token"))
    out = backend.generate(few_shot(2))
    backend.close()
    assert all(r.ok and r.cached_tokens > 0 for r in out)
    parent = "projects/proj/locations/us-central1"
    assert any(re.fullmatch(rf"v1(beta1)?/{parent}/cachedContents", p) for p in gemini_fake.paths())
    gens = [e.body for e in gemini_fake.log if e.path.endswith(":generateContent")]
    assert {g["cachedContent"] for g in gens} == {f"{parent}/cachedContents/fake-cache-1"}
    [deleted] = gemini_fake.paths("DELETE")
    assert re.fullmatch(rf"v1(beta1)?/{parent}/cachedContents/fake-cache-1", deleted)


def test_context_cache_is_part_of_the_identity(gemini_fake: FakeGemini) -> None:
    base = flash(gemini_fake)
    assert identify(base).revision != identify(dataclasses.replace(base, context_cache=True)).revision


def test_five_shot_run_with_context_cache_costs_less_and_scores_the_same(
    gemini_fake: FakeGemini, planted_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    def run(*extra: str) -> dict[str, float]:
        cfg = compose_run(
            [
                "task=classification",
                "task.shots=5",
                "task.limit=12",
                "model=gemini_flash",
                f"model.base_url={gemini_fake.url}",
                f"results_dir={tmp_path / 'results'}",
                f"cache.path={tmp_path / 'cache.sqlite'}",
                f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}",
                "progress=false",
                *extra,
            ]
        )
        return evaluate(cfg, quiet=True).flat_metrics()

    plain = run()
    cached = run("model.context_cache=true", "model.context_cache_min_tokens=50")
    assert len([e for e in gemini_fake.log if e.path.endswith("cachedContents")]) == 1
    assert cached["accuracy"] == plain["accuracy"]
    assert cached["cached_tokens_total"] > 0 and plain["cached_tokens_total"] == 0
    assert cached["prompt_tokens_total"] == plain["prompt_tokens_total"]
    assert cached["cost_usd_total"] < plain["cost_usd_total"]
    assert gemini_fake.caches == {}  # the runner closed the backend
