"""Any OpenAI-compatible server (vLLM, llama.cpp, TGI, OpenAI): chat completions, or plain completions.

`model.endpoint: chat` (the default) sends `/v1/chat/completions`;
`model.endpoint: completions` sends `/v1/completions` (base models), which
also scores choices by log-likelihood (harness.backends.openai_completions).

Same shape as the Gemini backend: one event loop per batch, a semaphore of
`model.concurrency`, the SDK's retries off (`max_retries=0`), failures
classified into `Response.error`. The key comes from the variable named in
`model.api_key_env`; local servers that need none get a placeholder.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from harness.backends import openai_completions as completions
from harness.backends.base import BACKENDS, BackendIdentity, BackendPlugin, Capability
from harness.config.schema import OpenAIModelConfig
from harness.core.errors import ConfigError
from harness.core.records import BackendError, ErrorKind, Request, RequestKind, Response

log = logging.getLogger(__name__)

CAPABILITIES = frozenset({Capability.JSON_SCHEMA, Capability.CANDIDATES, Capability.SAMPLING})
# no JSON_SCHEMA: the legacy endpoint has no response_format (servers' own extensions differ)
COMPLETIONS_CAPABILITIES = frozenset({Capability.CHOICES, Capability.CANDIDATES, Capability.SAMPLING})
_NO_KEY = "no-key"  # what local servers get when the variable is unset
_MAX_MESSAGE = 400


def capabilities_of(cfg: OpenAIModelConfig) -> frozenset[Capability]:
    return COMPLETIONS_CAPABILITIES if cfg.endpoint == "completions" else CAPABILITIES


def identify(cfg: OpenAIModelConfig) -> BackendIdentity:
    """The revision is the server's host and path (the same model id on two servers may differ),
    plus `:completions` for that endpoint (the prompt reaches the model without a chat template)."""
    if cfg.endpoint not in completions.ENDPOINTS:
        raise ConfigError(
            f"model.endpoint must be one of {', '.join(completions.ENDPOINTS)}, got {cfg.endpoint!r} (model {cfg.name})"
        )
    url = urlparse(cfg.base_url)
    suffix = ":completions" if cfg.endpoint == "completions" else ""
    return BackendIdentity(
        backend="openai",
        model=cfg.model_id,
        revision=f"{url.netloc}{url.path}".rstrip("/") + suffix,
        variant=cfg.variant,
        base_model=cfg.base_model,
    )


def chat_kwargs(model_id: str, req: Request) -> dict[str, Any]:
    """Request -> keyword arguments of `chat.completions.create`."""
    p = req.params
    messages = ([{"role": "system", "content": req.system}] if req.system else []) + [
        {"role": "user", "content": req.prompt}
    ]
    kw: dict[str, Any] = {"model": model_id, "messages": messages, **completions.sampling_kwargs(p)}
    if p.json_schema:
        schema = json.loads(p.json_schema)
        kw["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
    return kw


def to_response(raw: Any, latency_s: float) -> Response:
    usage = raw.usage
    details = getattr(usage, "prompt_tokens_details", None) if usage else None
    choices = sorted(raw.choices or [], key=lambda c: c.index)
    texts = tuple((c.message.content or "") if c.message else "" for c in choices)
    finish = (choices[0].finish_reason or "stop") if choices else "empty"
    return Response(
        texts=texts if any(texts) else (),
        prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
        output_tokens=(usage.completion_tokens or 0) if usage else 0,
        cached_tokens=(getattr(details, "cached_tokens", 0) or 0) if details else 0,
        latency_s=latency_s,
        finish_reason=finish,
    )


def classify(exc: BaseException, secret: str | None = None) -> BackendError:
    """openai SDK exception -> BackendError."""
    import openai

    text = f"{type(exc).__name__}: {exc}"
    if secret:
        text = text.replace(secret, "***")
    text = text[:_MAX_MESSAGE]
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        if code == 429:
            return BackendError(ErrorKind.RATE_LIMITED, text, _retry_after(exc.response.headers))
        if code in (408, 409) or code >= 500:
            return BackendError(ErrorKind.TRANSIENT, text)
        return BackendError(ErrorKind.FATAL, text)
    if isinstance(exc, (openai.APIConnectionError, openai.APIResponseValidationError, json.JSONDecodeError)):
        return BackendError(ErrorKind.TRANSIENT, text)  # includes timeouts (APITimeoutError)
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return BackendError(ErrorKind.TRANSIENT, text)
    return BackendError(ErrorKind.FATAL, text)


def _retry_after(headers: Any) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


class OpenAICompatBackend:
    """Backend over `AsyncOpenAI.chat.completions.create` or `AsyncOpenAI.completions.create`."""

    def __init__(self, cfg: OpenAIModelConfig) -> None:
        try:
            import openai  # noqa: F401
        except ImportError as e:  # pragma: no cover - a declared dependency
            raise ConfigError("the openai backend needs the openai package: pip install openai") from e
        self.identity = identify(cfg)
        self.capabilities = capabilities_of(cfg)
        self._cfg = cfg
        self._secret = os.environ.get(cfg.api_key_env) or None

    def __repr__(self) -> str:
        return f"OpenAICompatBackend({self.identity.model!r}, {self.identity.revision!r})"

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        return asyncio.run(self._generate_all(requests))

    async def _generate_all(self, requests: Sequence[Request]) -> list[Response]:
        import openai

        # the client's connection pool belongs to this batch's event loop
        client = openai.AsyncOpenAI(
            base_url=self._cfg.base_url,
            api_key=self._secret or _NO_KEY,
            max_retries=0,
            timeout=self._cfg.timeout_s,
        )
        sem = asyncio.Semaphore(max(1, self._cfg.concurrency))
        try:
            return list(await asyncio.gather(*(self._one(client, sem, r) for r in requests)))
        finally:
            await client.close()

    async def _one(self, client: Any, sem: asyncio.Semaphore, req: Request) -> Response:
        plain = self._cfg.endpoint == "completions"
        if req.kind is not RequestKind.GENERATE and not plain:
            return Response(error=BackendError(
                ErrorKind.FATAL, "the chat endpoint cannot score choices; set model.endpoint=completions"
            ))
        model_id = self._cfg.model_id
        async with sem:
            start = time.perf_counter()
            try:
                if req.kind is RequestKind.CHOICES:
                    raw = await client.completions.create(**completions.choice_kwargs(model_id, req))
                    return completions.choice_response(raw, req, time.perf_counter() - start)
                if plain:
                    raw = await client.completions.create(**completions.completion_kwargs(model_id, req))
                    return completions.to_completion_response(raw, time.perf_counter() - start)
                raw = await client.chat.completions.create(**chat_kwargs(model_id, req))
                return to_response(raw, time.perf_counter() - start)
            except Exception as exc:  # classified, not raised
                err = classify(exc, self._secret)
                log.debug("openai request %s failed: %s", req.sample_id, err.message)
                return Response(latency_s=time.perf_counter() - start, error=err)

    def close(self) -> None:
        pass


def load(cfg: OpenAIModelConfig) -> OpenAICompatBackend:
    return OpenAICompatBackend(cfg)


BACKENDS.register("openai")(
    BackendPlugin(
        identify=identify, load=load, capabilities=CAPABILITIES | COMPLETIONS_CAPABILITIES,
        capabilities_of=capabilities_of,
    )
)
