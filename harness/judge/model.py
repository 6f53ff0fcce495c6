"""An opened judge: any model config of the harness, asked through the run loop's own machinery.

`open_judge("gemini_flash")` composes conf/model/gemini_flash.yaml exactly as
`python -m harness model=gemini_flash` would (schema-checked, the user's
config folders included), and `JudgeModel.ask(prompts)` sends the judge
prompts through `harness.run.generation.generate_all`: the response cache
(key: the judge's backend identity and the full judge prompt), the one retry
loop, the backend's own batching and concurrency, and a lazy model load (a
fully cached re-judging loads nothing and sends no request). The backend,
once loaded, stays open until `close()`, so the re-asks of unparsable
replies do not reload a local model.

Re-asking the same prompt must not be answered from the cache with the same
bad reply: attempt k > 0 is cached under a key that adds `#judge-attempt-k`
to the backend identity's revision. The backend sees the identical request;
a sampling judge may answer differently, a greedy one answers the same (and
that reply then counts as invalid). A re-run replays every attempt from the
cache, so a judged run is reproducible without requests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.backends.base import Backend, BackendIdentity, BackendPlugin, Capability
from harness.config.schema import CacheConfig, RetryConfig
from harness.core.errors import ConfigError
from harness.core.records import GenerationParams, Request, Response

DEFAULT_PARAMS = GenerationParams(max_new_tokens=128, temperature=0.0)


@dataclass
class JudgeUsage:
    """What the judge has cost so far (all `ask` calls of one JudgeModel)."""

    requests: int = 0
    cached: int = 0  # answered from the response cache
    prompt_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    errors: int = 0  # requests that ended in a backend error after the retry loop


class _HeldBackend:
    """Loads the judge's backend on first use and keeps it open across `ask` calls.

    generate_all closes the backend it loaded after each call; for a judge that
    re-asks invalid replies that would reload a local model every round, so
    generate_all gets this handle, whose `close` is a no-op until the judge closes.
    """

    def __init__(self, plugin: BackendPlugin, cfg: Any) -> None:
        self._plugin, self._cfg = plugin, cfg
        self.backend: Backend | None = None

    def load(self, _cfg: Any) -> Any:
        if self.backend is None:
            self.backend = self._plugin.load(self._cfg)
        return _NoClose(self.backend)

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()
            self.backend = None


class _NoClose:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.identity = backend.identity
        self.capabilities = backend.capabilities

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        return self._backend.generate(requests)

    def close(self) -> None:  # the JudgeModel closes the real backend
        pass


@dataclass(frozen=True)
class JudgeModel:
    """An opened judge model. `identity` names its weights; it goes into cache keys and MLflow tags."""

    name: str  # the conf/model/ name, e.g. gemini_flash
    identity: str  # e.g. 'gemini_flash (gemini:gemini-2.5-flash @ developer:...)'
    backend_identity: BackendIdentity
    model_cfg: Any  # the typed model config (prices, concurrency, ...)
    params: GenerationParams = DEFAULT_PARAMS
    cache_cfg: CacheConfig = field(default_factory=CacheConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    chunk_size: int = 64
    usage: JudgeUsage = field(default_factory=JudgeUsage)
    _held: Any = None  # _HeldBackend
    _cache: Any = None  # ResponseCache | None

    def ask(
        self, prompts: Sequence[str], params: GenerationParams | None = None, *, attempt: int = 0
    ) -> list[Response]:
        """One response per prompt, in order, through the cache, the retry loop and the backend's concurrency.

        `attempt` > 0 re-asks (an unparsable reply): cached apart from attempt 0, see the module docstring.
        Raises RunFailed when more requests fail than `retry.max_error_rate` allows.
        """
        from harness.core.cost import cost_usd
        from harness.run.generation import generate_all

        if not prompts:
            return []
        p = params or self.params
        requests = [Request(sample_id=f"judge-{i}", prompt=text, params=p) for i, text in enumerate(prompts)]
        identity = self.backend_identity
        if attempt > 0:
            identity = dataclasses.replace(identity, revision=f"{identity.revision}#judge-attempt-{attempt}")
        plugin = BackendPlugin(identify=lambda _c: identity, load=self._held.load, capabilities=frozenset())
        responses, stats = generate_all(
            requests, identity, plugin, self.model_cfg, self._cache, self.retry, self.chunk_size
        )
        u = self.usage
        u.requests += len(responses)
        u.cached += stats.n_cached
        u.prompt_tokens += sum(r.prompt_tokens for r in responses if not r.from_cache)
        u.output_tokens += sum(r.output_tokens for r in responses if not r.from_cache)
        u.cost_usd += sum(cost_usd(r, self.model_cfg.prices) for r in responses if not r.from_cache)
        u.errors += sum(1 for r in responses if r.error is not None)
        return responses

    def cost_usd(self, response: Response) -> float:
        """What one of this judge's responses cost (tokens and compute time at the model's prices)."""
        from harness.core.cost import cost_usd

        return cost_usd(response, self.model_cfg.prices)

    def close(self) -> None:
        """Release the backend (if it was loaded) and the cache connection."""
        if self._held is not None:
            self._held.close()
        if self._cache is not None:
            self._cache.close()

    def __enter__(self) -> JudgeModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def describe(name: str, ident: BackendIdentity) -> str:
    """The judge identity string: config name, backend, model, revision and adapter hash."""
    parts = [f"{ident.backend}:{ident.model}"]
    if ident.revision:
        parts.append(f"@ {ident.revision}")
    if ident.adapter:
        parts.append(f"+ adapter {ident.adapter[:16]}")
    return f"{name} ({' '.join(parts)})"


def resolve_model(model: str, overrides: Sequence[str] = ()) -> tuple[Any, BackendPlugin, BackendIdentity]:
    """(typed model config, backend plugin, backend identity) of a judge, without loading it.

    `overrides` are model keys as on the command line, with or without the
    `model.` prefix (`base_url=http://...` or `model.base_url=http://...`).
    An unknown model or a bad override is a ConfigError naming `judge.model`.
    """
    from harness.backends.base import BACKENDS
    from harness.config.load import compose_run
    from harness.run.plugins import load_plugins

    if not model:
        raise ConfigError("judge.model is not set: name a model config (conf/model/), e.g. judge.model=gemini_flash")
    args = [o if o.startswith("model.") else f"model.{o}" for o in overrides]
    try:
        cfg = compose_run([f"model={model}", *args]).model
    except ConfigError as exc:
        raise ConfigError(f"judge.model={model}: {exc}") from None
    load_plugins()
    plugin = BACKENDS.get(cfg.backend, "judge model backend")
    return cfg, plugin, plugin.identify(cfg)


def open_judge(
    model: str,
    overrides: Sequence[str] = (),
    *,
    params: GenerationParams = DEFAULT_PARAMS,
    cache: CacheConfig | None = None,
    retry: RetryConfig | None = None,
    chunk_size: int = 64,
) -> JudgeModel:
    """Open the judge named `model` (a conf/model/ name) with the run's cache and retry settings.

    Cheap: nothing loads until the first prompt misses the cache. Credentials
    are checked here (one line, before any request), and so is the backend's
    ability to sample when `params` asks for temperature > 0.
    """
    cfg, plugin, ident = resolve_model(model, overrides)
    if not params.greedy and Capability.SAMPLING not in plugin.capabilities_for(cfg):
        raise ConfigError(f"judge model {model!r} cannot sample (temperature > 0); use temperature=0")
    if plugin.check_credentials:
        plugin.check_credentials(cfg)
    cache_cfg = cache or CacheConfig()
    opened = None
    if cache_cfg.enabled:
        from pathlib import Path

        from harness.run.cache import ResponseCache

        opened = ResponseCache(Path(cache_cfg.path))
    return JudgeModel(
        name=model,
        identity=describe(model, ident),
        backend_identity=ident,
        model_cfg=cfg,
        params=params,
        cache_cfg=cache_cfg,
        retry=retry or RetryConfig(),
        chunk_size=chunk_size,
        _held=_HeldBackend(plugin, cfg),
        _cache=opened,
    )
