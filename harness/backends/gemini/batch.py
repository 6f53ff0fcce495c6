"""The Gemini Batch API: half the price, answers within hours instead of seconds.

`run_batch` sends a whole list of requests as one batch job with inlined
requests (Developer API), polls it with an injectable `sleep`, and maps the
inlined responses back to `Response`s in request order, using the same
mapping as the online backend. A request the job failed carries a
`BackendError`; a job that ends badly fails every request with one error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from harness.backends.gemini.client import generation_config, make_client, to_response
from harness.config.schema import GeminiModelConfig
from harness.core.records import BackendError, ErrorKind, Request, Response

log = logging.getLogger(__name__)

DONE_STATES = frozenset(
    {
        "JOB_STATE_SUCCEEDED",
        "JOB_STATE_FAILED",
        "JOB_STATE_CANCELLED",
        "JOB_STATE_EXPIRED",
        "JOB_STATE_PARTIALLY_SUCCEEDED",
    }
)


def inlined_requests(requests: Sequence[Request]) -> list[Any]:
    """Requests -> types.InlinedRequest, keyed by position so answers can be matched back."""
    from google.genai import types

    return [
        types.InlinedRequest(contents=r.prompt, config=generation_config(r), metadata={"key": str(i)})
        for i, r in enumerate(requests)
    ]


def run_batch(
    cfg: GeminiModelConfig,
    requests: Sequence[Request],
    *,
    client: Any = None,
    display_name: str = "harness-batch",
    poll_s: float = 30.0,
    timeout_s: float = 48 * 3600.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[Response]:
    """Run `requests` as one Batch API job and return one Response per request, in order."""
    client = client or make_client(cfg)
    job = client.batches.create(
        model=cfg.model_id, src=inlined_requests(requests), config={"display_name": display_name}
    )
    log.info("batch job %s created with %d requests", job.name, len(requests))
    start = clock()
    while _state(job) not in DONE_STATES:
        if clock() - start > timeout_s:
            return _fail_all(
                len(requests), ErrorKind.TRANSIENT, f"batch job {job.name} not done after {timeout_s:.0f}s"
            )
        sleep(poll_s)
        job = client.batches.get(name=job.name)
    state = _state(job)
    inlined = (job.dest.inlined_responses or []) if job.dest else []
    if state not in ("JOB_STATE_SUCCEEDED", "JOB_STATE_PARTIALLY_SUCCEEDED") or not inlined:
        return _fail_all(len(requests), ErrorKind.FATAL, f"batch job {job.name} ended {state}: {job.error}")
    out: list[Response] = _fail_all(len(requests), ErrorKind.TRANSIENT, "no answer in batch output")
    for pos, item in enumerate(inlined):
        key = (item.metadata or {}).get("key")
        i = int(key) if key is not None else pos
        if item.error is not None:
            out[i] = Response(error=BackendError(ErrorKind.TRANSIENT, f"batch item failed: {item.error}"[:400]))
        elif item.response is not None:
            out[i] = to_response(item.response, 0.0)
    return out


def _state(job: Any) -> str:
    state = job.state
    return str(getattr(state, "value", state))


def _fail_all(n: int, kind: ErrorKind, message: str) -> list[Response]:
    return [Response(error=BackendError(kind, message)) for _ in range(n)]
