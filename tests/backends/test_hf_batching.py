"""The HF backend's speed choices must not change answers (real embedded Gemma, a few prompts).

Batched, length-sorted, left-padded greedy decoding and the automatic batch
size (`model.batch_size=0`) are checked against greedy decoding one prompt
at a time; choice log-likelihoods (single-token and multi-token choices)
against batch size 1 within fp32 rounding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from harness.core.records import GenerationParams, Request, RequestKind

PROMPTS = [
    "The capital of France is",
    "Summarize the paragraph in one sentence.\n\nParagraph: A new bus route linking Glenmoor and Dunmore will "
    "start on 27 May. Buses will run every 20 minutes.\nSummary:",
    "Review: The coffee maker is the best I have tried in years.\nSentiment:",
]
SHOT = ("Summarize the paragraph in one sentence.\n\nParagraph: Heavy rain closed 10 roads in the valley on "
        "Thursday.\nSummary: Rain closed roads in the valley.\n\nParagraph: ")
FEW_SHOT = [  # one shared few-shot prefix: the backend encodes it once per batch and reuses its KV cache
    SHOT + "Clara Weiss opened a small bakery on the market square.\nSummary:",
    SHOT + "A new bus route linking Glenmoor and Dunmore will start on 27 May, with buses every 20 minutes.\nSummary:",
    SHOT + "The annual cheese festival attracted about 5,000 visitors.\nSummary:",
]
CHOICES = (" positive", " negative", " not sure at all")  # the last one is several tokens


@pytest.fixture(scope="module")
def backend() -> Iterator[Any]:
    from harness.backends.hf.backend import HFBackend
    from harness.config.schema import HFModelConfig

    b = HFBackend(HFModelConfig(name="gemma3_270m", path="embedded:gemma3-270m", chat_template=False, batch_size=1))
    yield b
    b.close()


def _with_batch(b: Any, size: int) -> Any:
    b._cfg = dataclasses.replace(b._cfg, batch_size=size)
    return b


@pytest.mark.slow
def test_batched_greedy_and_shared_prefix_match_batch_one(backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Automatic batch size: plain prompts in one left-padded batch, few-shot prompts through the prefix cache."""
    from harness.backends.hf import generate as hf_generate

    monkeypatch.setattr(hf_generate, "MIN_SAVED_TOKENS", 0)  # three short rows: take the path anyway

    rows = hf_generate._encode(backend, FEW_SHOT)
    assert hf_generate._shared_prefix(backend, rows, backend.tokenizer.pad_token_id) is not None  # the path is taken
    plain, fewshot = GenerationParams(max_new_tokens=6), GenerationParams(max_new_tokens=8, stop=("\n",))
    reqs = [Request(str(i), p, plain) for i, p in enumerate(PROMPTS)]
    reqs += [Request(f"f{i}", p, fewshot) for i, p in enumerate(FEW_SHOT)]  # own params: own batch
    one = [r.texts for r in _with_batch(backend, 1).generate(reqs)]
    assert [r.texts for r in _with_batch(backend, 0).generate(reqs)] == one


@pytest.mark.slow
def test_choice_logprobs_match_batch_one(backend: Any) -> None:
    reqs = [Request(str(i), p, kind=RequestKind.CHOICES, choices=CHOICES) for i, p in enumerate(PROMPTS)]
    one = _with_batch(backend, 1).generate(reqs)
    auto = _with_batch(backend, 0).generate(reqs)
    for a, b in zip(auto, one, strict=True):
        assert a.choice_logprobs is not None and b.choice_logprobs is not None
        assert a.choice_logprobs == pytest.approx(b.choice_logprobs, abs=1e-4)
        assert a.texts == b.texts


def _plain_forward_logprob(b: Any, prompt: str, choice: str) -> float:
    """log P(choice | prompt) from one unpadded forward pass of prompt + choice: the textbook reference."""
    import torch

    ctx = b.tokenizer(prompt)["input_ids"]
    ids = ctx + b.tokenizer(choice, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        logp = torch.log_softmax(b.model(input_ids=torch.tensor([ids])).logits[0].float(), dim=-1)
    return float(sum(logp[pos, ids[pos + 1]] for pos in range(len(ctx) - 1, len(ids) - 1)))


@pytest.mark.slow
@pytest.mark.parametrize("size", [1, 2, 0])
def test_choice_logprobs_equal_a_plain_forward_pass(backend: Any, size: int) -> None:
    """Prompt encoded once, choices continued from its KV cache (in chunks of 2 rows at size 2)."""
    choices = (" positive", " not sure at all", " very much so, yes", " mixed feelings")
    reqs = [Request(str(i), p, kind=RequestKind.CHOICES, choices=choices) for i, p in enumerate(PROMPTS)]
    got = _with_batch(backend, size).generate(reqs)
    for req, resp in zip(reqs, got, strict=True):
        want = [_plain_forward_logprob(backend, req.prompt, c) for c in choices]
        assert resp.choice_logprobs == pytest.approx(want, abs=1e-4)
        assert resp.texts == (choices[max(range(4), key=lambda i: want[i])].strip(),)


@pytest.mark.slow
def test_released_tokenizer_encodes_and_decodes_like_a_fresh_one(backend: Any) -> None:
    """The backend drops the Python copies of the vocab and merges after loading (memory); nothing reads them."""
    from transformers import AutoTokenizer

    from harness.backends.hf.embedded import resolve_embedded

    assert backend.tokenizer._vocab is None and backend.tokenizer._merges is None
    fresh = AutoTokenizer.from_pretrained(resolve_embedded("gemma3-270m"))
    texts = [*PROMPTS, *CHOICES, "Ünïcödé ✓ 東京 \n\t  spaces", "<start_of_turn>user"]
    assert backend.tokenizer(texts)["input_ids"] == fresh(texts)["input_ids"]
    ids = fresh(texts)["input_ids"]
    assert backend.tokenizer.batch_decode(ids) == fresh.batch_decode(ids)
    assert len(backend.tokenizer) == len(fresh)


@pytest.mark.slow
def test_an_empty_choice_is_a_one_line_config_error(backend: Any) -> None:
    from harness.core.errors import ConfigError

    with pytest.raises(ConfigError, match="choice '' encodes to no tokens"):
        backend.generate([Request("0", PROMPTS[0], kind=RequestKind.CHOICES, choices=(" positive", ""))])


def test_auto_batch_size_is_bounded_by_rows_and_cap() -> None:
    from harness.backends.hf import generate as hf_generate

    class Cfg:
        batch_size = 0

    class Text:
        num_hidden_layers, num_key_value_heads, head_dim, vocab_size = 2, 1, 4, 10
        num_attention_heads, hidden_size = 1, 4

    class Model:
        config = Text()

        def parameters(self) -> Iterator[Any]:
            import torch

            yield torch.zeros(1)

    class B:
        _cfg, model, device = Cfg(), Model(), "cpu"

    assert hf_generate.batch_size(B(), 5, 100) == 5  # type: ignore[arg-type]
    assert hf_generate.batch_size(B(), 10_000, 100) == hf_generate.AUTO_MAX_BATCH  # type: ignore[arg-type]
    B._cfg.batch_size = 3
    assert hf_generate.batch_size(B(), 10_000, 100) == 3  # type: ignore[arg-type]
