"""A local HTTP server that speaks the Gemini REST protocol as google-genai sends it.

Routes (any API version prefix, `v1beta`, `v1beta1`, ...):

    POST models/{m}:generateContent                      Developer API, base model
    POST tunedModels/{t}:generateContent                 Developer API, tuned model
    POST projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent
    POST projects/{p}/locations/{l}/endpoints/{e}:generateContent   Vertex tuned endpoint
    POST ...:countTokens
    POST tunedModels / GET tunedModels/{t}                Developer API tuning
    POST projects/{p}/locations/{l}/tuningJobs / GET .../tuningJobs/{id}   Vertex tuning
    POST models/{m}:batchGenerateContent / GET batches/{id}   Batch API (inlined requests)
    POST [projects/{p}/locations/{l}/]cachedContents, GET / DELETE {name}   context caching

Replies are deterministic: `replies[prompt]` when scripted, else `echo: <prompt>`.
A request naming a `cachedContent` is answered as if the cache's text came
verbatim before the request's (the prompt the model would see); the cache
must exist and not be combined with a system instruction, as on the real
API. Token counts are word counts. Faults are drawn per generateContent call from a
seeded RNG at `Faults.rate`; every call is appended to `log`.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from tests.fakes.serving import JsonHandler, answer_fault, draw_fault, serve, spoiled, stop  # noqa: F401 - stop is API

FAULT_KINDS = ("429", "429_retry_after", "500", "503", "hang", "truncated", "malformed")
SAFETY_KINDS = ("safety_prompt", "safety_finish")  # normal replies, not retried
FATAL_KINDS = ("400_leaky",)


@dataclass
class Faults:
    """What goes wrong, how often. `kinds` are drawn uniformly when a fault fires."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ()
    seed: int = 0
    latency_s: float = 0.0  # added to every generateContent call
    hang_s: float = 3.0  # how long a "hang" stalls before answering
    retry_after_s: int = 2  # value of the Retry-After header for "429_retry_after"


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any


@dataclass
class FakeGemini:
    """State shared by the handler threads; tests read `log` and set `faults`."""

    replies: dict[str, str] = field(default_factory=dict)
    blocked_prompts: set[str] = field(default_factory=set)  # answered with promptFeedback SAFETY
    faults: Faults = field(default_factory=Faults)
    polls_until_done: int = 2  # GETs of a tuning/batch job before it succeeds
    log: list[LoggedRequest] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=random.Random)
    _jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    _polls: dict[str, int] = field(default_factory=dict)
    caches: dict[str, dict[str, Any]] = field(default_factory=dict)  # live cachedContents by name
    min_cache_tokens: int = 0  # creating a smaller cache is refused with 400, like the real minimum

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self._rng = random.Random(faults.seed)

    def draw_fault(self) -> str | None:
        return draw_fault(self.faults, self._rng, self._lock)

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.log.append(entry)

    def paths(self, method: str = "POST") -> list[str]:
        return [e.path for e in self.log if e.method == method]

    # ------------------------------------------------------------ answers

    def reply_text(self, prompt: str) -> str:
        return self.replies.get(prompt, f"echo: {prompt}")

    def generate(self, body: dict[str, Any], fault: str | None = None) -> dict[str, Any]:
        cached = _user_text(self.caches[body["cachedContent"]]) if body.get("cachedContent") else ""
        prompt = cached + _user_text(body)
        usage = {"promptTokenCount": len(prompt.split())}
        if prompt in self.blocked_prompts or fault == "safety_prompt":
            return {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": usage}
        if fault == "safety_finish":
            return {"candidates": [{"finishReason": "SAFETY", "index": 0}], "usageMetadata": usage}
        cfg = body.get("generationConfig", {})
        text = self.reply_text(prompt)
        if cfg.get("responseMimeType") == "application/json":
            text = json.dumps({"answer": text})
        words = text.split()
        max_tokens = cfg.get("maxOutputTokens")
        finish = "STOP"
        if max_tokens is not None and len(words) > max_tokens:
            text, finish = " ".join(words[:max_tokens]), "MAX_TOKENS"
        n = int(cfg.get("candidateCount", 1))
        cands = [
            {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish, "index": i}
            for i in range(n)
        ]
        usage |= {
            "candidatesTokenCount": n * len(text.split()),
            "totalTokenCount": usage["promptTokenCount"] + n * len(text.split()),
        }
        if cached:
            usage["cachedContentTokenCount"] = len(cached.split())
        return {"candidates": cands, "usageMetadata": usage, "modelVersion": "fake-001"}

    def create_cache(self, parent: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """(status, reply) for POST cachedContents: 400 below `min_cache_tokens`."""
        tokens = len(_user_text(body).split())
        if tokens < self.min_cache_tokens:
            msg = f"Cached content is too small. total_token_count={tokens}, min_total_token_count="
            msg += str(self.min_cache_tokens)
            return 400, {"error": {"code": 400, "message": msg, "status": "INVALID_ARGUMENT"}}
        with self._lock:
            name = f"{parent}/fake-cache-{len(self.caches) + 1}"
            self.caches[name] = body | {"name": name, "usageMetadata": {"totalTokenCount": tokens}}
        expire = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + float(body.get("ttl", "3600s")[:-1])))
        return 200, {k: v for k, v in self.caches[name].items() if k not in ("contents", "systemInstruction")} | {
            "expireTime": expire
        }

    def create_job(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        job: dict[str, Any]
        with self._lock:
            n = len(self._jobs) + 1
        if path.endswith(":batchGenerateContent"):
            name = f"batches/fake-batch-{n}"
            reqs = body["batch"]["inputConfig"]["requests"]["requests"]
            outs = [{"response": self.generate(r["request"]), "metadata": r.get("metadata", {})} for r in reqs]
            job = {"kind": "batch", "model": path.split(":")[0], "outputs": outs}
        elif path.endswith("/tuningJobs"):
            parent = path[: -len("/tuningJobs")]
            name = f"{parent}/tuningJobs/{n}"
            job = {"kind": "vertex_tuning", "parent": parent, "body": body}
        else:  # Developer API tunedModels
            name = f"tunedModels/fake-tuned-{n}"
            job = {"kind": "dev_tuning", "body": body}
        with self._lock:
            self._jobs[name] = job
            self._polls[name] = 0
        return self.job_view(name, created=True)

    def job_view(self, name: str, created: bool = False) -> dict[str, Any]:
        with self._lock:
            job = self._jobs[name]
            if not created:
                self._polls[name] += 1
            done = self._polls[name] >= self.polls_until_done
        if job["kind"] == "batch":
            meta: dict[str, Any] = {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
                "model": job["model"],
                "displayName": "fake",
                "state": "BATCH_STATE_SUCCEEDED" if done else "BATCH_STATE_RUNNING",
            }
            if done:
                meta["output"] = {"inlinedResponses": {"inlinedResponses": job["outputs"]}}
            return {"name": name, "metadata": meta, "done": done}
        if job["kind"] == "vertex_tuning":
            view: dict[str, Any] = {
                "name": name,
                "baseModel": job["body"].get("baseModel"),
                "state": "JOB_STATE_SUCCEEDED" if done else "JOB_STATE_RUNNING",
            }
            if done:
                eid = name.rsplit("/", 1)[1]
                view["tunedModel"] = {
                    "model": f"{job['parent']}/models/fake-{eid}",
                    "endpoint": f"{job['parent']}/endpoints/fake-endpoint-{eid}",
                }
            return view
        if created:
            return {"name": f"{name}/operations/op-1", "metadata": {"tunedModel": name}}
        return {"name": name, "baseModel": job["body"].get("baseModel"), "state": "ACTIVE" if done else "CREATING"}


def _user_text(body: Mapping[str, Any]) -> str:
    return " ".join(
        p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", []) if c.get("role") == "user"
    )


_STATUSES = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}  # google.rpc codes of the replies


