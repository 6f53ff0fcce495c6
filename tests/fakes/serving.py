"""What the fake API servers share: a quiet HTTP/1.1 JSON handler and a threaded server on a free port."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
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
