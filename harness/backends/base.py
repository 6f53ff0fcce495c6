"""The backend contract.

A backend takes a whole batch of requests and returns one response per
request, in order. Batching, concurrency and tokenization stay inside it.
Backends never sleep or retry: they classify failures in
`Response.error` and the runner (harness.run.retry) owns the retry loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from harness.core.records import Request, Response
from harness.core.registry import Registry


class Capability(StrEnum):
    """Optional abilities a backend declares instead of the runner guessing."""

    CHOICES = "choices"  # log-likelihood scoring of continuations
    JSON_SCHEMA = "json_schema"  # can constrain output to a JSON schema
    CANDIDATES = "candidates"  # n > 1 samples per request
    SAMPLING = "sampling"  # temperature > 0


@dataclass(frozen=True)
class BackendIdentity:
    """What tells one model variant from another, for the cache and MLflow.

    `revision` pins weights (a commit, a file hash, an endpoint); `adapter`
    is the content hash of a PEFT adapter, '' when none.
    """

    backend: str
    model: str
    revision: str = ""
    adapter: str = ""
    variant: str = "base"
    base_model: str = ""

    def cache_payload(self) -> dict[str, str]:
        # variant/base_model are labels, not weights: they stay out of the key
        return {"backend": self.backend, "model": self.model, "revision": self.revision, "adapter": self.adapter}


class Backend(Protocol):
    """A model that answers batches of requests."""

    identity: BackendIdentity
    capabilities: frozenset[Capability]

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Answer every request; failures are returned, not raised."""
        ...

    def close(self) -> None:
        """Release resources (threads, clients, GPU memory)."""
        ...


@dataclass(frozen=True)
class BackendPlugin:
    """How a backend is made from its typed model config.

    `identify` must be cheap (no weights loaded): the runner calls it to
    build cache keys and calls `load` only if some request is not cached.
    `check_credentials` must be cheap too (no request is sent).
    """

    identify: Callable[[Any], BackendIdentity]
    load: Callable[[Any], Backend]
    capabilities: frozenset[Capability]
    # True when answers depend on the sample id, not only the prompt (replay):
    # the id then joins the cache key, so equal prompts are not shared
    per_sample: bool = False
    # Raises ConfigError when the backend could not authenticate (no API key, no
    # Application Default Credentials). Called by the preflight and by `evaluate`
    # before any request and before an MLflow run starts, so a missing key is one
    # line, not a run of failed requests or a FAILED run. None: nothing to check.
    check_credentials: Callable[[Any], None] | None = None
    # The capabilities of one model config, where they depend on it (an OpenAI-compatible
    # server's endpoint); None: `capabilities` for every config
    capabilities_of: Callable[[Any], frozenset[Capability]] | None = None

    def capabilities_for(self, cfg: Any) -> frozenset[Capability]:
        """What this config's backend can do (checked before it loads)."""
        return self.capabilities_of(cfg) if self.capabilities_of else self.capabilities


BACKENDS: Registry[BackendPlugin] = Registry("model backend")