class _Handler(JsonHandler):
    def _send(
        self, status: int, payload: Any, headers: Mapping[str, str] | None = None, raw: bytes | None = None
    ) -> None:
        self.send_json(status, raw if raw is not None else json.dumps(payload).encode(), headers)

    def _error(self, code: int, status: str, headers: Mapping[str, str] | None = None) -> None:
        self._send(code, {"error": {"code": code, "message": f"fake {status}", "status": status}}, headers)

    def _path(self) -> tuple[str, str]:
        """(full path as sent, path without the API version) for logging and routing."""
        full = self.path.split("?", 1)[0].lstrip("/")
        return full, re.sub(r"^v\d+(alpha|beta)?\d*/", "", full)

    def do_GET(self) -> None:
        state = self.server.state
        full, path = self._path()
        state.record(LoggedRequest("GET", full, {k.lower(): v for k, v in self.headers.items()}, None))
        if path in state._jobs:
            self._send(200, state.job_view(path))
        elif path in state.caches:
            self._send(200, {k: v for k, v in state.caches[path].items() if k != "contents"})
        else:
            self._error(404, "NOT_FOUND")

    def do_DELETE(self) -> None:
        state = self.server.state
        full, path = self._path()
        state.record(LoggedRequest("DELETE", full, {k.lower(): v for k, v in self.headers.items()}, None))
        with state._lock:
            found = state.caches.pop(path, None)
        self._send(200, {}) if found else self._error(404, "NOT_FOUND")

    def do_POST(self) -> None:
        state = self.server.state
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.loads(raw or b"{}")
        full, path = self._path()
        state.record(LoggedRequest("POST", full, {k.lower(): v for k, v in self.headers.items()}, body))
        if path.endswith(":generateContent"):
            self._generate(body, self.headers.get("x-goog-api-key", ""))
        elif path.endswith(":countTokens"):
            words = sum(len(p.get("text", "").split()) for c in body.get("contents", []) for p in c.get("parts", []))
            self._send(200, {"totalTokens": words})
        elif path.endswith("cachedContents"):
            self._send(*state.create_cache(path, body))
        elif path.endswith(":batchGenerateContent") or path.endswith("/tuningJobs") or path == "tunedModels":
            self._send(200, state.create_job(path, body))
        else:
            self._error(404, "NOT_FOUND")

    def _generate(self, body: dict[str, Any], key: str) -> None:
        state = self.server.state
        faults = state.faults
        name = body.get("cachedContent")
        if name and name not in state.caches:
            return self._error(403, "PERMISSION_DENIED")  # what the API says for an unknown or expired cache
        if name and body.get("systemInstruction"):
            return self._send(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": (
                "CachedContent can not be used with GenerateContent request setting system_instruction")}})
        if faults.latency_s:
            time.sleep(faults.latency_s)
        fault = state.draw_fault()
        if fault == "400_leaky":  # a careless proxy that echoes the caller's key back
            return self._send(
                400, {"error": {"code": 400, "message": f"API key {key} not valid", "status": "INVALID_ARGUMENT"}}
            )
        if answer_fault(fault, faults, lambda code, headers: self._error(code, _STATUSES[code], headers)):
            return None
        self._send(200, None, raw=spoiled(json.dumps(state.generate(body, fault)).encode(), fault))


def start(state: FakeGemini | None = None) -> tuple[FakeGemini, ThreadingHTTPServer]:
    """Serve `state` on 127.0.0.1 at a free port in a daemon thread."""
    state = state or FakeGemini()
    server = serve(_Handler, state)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    return state, server
