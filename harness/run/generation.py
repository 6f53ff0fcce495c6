"""Requests -> responses: cache lookup, lazy backend load, chunked generation.

The backend is loaded only when some request misses the cache, so a fully
cached run re-scores without touching the model. Misses are sorted by
prompt length (similar lengths batch with little padding) and sent in
chunks; each chunk's answers are committed to the cache before the next
chunk starts, which is what makes a killed run resumable.

A run stops early, with `RunFailed`, once more requests have ended in error
(after the retry loop) than `retry.max_error_rate` allows for the whole
run: it could only fail at the end, and an outage would otherwise cost every
remaining chunk its full retry budget. What finished stays in the cache.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.backends.base import Backend, BackendIdentity, BackendPlugin
from harness.config.schema import RetryConfig
from harness.core.errors import RunFailed
from harness.core.records import Request, Response
from harness.core.testpoint import pause
from harness.run.cache import ResponseCache, cache_key
from harness.run.retry import run_with_retries

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class GenerationStats:
    n_requests: int
    n_cached: int
    n_generated: int
    model_loaded: bool
    load_s: float
    generate_s: float


def generate_all(
    requests: Sequence[Request],
    identity: BackendIdentity,
    plugin: BackendPlugin,
    model_cfg: object,
    cache: ResponseCache | None,
    retry: RetryConfig,
    chunk_size: int,
    progress: Progress = lambda n: None,
    before_load: Callable[[], object] = lambda: None,
) -> tuple[list[Response], GenerationStats]:
    """One response per request, in request order.

    `before_load` is called once, just before the backend loads, and only when some
    request is not cached: work worth overlapping with generation starts there.
    """
    keys = [cache_key(identity, r, plugin.per_sample) for r in requests]
    copies = Counter(keys)
    found = cache.get_many(keys) if cache else {}
    n_hits = sum(1 for k in keys if k in found)
    progress(n_hits)

    # identical prompts share one generation (content-addressed)
    first_of: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k not in found:
            first_of.setdefault(k, i)
    todo = sorted(first_of.values(), key=lambda i: (len(requests[i].prompt), i))

    backend: Backend | None = None
    load_s = gen_s = 0.0
    fresh: dict[str, Response] = {}
    if todo:
        before_load()
        t0 = time.perf_counter()
        backend = plugin.load(model_cfg)
        load_s = time.perf_counter() - t0
        rng = random.Random(0)
        try:
            for start in range(0, len(todo), max(1, chunk_size)):
                chunk = todo[start : start + chunk_size]
                t1 = time.perf_counter()
                answers = run_with_retries(backend, [requests[i] for i in chunk], retry, rng=rng)
                gen_s += time.perf_counter() - t1
                pairs = [(keys[i], a) for i, a in zip(chunk, answers, strict=True)]
                if cache:
                    cache.put_many((k, identity.model, a) for k, a in pairs)
                fresh.update(pairs)
                progress(sum(copies[keys[i]] for i in chunk))
                pause("generation.chunk")
                _stop_if_doomed(fresh, copies, len(requests), n_hits, retry, cached=cache is not None)
        finally:
            backend.close()

    responses = [found.get(k) or fresh[k] for k in keys]
    stats = GenerationStats(
        n_requests=len(requests),
        n_cached=n_hits,
        n_generated=len(todo),
        model_loaded=backend is not None,
        load_s=load_s,
        generate_s=gen_s,
    )
    return responses, stats


def _stop_if_doomed(
    fresh: dict[str, Response],
    copies: Counter[str],
    n_requests: int,
    n_cached: int,
    retry: RetryConfig,
    cached: bool,
) -> None:
    """Raise RunFailed once the run's error budget is spent; the message names the first error."""
    failed = [(k, r) for k, r in fresh.items() if r.error is not None]
    n_failed = sum(copies[k] for k, _ in failed)
    if not failed or n_failed <= retry.max_error_rate * n_requests:
        return
    first = failed[0][1].error
    assert first is not None
    done = n_cached + sum(copies[k] for k, r in fresh.items() if r.error is None)
    if cached:
        tail = f"{done} finished answers are cached; re-run the same command to resume"
    else:
        tail = f"{done} answers finished, but cache.enabled=false: a re-run starts over"
    raise RunFailed(
        f"{n_failed} of {n_requests} requests failed after retries (more than "
        f"retry.max_error_rate={retry.max_error_rate:.1%}), e.g. {first.kind.value}: {first.message}; {tail}"
    )
