"""Log-likelihood through the OpenAI-compatible completions path equals the HF backend's (issue 16, Done means).

The fake server computes what vLLM would: it tokenizes each echoed prompt
with the embedded Gemma's tokenizer (offsets included) and returns every
token's log-probability from one forward pass of the same model. The harness
scores a loglikelihood classification run through `model.endpoint=completions`
against it; HFBackend then scores the very same requests directly. Both
must pick the same label for every item, with the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.backends.base import BACKENDS
from harness.core.records import RunResult
from harness.run.plugins import load_plugins
from harness.run.runner import evaluate
from tests.fakes import openai_server
from tests.fakes.fixtures import compose_model
from tests.helpers import run_config

N_ITEMS = 4


def gemma_tokenize(backend: Any) -> openai_server.Tokenize:
    """What a vLLM server returns with echo+logprobs, computed with the embedded Gemma through transformers."""
    import torch

    def tokenize(text: str) -> list[tuple[str, int, float | None]]:
        enc = backend.tokenizer(text, return_offsets_mapping=True)  # with <bos>, as the server adds it
        ids = enc["input_ids"]
        with torch.inference_mode():
            logits = backend.model(input_ids=torch.tensor([ids], device=backend.device)).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1).cpu()
        out: list[tuple[str, int, float | None]] = []
        for i, (tok, (start, end)) in enumerate(zip(ids, enc["offset_mapping"], strict=True)):
            out.append((text[start:end], start, None if i == 0 else float(logp[i - 1, tok])))
        return out

    return tokenize


@pytest.fixture(scope="module")
def gemma() -> Any:
    load_plugins()
    return BACKENDS.get("hf").load(compose_model("gemma3_270m"))


@pytest.fixture
def gemma_server(gemma: Any) -> Iterator[openai_server.FakeOpenAI]:
    state, server = openai_server.start(openai_server.FakeOpenAI(tokenize=gemma_tokenize(gemma)))
    try:
        yield state
    finally:
        openai_server.stop(server)


@pytest.mark.slow
def test_completions_loglikelihood_picks_what_the_hf_backend_picks(
    gemma: Any, gemma_server: openai_server.FakeOpenAI, tmp_path: Path
) -> None:
    cfg = run_config(tmp_path, "task=classification", "task.mode=loglikelihood", f"task.limit={N_ITEMS}",
                     "task.shots=3",
                     "model=openai_compat", f"model.base_url={gemma_server.url}", "model.model_id=gemma-3-270m",
                     "model.endpoint=completions", "tracking.enabled=false", "cache.enabled=false")
    via_api: RunResult = evaluate(cfg, quiet=True)
    assert len(via_api.examples) == N_ITEMS and len(gemma_server.log) == N_ITEMS

    direct = gemma.generate([e.request for e in via_api.examples])
    for example, hf in zip(via_api.examples, direct, strict=True):
        api = example.response
        assert api.ok and hf.ok
        assert api.text == hf.text, (example.sample.id, api.choice_logprobs, hf.choice_logprobs)
        assert api.choice_logprobs == pytest.approx(hf.choice_logprobs, abs=2e-3)
    diff = max(abs(a - b) for e, h in zip(via_api.examples, direct, strict=True)
               for a, b in zip(e.response.choice_logprobs, h.choice_logprobs, strict=True))
    picks = [e.response.text for e in via_api.examples]
    print(f"largest |log-likelihood difference| API vs HF: {diff:.2e}; picks: {picks}")
