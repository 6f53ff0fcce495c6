"""Gemini context caching of a batch's shared prompt prefix (`model.context_cache`).

Few-shot prompts repeat the same k examples before every item. With context
caching on, the backend finds the prompt text every request of a batch
shares (cut after a newline, so the item's own text starts a fresh line),
stores it once with `client.caches.create`, and sends each request only its
own remainder plus the cache's name. Cached input tokens bill at the cached
price (`prices.cached_per_mtok`), which `usageMetadata.cachedContentTokenCount`
reports per request.

Caching is best-effort: a prefix under `context_cache_min_tokens` (the API's
minimum; 1,024 for Gemini 2.5 Flash) is sent uncached, and a refused or
failed `caches.create` (e.g. tuned models, which the API does not cache for)
logs one warning and the batch goes on uncached. Caches live across the
batches of a run, are recreated a minute before their TTL runs out, and are
deleted when the backend closes, so storage is not billed past the run.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any

from harness.config.schema import GeminiModelConfig

log = logging.getLogger(__name__)

_REFRESH_MARGIN_S = 60.0  # recreate a cache this long before it expires


def shared_prefix(prompts: Sequence[str], min_chars: int) -> str:
    """The text every prompt starts with, cut after its last newline, leaving each prompt a non-empty rest.

    '' when there are fewer than two prompts or the prefix is shorter than
    `min_chars` (a token is at least one character, so fewer characters than
    the token minimum can never be cached).
    """
    if len(prompts) < 2:
        return ""
    common = os.path.commonprefix(list(prompts))[: min(map(len, prompts)) - 1]  # noqa: RUF071 - text, by design
    prefix = common[: common.rfind("\n") + 1]
    return prefix if len(prefix) >= max(1, min_chars) else ""


class ContextCaches:
    """Creates, reuses and deletes the cachedContents of one backend."""

    def __init__(self, client: Any, cfg: GeminiModelConfig, describe_error: Any) -> None:
        self._client = client
        self._cfg = cfg
        self._describe = describe_error  # exception -> message with secrets scrubbed
        self._live: dict[tuple[str, str | None], tuple[str, float]] = {}  # (prefix, system) -> (name, created)
        self._refused: set[tuple[str, str | None]] = set()

    def live_for(self, prompts: Sequence[str], system: str | None) -> tuple[str, str] | None:
        """(prefix, name) of the longest fresh cache every prompt starts with, for `system`.

        Checked before computing a new prefix, so a retry of one request, or a
        later batch whose items happen to share more text, goes through the
        same cache as the rest of the run and the model sees one layout.
        """
        fresh = [
            (prefix, name)
            for (prefix, sys_), (name, created) in self._live.items()
            if sys_ == system
            and self._fresh(created)
            and all(p.startswith(prefix) and len(p) > len(prefix) for p in prompts)
        ]
        return max(fresh, key=lambda pn: len(pn[0]), default=None)

    def _fresh(self, created: float) -> bool:
        return time.monotonic() - created < self._cfg.context_cache_ttl_s - _REFRESH_MARGIN_S

    async def name_for(self, prefix: str, system: str | None) -> str | None:
        """A new cache holding `prefix` (and `system`); None when it cannot be cached.

        Called only when `live_for` found no fresh cache, so an existing entry
        for this key has expired and is replaced.
        """
        key = (prefix, system)
        if not prefix or key in self._refused:
            return None
        from google.genai import types

        content = types.Content(role="user", parts=[types.Part(text=prefix)])
        try:
            counted = await self._client.aio.models.count_tokens(model=self._cfg.model_id, contents=[content])
            if (counted.total_tokens or 0) < self._cfg.context_cache_min_tokens:
                self._refused.add(key)
                return None
            cache = await self._client.aio.caches.create(
                model=self._cfg.model_id,
                config=types.CreateCachedContentConfig(
                    contents=[content],
                    system_instruction=system,
                    ttl=f"{self._cfg.context_cache_ttl_s}s",
                    display_name=f"harness {self._cfg.name}",
                ),
            )
        except Exception as exc:  # caching is an optimisation: never fail the run for it
            log.warning("model %s: context cache not created, sending prompts uncached: %s",
                        self._cfg.name, self._describe(exc))
            self._refused.add(key)
            return None
        self._live[key] = (str(cache.name), time.monotonic())
        return str(cache.name)

    def delete_all(self) -> None:
        """Delete every cache this backend created (sync client: called from close())."""
        for name, _ in self._live.values():
            try:
                self._client.caches.delete(name=name)
            except Exception as exc:  # expired already, or the network is gone: storage ends at the TTL
                log.warning("model %s: could not delete context cache %s: %s", self._cfg.name, name,
                            self._describe(exc))
        self._live.clear()
