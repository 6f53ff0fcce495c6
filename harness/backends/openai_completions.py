"""The `/v1/completions` half of the OpenAI-compatible backend: plain generation and choice log-likelihoods.

Base models on a vLLM (or llama.cpp, TGI) server have no chat template: they
are served through the legacy completions endpoint (`model.endpoint:
completions`). A choice request becomes one call whose prompts are
`context + choice` for every choice, sent with `echo: true`, `logprobs: 1`
and `max_tokens: 1`, so the server returns the log-probability of every
prompt token (plus one generated token, ignored). The server's tokenizer is
not available here, so the choice's tokens are found by character offset
(`text_offset`): every token that ends after the context and starts inside the
prompt. This is the quantity the HF backend computes (the sum of the choice's
token log-probabilities given the context), provided the server tokenizes the
boundary the same way, which it does when the choice starts with a space
(`task.choice_prefix`, " " by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.core.records import BackendError, ErrorKind, GenerationParams, Request, Response

ENDPOINTS = ("chat", "completions")


def render(req: Request) -> str:
    """The prompt a base model sees: the system text as a paragraph before the prompt (as the HF backend does)."""
    return f"{req.system}\n\n{req.prompt}" if req.system else req.prompt


def sampling_kwargs(p: GenerationParams) -> dict[str, Any]:
    """The sampling options both OpenAI endpoints (chat and completions) take, set only when given."""
    kw: dict[str, Any] = {"temperature": p.temperature, "max_tokens": p.max_new_tokens, "n": p.n}
    if p.top_p is not None:
        kw["top_p"] = p.top_p
    if p.stop:
        kw["stop"] = list(p.stop)
    if p.seed is not None:
        kw["seed"] = p.seed
    if p.top_k is not None:  # not in OpenAI's API; vLLM and llama.cpp read it from the body
        kw["extra_body"] = {"top_k": p.top_k}
    return kw


def completion_kwargs(model_id: str, req: Request) -> dict[str, Any]:
    """A generation request -> keyword arguments of `completions.create`."""
    return {"model": model_id, "prompt": render(req), **sampling_kwargs(req.params)}


def choice_kwargs(model_id: str, req: Request) -> dict[str, Any]:
    """A choice request -> one `completions.create` call scoring every `context + choice` by echo."""
    context = render(req)
    return {
        "model": model_id,
        "prompt": [context + choice for choice in req.choices],
        "echo": True,
        "logprobs": 1,
        # 1, not 0: servers differ on whether 0 is allowed with echo; the generated token is ignored
        "max_tokens": 1,
        "temperature": 0.0,
    }


def to_completion_response(raw: Any, latency_s: float) -> Response:
    usage = raw.usage
    choices = sorted(raw.choices or [], key=lambda c: c.index)
    texts = tuple(c.text or "" for c in choices)
    return Response(
        texts=texts if any(texts) else (),
        prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
        output_tokens=(usage.completion_tokens or 0) if usage else 0,
        latency_s=latency_s,
        finish_reason=(choices[0].finish_reason or "stop") if choices else "empty",
    )


def continuation_logprob(logprobs: Any, context_len: int, prompt_len: int) -> float | None:
    """Sum of the log-probabilities of the tokens covering text[context_len:prompt_len]; None if unusable."""
    offsets: Sequence[int] = list(getattr(logprobs, "text_offset", None) or [])
    values: Sequence[float | None] = list(getattr(logprobs, "token_logprobs", None) or [])
    if not offsets or len(offsets) != len(values):
        return None
    total, seen = 0.0, False
    for i, (start, value) in enumerate(zip(offsets, values, strict=True)):
        end = offsets[i + 1] if i + 1 < len(offsets) else prompt_len
        if start >= prompt_len:  # the generated token (max_tokens=1), not part of the prompt
            break
        if end > context_len:
            if value is None:  # only the very first token lacks a log-probability
                return None
            total += value
            seen = True
    return total if seen else None


def choice_response(raw: Any, req: Request, latency_s: float) -> Response:
    """Echoed log-probabilities -> one Response with `choice_logprobs` in the request's choice order."""
    context = render(req)
    by_index = {c.index: c for c in raw.choices or []}
    lps: list[float] = []
    for i, choice in enumerate(req.choices):
        got = by_index.get(i)
        lp = continuation_logprob(got.logprobs, len(context), len(context + choice)) if got else None
        if lp is None:
            return Response(latency_s=latency_s, error=BackendError(
                ErrorKind.FATAL,
                f"the server returned no prompt log-probabilities for choice {choice!r} "
                "(it must support echo with logprobs on /v1/completions, as vLLM does)",
            ))
        lps.append(lp)
    best = max(range(len(lps)), key=lambda c: lps[c]) if lps else 0
    usage = raw.usage
    return Response(
        texts=(req.choices[best].strip(),) if req.choices else (),
        prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
        latency_s=latency_s,
        finish_reason="choices",
        choice_logprobs=tuple(lps),
    )
