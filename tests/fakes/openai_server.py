"""A local OpenAI-compatible server: POST {prefix}/chat/completions and {prefix}/completions, with faults.

Replies are `echo: <last user message>` (or scripted); token counts are word
counts. Faults (429 with/without Retry-After, 500, 503, hang, truncated,
malformed) are drawn per call from a seeded RNG, as in `gemini_server`.

`/v1/completions` speaks the legacy protocol vLLM serves: `prompt` a string
or a list, and with `echo` + `logprobs` every prompt token comes back with its
log-probability and character offset (the first token's is null, as on real
servers). Tokens and their log-probabilities come from `tokenize`: by default
whitespace-led words (" positive") scored from `token_logprobs` (a test's
numbers; -1.0 when unlisted); a test may plug in a real model's tokenizer and
log-probabilities instead.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from tests.fakes.gemini_server import Faults, LoggedRequest
from tests.fakes.serving import JsonHandler, answer_fault, draw_fault, serve, spoiled, stop  # noqa: F401 - stop is API

# text -> [(token text, character offset, log-probability given the tokens before; None for the first)]
Tokenize = Callable[[str], list[tuple[str, int, float | None]]]
GENERATED_LOGPROB = -0.5  # the one token generated after an echoed prompt (max_tokens=1)


@dataclass
class FakeOpenAI:
    replies: dict[str, str] = field(default_factory=dict)
    token_logprobs: dict[str, float] = field(default_factory=dict)  # word token (" positive") -> log-probability
    tokenize: Tokenize | None = None
    faults: Faults = field(default_factory=Faults)
    log: list[LoggedRequest] = field(default_factory=list)
    url: str = ""  # base URL including /v1
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=random.Random)

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self.faults, self._rng = faults, random.Random(faults.seed)

    def draw_fault(self) -> str | None:
        return draw_fault(self.faults, self._rng, self._lock)

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


    def words(self, text: str) -> list[tuple[str, int, float | None]]:
        """The default tokenizer: whitespace-led words scored from `token_logprobs`."""
        found = [(m.group(), m.start()) for m in re.finditer(r"\s*\S+|\s+$", text)]
        return [(tok, at, None if i == 0 else self.token_logprobs.get(tok, -1.0)) for i, (tok, at) in enumerate(found)]

    def text_complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v1/completions: generation, or echoed prompt log-probabilities."""
        prompts = body.get("prompt", "")
        prompts = [prompts] if isinstance(prompts, str) else list(prompts)
        n, limit, echo = int(body.get("n", 1)), body.get("max_tokens"), bool(body.get("echo"))
        tokenize = self.tokenize or self.words
        choices, prompt_tokens, completion_tokens = [], 0, 0
        for p_index, prompt in enumerate(prompts):
            tokens = tokenize(prompt)
            prompt_tokens += len(tokens)
            if echo:
                text, finish = " x" if limit else "", "length"
            else:
                text, finish = self.replies.get(prompt, f"echo: {prompt}"), "stop"
                words = text.split()
                if limit is not None and len(words) > limit:
                    text, finish = " ".join(words[:limit]), "length"
            for j in range(n):
                choice: dict[str, Any] = {"index": p_index * n + j, "text": (prompt if echo else "") + text,
                                          "finish_reason": finish, "logprobs": None}
                if echo and body.get("logprobs") is not None:
                    shown = tokens + ([(text, len(prompt), GENERATED_LOGPROB)] if text else [])
                    choice["logprobs"] = {
                        "tokens": [t for t, _, _ in shown],
                        "token_logprobs": [lp for _, _, lp in shown],
                        "top_logprobs": [None if lp is None else {t: lp} for t, _, lp in shown],
                        "text_offset": [at for _, at, _ in shown],
                    }
                choices.append(choice)
                completion_tokens += len(text.split())
        return {
            "id": "cmpl-fake",
            "object": "text_completion",
            "created": 0,
            "model": body.get("model", ""),
            "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }


_ERRORS = {429: "rate_limit_exceeded", 500: "server_error", 503: "server_error"}  # OpenAI's error types


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
        if path not in ("v1/chat/completions", "v1/completions"):
            return self._error(404, "not_found")
        f = state.faults
        if f.latency_s:
            time.sleep(f.latency_s)
        fault = state.draw_fault()
        if answer_fault(fault, f, lambda code, headers: self._error(code, _ERRORS[code], headers)):
            return None
        raw = json.dumps(state.complete(body) if path == "v1/chat/completions" else state.text_complete(body)).encode()
        self.send_json(200, spoiled(raw, fault))


def start(state: FakeOpenAI | None = None) -> tuple[FakeOpenAI, ThreadingHTTPServer]:
    state = state or FakeOpenAI()
    server = serve(_Handler, state)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    return state, server
