"""Replays the journals of runs whose tracking server was lost (`python -m harness.sync`).

Each journal under `<results_dir>/.mlflow-pending/` is replayed to the server
it was written for, write by write in the order the run made them, recording
progress after each, so a replay that is itself cut off resumes where it
stopped and applies no write twice (and a write that was half done when the
server went down is safe to apply again: harness/tracking/writes.py). Before
the run's end status the run gets the tags `harness.tracking=replayed` and
`harness.tracking_lost_at`; a journal without an end (its process was killed)
ends the run KILLED. When every write is in, the journal folder and the
results folder's `MLFLOW_PENDING` file are removed: a second sync finds
nothing to do.

A GenAI write (dataset, prompt, traces) the server refuses is reported and
named in `harness.missing`, as in a live run; a refused core write stops that
journal's replay (kept, exit 1). A server still unreachable stops the sync
with one line (exit 2, like an unreachable store at the start of a run).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError, RunFailed
from harness.tracking.genai import DatasetWrite
from harness.tracking.journal import MARKER, PENDING_DIR, Header, Journal, reachable, redact_uri, server_lost
from harness.tracking.prompts import PromptLink
from harness.tracking.recorder import first_line
from harness.tracking.traces import TracesWrite
from harness.tracking.writes import CORE, TERMINAL, End, Tags

_WRITES: tuple[Any, ...] = (*CORE, DatasetWrite, PromptLink, TracesWrite)
DECODERS: Mapping[str, Callable[[Mapping[str, Any], Path], Any]] = {cls.kind: cls.decode for cls in _WRITES}
BEST_EFFORT = frozenset({DatasetWrite.kind, PromptLink.kind, TracesWrite.kind})


class ServerDown(ConfigError):
    """The tracking server a journal is for does not answer (journal kept)."""


@dataclass(frozen=True)
class Replayed:
    """One journal replayed to its server."""

    run_id: str
    uri: str
    n_writes: int  # applied by this replay (an earlier, cut-off replay may have applied others)
    status: str  # the run's end status now
    missing: tuple[str, ...]  # GenAI pieces the server refused


@dataclass(frozen=True)
class Skipped:
    """A journal left alone, and why."""

    folder: Path
    reason: str


def journals(results_dir: Path) -> list[Path]:
    """Journal folders under results_dir, oldest first (no folder: none)."""
    base = results_dir / PENDING_DIR
    if not base.is_dir():
        return []
    found = [p for p in base.iterdir() if (p / "journal.jsonl").is_file()]
    return sorted(found, key=lambda p: (p / "journal.jsonl").stat().st_mtime)


def sync(results_dir: Path, uri: str | None = None) -> tuple[list[Replayed], list[Skipped]]:
    """Replay every journal under results_dir (only those for `uri` when given).

    Raises ServerDown, after replaying what it could, when a journal's server
    does not answer.
    """
    done: list[Replayed] = []
    skipped: list[Skipped] = []
    down: set[str] = set()
    for folder in journals(results_dir):
        try:
            header, _ = Journal(folder).read()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            skipped.append(Skipped(folder, f"unreadable journal: {first_line(exc)}"))
            continue
        if uri is not None and redact_uri(uri) != header.uri:
            skipped.append(Skipped(folder, f"for {header.uri}, not {redact_uri(uri)}"))
            continue
        target = uri if uri is not None else header.uri
        if "***@" in target:
            skipped.append(Skipped(folder, f"{header.uri} needs its password: give tracking.uri=..."))
            continue
        try:
            result = replay(folder, target)
        except ServerDown:
            down.add(header.uri)
            continue
        if isinstance(result, Skipped):
            skipped.append(result)
        else:
            done.append(result)
    if down:
        kept = len(journals(results_dir))
        raise ServerDown(f"the MLflow tracking server {', '.join(sorted(down))} does not answer; {kept} pending "
                         f"run(s) kept in {results_dir / PENDING_DIR}; run this again when it is back")
    return done, skipped


def replay(folder: Path, uri: str) -> Replayed | Skipped:
    """Apply one journal's remaining writes to `uri`; remove the journal when all are in."""
    journal = Journal(folder)
    lock = journal.try_lock()
    if lock is None:
        return Skipped(folder, "its run is still going (or another sync has it)")
    try:
        header, entries = journal.read()
        if not reachable(uri):
            raise ServerDown(f"{redact_uri(uri)} does not answer")
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        missing: list[str] = []
        writes = [e for e in entries if e["kind"] != "results"]
        results = [Path(e["path"]) for e in entries if e["kind"] == "results"]
        start = journal.progress()
        if not any(w["kind"] in TERMINAL for w in writes):  # its process died, server still down: no end
            writes.append({"kind": Tags.kind, "items": [["harness.status", "killed"]]})
            writes.append({"kind": End.kind, "status": "KILLED",
                           "reason": f"process {header.pid} ended before its run did; its journalled writes "
                                     "were replayed"})
        for i in range(start, len(writes)):
            entry = writes[i]
            write = DECODERS[entry["kind"]](entry, journal.files)
            if write.kind in TERMINAL:
                _before_end(client, header, getattr(write, "reason", None), missing)
            _apply(client, header, write, uri, missing)
            journal.set_progress(i + 1)
        for folder_of_results in results:
            (folder_of_results / MARKER).unlink(missing_ok=True)
        n = len(writes) - start
        status = str(client.get_run(header.run_id).info.status)
    finally:
        lock.close()
    shutil.rmtree(folder, ignore_errors=True)
    return Replayed(header.run_id, redact_uri(uri), n, status, tuple(missing))


