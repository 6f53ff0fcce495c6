"""Content-addressed response cache in SQLite.

The key hashes the backend identity (model, revision, adapter hash), the
decoding parameters and the full prompt, so any change that could change an
answer misses the cache. Each finished chunk is committed at once (WAL
journal): a run killed with SIGKILL loses at most the chunk in flight, and
the same command resumes from there. Several processes may share one file;
SQLite's locking serializes their writes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from harness.backends.base import BackendIdentity
from harness.core.errors import UserError
from harness.core.records import Request, Response
from harness.core.testpoint import pause

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL DEFAULT (julianday('now'))
)
"""


def cache_key(identity: BackendIdentity, request: Request, per_sample: bool = False) -> str:
    payload: dict[str, object] = {"backend": identity.cache_payload(), "request": request.cache_payload()}
    if per_sample:
        payload["sample_id"] = request.sample_id
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


_BUSY_TIMEOUT_S = 60.0


def _retry_while_busy(step: Callable[[], None]) -> None:
    """Run `step`, retrying while another process holds the file.

    Parallel sweep cells open one fresh cache at the same moment. Switching
    to WAL and a stale read snapshot make SQLite answer "database is locked"
    at once, without waiting out the busy timeout, so the wait is here.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    delay = 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


class ResponseCache:
    """Get and put responses by key. Only successful responses are stored."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
            _retry_while_busy(self._prepare)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise UserError(
                f"response cache {path} is unreadable or corrupt ({exc}); "
                "delete it, or set cache.path=<other file> or cache.enabled=false"
            ) from None

    def _prepare(self) -> None:
        if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")  # a write lock up front: the busy timeout applies
            self._db.execute(_SCHEMA)
        self._db.execute("SELECT count(*) FROM responses LIMIT 1").fetchone()

    def get_many(self, keys: Sequence[str]) -> dict[str, Response]:
        found: dict[str, Response] = {}
        for start in range(0, len(keys), 500):  # SQLite caps bound parameters
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            try:
                rows = self._db.execute(f"SELECT key, response FROM responses WHERE key IN ({marks})", chunk)
                for key, text in rows:
                    found[key] = Response.from_json(text)
            except (sqlite3.DatabaseError, json.JSONDecodeError, KeyError, TypeError) as exc:
                raise UserError(
                    f"response cache {self.path} is corrupt ({exc}); delete it or set cache.enabled=false"
                ) from None
        return found

    def put_many(self, items: Iterable[tuple[str, str, Response]]) -> None:
        """Store (key, model label, response) triples in one transaction."""
        rows = [(key, model, resp.to_json()) for key, model, resp in items if resp.ok]
        if not rows:
            return
        try:
            with self._db:  # one transaction: all of a chunk or none of it
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR REPLACE INTO responses (key, model, response) VALUES (?, ?, ?)", rows
                )
                pause("cache.write")  # a kill here must leave none of these rows behind
        except sqlite3.DatabaseError as exc:
            raise UserError(
                f"response cache {self.path} cannot be written ({exc}); "
                "delete it, or set cache.path=<other file> or cache.enabled=false"
            ) from None

    def close(self) -> None:
        self._db.close()
