"""Opt-in check against the real Gemini API: `pytest --real-api` with GEMINI_API_KEY set."""

from __future__ import annotations

import os

import pytest

from harness.backends.gemini.client import GeminiBackend
from harness.config.schema import GeminiModelConfig, RetryConfig
from harness.core.records import GenerationParams, Request
from harness.run.retry import run_with_retries


@pytest.mark.real_api
def test_real_gemini_flash_answers() -> None:
    cfg = GeminiModelConfig(name="gemini_flash", model_id="gemini-2.5-flash", concurrency=2)
    backend = GeminiBackend(cfg)
    params = GenerationParams(max_new_tokens=256, temperature=0.0)
    [r] = run_with_retries(backend, [Request("1", "Reply with the single word: pong", params=params)], RetryConfig())
    backend.close()
    assert r.ok, r.error
    assert "pong" in r.text.lower() and r.prompt_tokens > 0 and r.output_tokens > 0
    assert os.environ["GEMINI_API_KEY"] not in r.to_json()
