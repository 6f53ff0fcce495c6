"""Gemini through the google-genai SDK: Developer API or Vertex AI, base or tuned.

One batch is one event loop: every request of the batch goes through the
SDK's async client under a semaphore of `model.concurrency`. Failures are
classified into `Response.error` (see `classify`), never retried here: the
SDK's own retries are switched off so `harness.run.retry` stays the one loop.

The API key is read from the first set variable in `model.api_key_env` and
handed to the SDK only; it is scrubbed from every error message and never
part of the identity or the repr.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from harness.backends.base import BACKENDS, BackendIdentity, BackendPlugin, Capability
from harness.backends.gemini.context_cache import ContextCaches, shared_prefix
from harness.config.schema import GeminiModelConfig
from harness.core.errors import ConfigError
from harness.core.records import BackendError, ErrorKind, GenerationParams, Request, RequestKind, Response

log = logging.getLogger(__name__)

CAPABILITIES = frozenset({Capability.JSON_SCHEMA, Capability.CANDIDATES, Capability.SAMPLING})
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length"}
_MAX_MESSAGE = 400


def api_key(cfg: GeminiModelConfig) -> str | None:
    """The value of the first set variable in `api_key_env` (None for Vertex ADC)."""
    for name in cfg.api_key_env:
        value = os.environ.get(name)
        if value:
            return value.strip()
    return None


def default_host(cfg: GeminiModelConfig) -> str:
    if cfg.base_url:
        return urlparse(cfg.base_url).netloc or cfg.base_url
    if cfg.api == "vertex":
        loc = cfg.location or "global"
        return "aiplatform.googleapis.com" if loc == "global" else f"{loc}-aiplatform.googleapis.com"
    return "generativelanguage.googleapis.com"


def identify(cfg: GeminiModelConfig) -> BackendIdentity:
    """Cheap: no client is built. The revision names the API and host, never the key.

    Context caching sends the prompt as two turns (cache + rest), which the
    model may answer differently: it is part of the revision, hence the cache key.
    """
    if cfg.api not in ("developer", "vertex"):
        raise ConfigError(f"model.api must be 'developer' or 'vertex', got {cfg.api!r} (model {cfg.name})")
    return BackendIdentity(
        backend="gemini",
        model=cfg.model_id,
        revision=f"{cfg.api}:{default_host(cfg)}" + (":context-cache" if cfg.context_cache else ""),
        variant=cfg.variant,
        base_model=cfg.base_model,
    )


def check_credentials(cfg: GeminiModelConfig) -> None:
    """Fail before any request when no key (Developer API) or no Google Cloud credentials (Vertex) exist.

    Vertex finds Application Default Credentials lazily, at the first request;
    without this check a run sends every request, retries each, and reports
    them all as failed.
    """
    if cfg.api == "vertex":
        if not cfg.project or not cfg.location:
            raise ConfigError(f"model {cfg.name}: api=vertex needs model.project and model.location")
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError

        try:
            google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        except DefaultCredentialsError:
            raise ConfigError(
                f"model {cfg.name}: api=vertex needs Google Cloud credentials and none were found; run "
                "`gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
            ) from None
    elif api_key(cfg) is None:
        raise ConfigError(f"model {cfg.name}: no Gemini API key; set one of {', '.join(cfg.api_key_env)}")


def make_client(cfg: GeminiModelConfig, credentials: Any = None) -> Any:
    """A google-genai Client for `cfg`, with the SDK's own retries switched off."""
    try:
        from google import genai
        from google.genai import types
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise ConfigError("the gemini backend needs google-genai: pip install google-genai") from e
    http = types.HttpOptions(
        base_url=cfg.base_url,
        api_version=cfg.api_version,
        timeout=int(cfg.timeout_s * 1000),
        # attempts=1: no SDK retry, and its implicit aiohttp reconnect-with-sleep is off too
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    if cfg.api == "vertex":
        if not cfg.project or not cfg.location:
            raise ConfigError(f"model {cfg.name}: api=vertex needs model.project and model.location")
        return genai.Client(
            vertexai=True, project=cfg.project, location=cfg.location, credentials=credentials, http_options=http
        )
    key = api_key(cfg)
    if key is None:
        raise ConfigError(f"model {cfg.name}: no Gemini API key; set one of {', '.join(cfg.api_key_env)}")
    return genai.Client(vertexai=False, api_key=key, http_options=http)


def generation_config(req: Request, cached_content: str | None = None) -> Any:
    """Request -> types.GenerateContentConfig; with a cache, the system instruction lives in the cache."""
    from google.genai import types

    p: GenerationParams = req.params
    json_mode = p.json_schema is not None
    return types.GenerateContentConfig(
        cached_content=cached_content,
        system_instruction=None if cached_content else req.system,
        temperature=p.temperature,
        top_p=p.top_p,
        top_k=p.top_k,
        max_output_tokens=p.max_new_tokens,
        stop_sequences=list(p.stop) or None,
        seed=p.seed,
        candidate_count=p.n if p.n > 1 else None,
        response_mime_type="application/json" if json_mode else None,
        response_json_schema=json.loads(p.json_schema) if p.json_schema else None,
    )


def to_response(raw: Any, latency_s: float) -> Response:
    """types.GenerateContentResponse -> Response. Blocked or empty replies are not errors."""
    usage = raw.usage_metadata
    prompt = (usage.prompt_token_count or 0) if usage else 0
    output = ((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else 0
    cached = (usage.cached_content_token_count or 0) if usage else 0
    cands = raw.candidates or []
    if not cands:
        fb = raw.prompt_feedback
        reason = fb.block_reason if fb is not None and fb.block_reason is not None else None
        finish = _enum_name(reason) if reason is not None else "empty"
        return Response((), prompt, output, cached, latency_s, finish)
    texts = tuple(
        "".join(p.text for p in (c.content.parts or []) if p.text and not p.thought) if c.content else "" for c in cands
    )
    if not any(texts):  # e.g. finishReason SAFETY with no content
        texts = ()
    first = cands[0].finish_reason
    finish = _FINISH.get(_enum_name(first), _enum_name(first)) if first is not None else "stop"
    return Response(texts, prompt, output, cached, latency_s, finish)


def _enum_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def retry_after_s(exc: Any) -> float | None:
    """Seconds from a Retry-After header (delta or HTTP date) or a google.rpc.RetryInfo detail."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    value = headers.get("Retry-After") if headers is not None else None
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time()) if when else None
    details = getattr(exc, "details", None)
    err = details.get("error", details) if isinstance(details, dict) else {}
    for d in err.get("details", []) if isinstance(err, dict) else []:
        delay = d.get("retryDelay") if isinstance(d, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                pass
    return None


def classify(exc: BaseException, secret: str | None = None) -> BackendError:
    """Exception from the SDK or the transport -> BackendError (429 / 5xx / timeout / other 4xx)."""
    from google.genai import errors

    def msg(text: str) -> str:
        text = f"{type(exc).__name__}: {text}"
        if secret:
            text = text.replace(secret, "***")
        return text[:_MAX_MESSAGE]

    if isinstance(exc, errors.APIError):
        code = int(exc.code or 0)
        text = msg(f"{code} {exc.status or ''} {exc.message or ''}".strip())
        if code == 429:
            return BackendError(ErrorKind.RATE_LIMITED, text, retry_after_s(exc))
        if code == 408 or code >= 500 or code == 0:
            return BackendError(ErrorKind.TRANSIENT, text)
        return BackendError(ErrorKind.FATAL, text)
    if isinstance(exc, (errors.UnknownApiResponseError, json.JSONDecodeError, UnicodeDecodeError)):
        return BackendError(ErrorKind.TRANSIENT, msg("malformed response body"))
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return BackendError(ErrorKind.TRANSIENT, msg(f"timed out {exc}"))
    if isinstance(exc, (ConnectionError, OSError)) or _is_transport_error(exc):
        return BackendError(ErrorKind.TRANSIENT, msg(str(exc)))
    if type(exc).__name__ == "ValidationError":  # pydantic: a body that parsed but is not a response
        return BackendError(ErrorKind.TRANSIENT, msg("malformed response body"))
    return BackendError(ErrorKind.FATAL, msg(str(exc)))


def _is_transport_error(exc: BaseException) -> bool:
    mod = type(exc).__module__
    return mod.startswith(("aiohttp", "httpx", "httpcore", "h11"))


class GeminiBackend:
    """Backend over `client.aio.models.generate_content`."""

    capabilities = CAPABILITIES

    def __init__(self, cfg: GeminiModelConfig, credentials: Any = None) -> None:
        self.identity = identify(cfg)
        self._cfg = cfg
        self._secret = api_key(cfg) if cfg.api == "developer" else None
        self._client = make_client(cfg, credentials)
        self._caches = (
            ContextCaches(self._client, cfg, lambda exc: classify(exc, self._secret).message)
            if cfg.context_cache
            else None
        )

    def __repr__(self) -> str:
        return f"GeminiBackend({self.identity.model!r}, {self.identity.revision!r})"

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        return asyncio.run(self._generate_all(requests))

    async def _generate_all(self, requests: Sequence[Request]) -> list[Response]:
        sem = asyncio.Semaphore(max(1, self._cfg.concurrency))
        try:
            cached = await self._cached_prefixes(requests)
            return list(await asyncio.gather(*(self._one(sem, r, cached.get(r.system)) for r in requests)))
        finally:
            # the SDK keeps one HTTP session per event loop; this loop ends with the batch
            await self._client.aio.aclose()

    async def _cached_prefixes(self, requests: Sequence[Request]) -> dict[str | None, tuple[str, str]]:
        """system -> (shared prefix, cache name) for the groups of this batch whose prefix is cached."""
        if self._caches is None:
            return {}
        by_system: dict[str | None, list[str]] = {}
        for r in requests:
            if r.kind is RequestKind.GENERATE:
                by_system.setdefault(r.system, []).append(r.prompt)
        out: dict[str | None, tuple[str, str]] = {}
        for system, prompts in by_system.items():
            live = self._caches.live_for(prompts, system)
            if live:
                out[system] = live
                continue
            prefix = shared_prefix(prompts, self._cfg.context_cache_min_tokens)
            name = await self._caches.name_for(prefix, system)
            if name:
                out[system] = (prefix, name)
        return out

    async def _one(self, sem: asyncio.Semaphore, req: Request, cached: tuple[str, str] | None) -> Response:
        if req.kind is not RequestKind.GENERATE:
            return Response(error=BackendError(ErrorKind.FATAL, "gemini backend cannot score choices"))
        prefix, name = cached or ("", None)
        async with sem:
            start = time.perf_counter()
            try:
                raw = await self._client.aio.models.generate_content(
                    model=self._cfg.model_id, contents=req.prompt[len(prefix) :], config=generation_config(req, name)
                )
                return to_response(raw, time.perf_counter() - start)
            except Exception as exc:  # classified, not raised: see module docstring
                err = classify(exc, self._secret)
                log.debug("gemini request %s failed: %s", req.sample_id, err.message)
                return Response(latency_s=time.perf_counter() - start, error=err)

    def close(self) -> None:
        if self._caches is not None:
            self._caches.delete_all()
        self._client.close()


def load(cfg: GeminiModelConfig) -> GeminiBackend:
    return GeminiBackend(cfg)


BACKENDS.register("gemini")(
    BackendPlugin(identify=identify, load=load, capabilities=CAPABILITIES, check_credentials=check_credentials)
)
