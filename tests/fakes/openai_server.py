"""A local OpenAI-compatible server: POST {prefix}/chat/completions, with the Gemini fake's faults.

Replies are `echo: <last user message>` (or scripted); token counts are word
counts. Faults (429 with/without Retry-After, 500, 503, hang, truncated,
malformed) are drawn per call from a seeded RNG, as in `gemini_server`.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from tests.fakes.gemini_server import Faults, LoggedRequest
from tests.fakes.serving import JsonHandler, serve, stop  # noqa: F401 - stop is part of this module's API


@dataclass
class FakeOpenAI:
    replies: dict[str, str] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    log: list[LoggedRequest] = field(default_factory=list)
    url: str = ""  # base URL including /v1
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=random.Random)

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self.faults, self._rng = faults, random.Random(faults.seed)

    def draw_fault(self) -> str | None:
        with self._lock:
            f = self.faults
            if f.rate <= 0 or not f.kinds or self._rng.random() >= f.rate:
                return None
            return self._rng.choice(f.kinds)

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        users = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
        prompt = users[-1] if users else ""
        text = self.replies.get(prompt, f"echo: {prompt}")
        if body.get("response_format", {}).get("type") == "json_schema":
            text = json.dumps({"answer": text})
        words, finish = text.split(), "stop"
        if body.get("max_tokens") is not None and len(words) > body["max_tokens"]:
            text, finish = " ".join(words[: body["max_tokens"]]), "length"
        n = int(body.get("n", 1))
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", ""),
            "choices": [
                {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
                for i in range(n)
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": n * len(text.split()),
                "total_tokens": prompt_tokens + n * len(text.split()),
            },
        }


class _Handler(JsonHandler):
    def _error(self, code: int, kind: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_json(
            code, json.dumps({"error": {"message": f"fake {kind}", "type": kind, "code": code}}).encode(), headers
        )

    def do_POST(self) -> None:
        state = self.server.state
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        path = self.path.lstrip("/")
        state.log.append(LoggedRequest("POST", path, {k.lower(): v for k, v in self.headers.items()}, body))
        if path != "v1/chat/completions":
            return self._error(404, "not_found")
        f = state.faults
        if f.latency_s:
            time.sleep(f.latency_s)
        fault = state.draw_fault()
        if fault == "429":
            return self._error(429, "rate_limit_exceeded")
        if fault == "429_retry_after":
            return self._error(429, "rate_limit_exceeded", {"Retry-After": str(f.retry_after_s)})
        if fault in ("500", "503"):
            return self._error(int(fault), "server_error")
        if fault == "hang":
            time.sleep(f.hang_s)
        raw = json.dumps(state.complete(body)).encode()
        if fault == "truncated":
            raw = raw[: len(raw) // 2]
        elif fault == "malformed":
            raw = b"<html>upstream proxy error</html>"
        self.send_json(200, raw)


def start(state: FakeOpenAI | None = None) -> tuple[FakeOpenAI, ThreadingHTTPServer]:
    state = state or FakeOpenAI()
    server = serve(_Handler, state)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    return state, server
