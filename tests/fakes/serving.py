"""What the fake API servers share: a quiet HTTP/1.1 JSON handler, a threaded server on a free port, faults.

The faults (gemini_server.Faults, FAULT_KINDS) play out the same way on every protocol: a
seeded draw per generation call (`draw_fault`), then either an error reply instead of the
answer (429, 429 with Retry-After, 500, 503: `answer_fault`), a stall before it (hang), or a
spoiled body (truncated, malformed: `spoiled`). Each server only names its error statuses.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """Keep-alive JSON replies; subclasses add do_GET / do_POST and read `self.server.state`."""

    server: FakeServer
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes; with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms per reply), a stall no real API front end has
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def send_json(self, status: int, raw: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client timed out and left
            self.wfile.write(raw)


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops connections under concurrency
    state: Any


def serve(handler: type[JsonHandler], state: Any) -> FakeServer:
    """Serve `state` with `handler` on 127.0.0.1 at a free port, in a daemon thread."""
    server = FakeServer(("127.0.0.1", 0), handler)
    server.state = state
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


def draw_fault(faults: Any, rng: random.Random, lock: threading.Lock) -> str | None:
    """A fault kind for this call, or None: fires at `faults.rate`, kinds drawn uniformly, seeded."""
    with lock:
        if faults.rate <= 0 or not faults.kinds or rng.random() >= faults.rate:
            return None
        return rng.choice(faults.kinds)


def answer_fault(fault: str | None, faults: Any, error: Callable[[int, Mapping[str, str] | None], None]) -> bool:
    """Reply to an error fault through `error(status, headers)` (True: nothing else is sent); a hang stalls here."""
    if fault in ("429", "429_retry_after"):
        error(429, {"Retry-After": str(faults.retry_after_s)} if fault == "429_retry_after" else None)
        return True
    if fault in ("500", "503"):
        error(int(fault), None)
        return True
    if fault == "hang":
        time.sleep(faults.hang_s)
    return False


def spoiled(raw: bytes, fault: str | None) -> bytes:
    """The reply body as a broken front end would send it: cut in half, or not JSON at all."""
    if fault == "truncated":
        return raw[: len(raw) // 2]
    if fault == "malformed":
        return b"<html>upstream proxy error</html>"
    return raw
