"""MLflow writes kept on disk while the tracking server is down, in the order they were made.

A run whose tracking server stops answering mid-run (tracking.uri=http://...)
does not stop: from its first write the server did not take, every write of
the run (params, metrics, tags, artifacts, the table, dataset input, prompt
link, traces, the end status) goes to a journal instead of the network:

    <results_dir>/.mlflow-pending/<run id>/
        journal.jsonl   a header line, then one line per write, appended and fsynced
        files/          copies of the artifacts the writes upload
        progress        how many writes a replay has applied (a killed replay resumes there)
        .lock           held by the run while it is alive; a replay waits for it to be free

and the run's results folder gets a `MLFLOW_PENDING` file saying so. `python
-m harness.sync` (harness/tracking/pending.py) replays journals when the
server is back. A write is a small record with `apply` (to a client) and
`encode`/`decode` (to a journal line); see harness/tracking/writes.py.

Nothing secret goes into a journal: a write holds what MLflow would have
stored, and the tracking URI's password, if it carries one, is blanked.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

PENDING_DIR = ".mlflow-pending"  # under results_dir
MARKER = "MLFLOW_PENDING"  # in a run's results folder while its MLflow writes wait on disk
VERSION = 1
_PROBE_TIMEOUT_S = 3.0


class Write(Protocol):
    """One MLflow write of a run: applied to a store now, or encoded into a journal for later."""

    @property
    def kind(self) -> str:
        """Its name in a journal line (`params`, `metrics`, ... `end`)."""
        ...

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        """Do the write; returns run tags it produced (e.g. a prompt's version). `replay`: on a sync,
        where a write an earlier attempt may have made in part is checked first, never made twice."""
        ...

    def encode(self, files: Path) -> dict[str, Any]:
        """JSON-able fields; files the write uploads are copied under `files`."""
        ...


@dataclass(frozen=True)
class Header:
    """The journal's first line: which run on which server, and when and why it was lost."""

    run_id: str
    experiment_id: str
    uri: str  # redacted: no password
    lost_at: str  # UTC, ISO 8601
    error: str  # the first failed write's error, one line
    pid: int


def redact_uri(uri: str) -> str:
    """The URI without a password in its user part (`http://me:***@host`)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def scrub(text: str, uri: str) -> str:
    """`text` (an error message quoting request URLs) without the URI's password."""
    password = urlsplit(uri).password
    return text.replace(f":{password}@", ":***@") if password else text


def is_server(uri: str) -> bool:
    """Only a tracking server can be 'down'; a local store's failure is an ordinary error."""
    return uri.startswith(("http://", "https://"))


def reachable(uri: str) -> bool:
    """True when the server answers HTTP at all (its /health; any status below 500 counts); a local store is."""
    import urllib.error
    import urllib.request

    if not is_server(uri):
        return True
    parts = urlsplit(uri)
    netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")  # no user:password@
    health = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + "/health", "", ""))
    try:
        with urllib.request.urlopen(health, timeout=_PROBE_TIMEOUT_S) as resp:
            return int(resp.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


_LOST = ("ConnectionError", "Timeout", "RetryError", "MaxRetryError", "ProtocolError", "ChunkedEncodingError",
         "NewConnectionError", "RemoteDisconnected", "ConnectionRefusedError", "ConnectionResetError")


def server_lost(uri: str, exc: BaseException) -> bool:
    """Did this write fail because the tracking server is gone (not because the write was wrong)?

    MLflow's client wraps a refused connection in a plain MlflowException (its
    cause chained only implicitly), so the chain is searched by type name; an
    error that names no network failure is checked by asking the server's
    /health once: only a failure costs that round trip.
    """
    if not is_server(uri):
        return False
    cur: BaseException | None = exc
    for _ in range(8):
        if cur is None:
            break
        if any(t.__name__ in _LOST for t in type(cur).__mro__) or "Max retries exceeded" in str(cur):
            return True
        cur = cur.__cause__ or cur.__context__
    return not reachable(uri)


class Journal:
    """An open journal folder: append writes, read them back, record replay progress."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = folder / "files"
        self._lock: IO[str] | None = None

    @property
    def path(self) -> Path:
        return self.folder / "journal.jsonl"

    @classmethod
    def create(cls, folder: Path, header: Header) -> Journal:
        """A new journal, locked by this process until it exits."""
        folder.mkdir(parents=True, exist_ok=True)
        journal = cls(folder)
        journal._lock = journal.try_lock()
        if journal._lock is None:
            raise RuntimeError(f"MLflow journal {folder} is in use by another process")
        journal._append({"kind": "header", "version": VERSION, **header.__dict__})
        return journal

    def append(self, write: Write) -> None:
        """One write, as one line, on disk before this returns."""
        self.files.mkdir(exist_ok=True)
        self._append({"kind": write.kind, **write.encode(self.files)})

    def note_results(self, folder: Path, replay_hint: str) -> None:
        """Mark the run's results folder: its MLflow writes wait in this journal."""
        (folder / MARKER).write_text(
            f"this run's MLflow writes did not reach the tracking server; they are kept in {self.folder}\n"
            f"replay them when the server is back: {replay_hint}\n",
            encoding="utf-8",
        )
        self._append({"kind": "results", "path": str(folder.resolve())})

    def _append(self, entry: Mapping[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def read(self) -> tuple[Header, list[dict[str, Any]]]:
        """The header and every complete entry after it (a line cut short by a kill is dropped)."""
        entries: list[dict[str, Any]] = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                break  # only the last line can be partial: appends are whole lines, fsynced
        if not entries or entries[0].get("kind") != "header":
            raise ValueError(f"{self.path} has no header line")
        head = entries[0]
        header = Header(**{k: head[k] for k in Header.__dataclass_fields__})
        return header, entries[1:]

    def progress(self) -> int:
        try:
            return int((self.folder / "progress").read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def set_progress(self, n: int) -> None:
        tmp = self.folder / ".progress.tmp"
        tmp.write_text(str(n), encoding="utf-8")
        os.replace(tmp, self.folder / "progress")

    def try_lock(self) -> IO[str] | None:
        """The folder's lock, or None while another process (the run itself, a replay) holds it."""
        fh = open(self.folder / ".lock", "a")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return None
        return fh


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