def _apply(client: Any, header: Header, write: Any, uri: str, missing: list[str]) -> None:
    try:
        tags = write.apply(client, header.run_id, True)
    except Exception as exc:
        if server_lost(uri, exc):
            raise ServerDown(f"{redact_uri(uri)} was lost again during the replay: {first_line(exc)}") from None
        if write.kind not in BEST_EFFORT:
            raise RunFailed(f"MLflow refused the {write.kind} write of run {header.run_id}: {first_line(exc)}; "
                            "its journal is kept") from None
        missing.append(write.kind)
        print(f"harness.sync: warning: MLflow {write.kind} not recorded for run {header.run_id}: "
              f"{type(exc).__name__}: {first_line(exc)}; run tagged harness.missing", file=sys.stderr, flush=True)
        return
    if tags:
        Tags.of(tags).apply(client, header.run_id, True)


def _before_end(client: Any, header: Header, reason: str | None, missing: list[str]) -> None:
    """Say on the run that it was replayed; undo what the dead-run reaper said meanwhile."""
    tags = {"harness.tracking": "replayed", "harness.tracking_lost_at": header.lost_at,
            "harness.tracking_error": header.error}
    run = client.get_run(header.run_id)
    if missing:
        had = run.data.tags.get("harness.missing", "")
        tags["harness.missing"] = ",".join(sorted({*filter(None, had.split(",")), *missing}))
    # the next run of the cell may have marked this RUNNING run KILLED (its process had exited) with a
    # reason; a run whose journal ends without one had none
    if reason is None and "harness.failure" in run.data.tags:
        client.delete_tag(header.run_id, "harness.failure")
    Tags.of(tags).apply(client, header.run_id, True)


def replay_before_run(results_dir: Path, uri: str, quiet: bool) -> list[Replayed]:
    """At a run's start, replay earlier runs' journals for the same server (no journals: one stat).

    Best effort: a journal that cannot be replayed now is reported in one line and kept.
    """
    done: list[Replayed] = []
    for folder in journals(results_dir):
        try:
            if Journal(folder).read()[0].uri != redact_uri(uri):
                continue
            result = replay(folder, uri)
        except Exception as exc:  # bookkeeping of earlier runs never stops this one
            print(f"harness: warning: the pending MLflow writes in {folder} were not replayed: {first_line(exc)}; "
                  "python -m harness.sync retries", file=sys.stderr, flush=True)
            continue
        if isinstance(result, Replayed):
            done.append(result)
            if not quiet:
                print(f"harness: replayed the pending MLflow writes of run {result.run_id} ({result.n_writes} writes)")
    return done
