"""Records a run in MLflow: params, metrics with CIs, tags, artifacts, per-example table.

Uses `MlflowClient` with explicit run ids rather than the fluent API's
process-global active run, so concurrent cells in one process cannot log
into each other's runs. A run is created RUNNING before any model work and
is marked FINISHED only after everything is logged; any failure marks it
FAILED, and a process killed outright leaves it RUNNING, never FINISHED.

Each run records which process owns it (tags `harness.pid`, `harness.pid_start`
and `harness.host`: hostname, boot id and PID namespace). When a cell starts,
its earlier runs still RUNNING whose owner is provably gone from this host
are marked KILLED (tag `harness.status=killed`), so a SIGKILLed attempt does
not look like a run in progress forever. Runs of other hosts are left alone.

Given a `pending_dir` (the run loop passes `<results_dir>/.mlflow-pending`),
a tracking server lost mid-run does not fail the run: from the first write
it did not take, the run's writes go to a journal on disk (journal.py), one
console line says so and how to replay them (`python -m harness.sync`).
The healthy path makes the same calls as without one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.config.schema import TrackingConfig
from harness.core.errors import ConfigError
from harness.core.paths import ROOT
from harness.core.testpoint import pause
from harness.tracking.journal import Header, Journal, Write, reachable, redact_uri, scrub, server_lost, utc_now
from harness.tracking.writes import Artifacts, End, Metrics, Params, Table, Tags

log = logging.getLogger(__name__)

TAG = "harness."
_PARAM_LIMIT = 6000  # MLflow's maximum length of a param value


def tracking_uri(cfg: TrackingConfig) -> str:
    """tracking.uri, else $MLFLOW_TRACKING_URI, else MLflow's own default (sqlite:///mlflow.db)."""
    if cfg.uri:
        return cfg.uri
    import mlflow

    return str(mlflow.get_tracking_uri())


def artifact_location(uri: str) -> str | None:
    """Artifacts of a SQLite store live beside the database file, not in the cwd.

    MLflow's default puts them in ./mlruns of whatever directory the process
    runs in, which scatters one store's artifacts over many folders.
    """
    if not uri.startswith("sqlite:///"):
        return None  # a tracking server decides (--artifacts-destination)
    db = Path(uri[len("sqlite:///") :]).resolve()
    return (db.parent / "mlartifacts").as_uri()


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5, check=False
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def flatten(obj: Any, prefix: str = "") -> dict[str, str]:
    """Nested config -> {'task.data.path': '...'} with string values."""
    flat: dict[str, str] = {}
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            flat.update(flatten(value, f"{prefix}{key}."))
    else:
        flat[prefix.rstrip(".")] = str(obj)[:_PARAM_LIMIT]
    return flat


class Tracker:
    """One MLflow run for one (task, model) cell."""

    def __init__(self, cfg: TrackingConfig, pending_dir: Path | None = None) -> None:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        self.uri = tracking_uri(cfg)
        self._cfg = cfg
        # one probe before MLflow's client, whose retries make a refused connection take ~4 minutes to fail
        if not reachable(self.uri):
            raise ConfigError(
                f"tracking.uri={redact_uri(self.uri)!r}: the tracking server does not answer "
                "(connection refused or timed out); start it, or fix tracking.uri"
            )
        try:
            with store_lock(self.uri):
                # the Prompt Registry lives in the same store (else MLflow picks the process default)
                self._client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
                self._client.search_experiments(max_results=1)  # creates or migrates a SQLite store's tables
        except MlflowException as exc:
            raise ConfigError(
                f"tracking.uri={redact_uri(self.uri)!r} is not a store MLflow can use: "
                f"{scrub(first_line(exc), self.uri)}"
            ) from None
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        self._pending_dir = pending_dir  # None: a lost server fails the run, as before
        self._journal: Journal | None = None
        self._results: Path | None = None

    @property
    def client(self) -> Any:
        """The run's `MlflowClient` (on this run's store, never the process-global one)."""
        return self._client

    def experiment_id_or_create(self) -> str:
        """The id of tracking.experiment, created (with artifacts beside a SQLite store) if absent."""
        return self._experiment_id()

    def _experiment_id(self) -> str:
        from mlflow.exceptions import MlflowException

        exp = self._client.get_experiment_by_name(self._cfg.experiment)
        if exp is not None:
            return str(exp.experiment_id)
        try:
            return str(
                self._client.create_experiment(self._cfg.experiment, artifact_location=artifact_location(self.uri))
            )
        except MlflowException:  # another process created it first
            exp = self._client.get_experiment_by_name(self._cfg.experiment)
            assert exp is not None
            return str(exp.experiment_id)

    def start(self, run_name: str, params: Mapping[str, str], tags: Mapping[str, str]) -> str:
        from mlflow.exceptions import MlflowException

        try:
            exp_id = self._experiment_id()
        except (MlflowException, OSError) as exc:  # the store's first use: a wrong path or an unreachable server
            raise ConfigError(f"cannot open the MLflow store tracking.uri={self.uri!r}: {first_line(exc)}") from None
        reap_dead_runs(self._client, exp_id, tags)
        # a sweep's cells are children of its parent run (tracking.parent_run_id, set by the CLI)
        parent = {"mlflow.parentRunId": self._cfg.parent_run_id} if self._cfg.parent_run_id else {}
        # the owner's identity goes in with the run itself: a kill cannot leave a run without it
        run = self._client.create_run(exp_id, run_name=run_name, tags={**tags, **parent, **owner_tags()})
        self.run_id = str(run.info.run_id)
        self.experiment_id = exp_id
        pause("tracking.start")
        self.write(Params.of({k: scrub(v, self.uri) for k, v in params.items()}))  # tracking.uri: no password
        return self.run_id

    @property
    def journal(self) -> Journal | None:
        """The journal this run's writes go to since its tracking server was lost; None while it answers."""
        return self._journal

    def write(self, write: Write) -> dict[str, str]:
        """Apply one write to the run's store; returns the run tags it produced.

        With a `pending_dir`, a write a lost tracking server did not take, and
        every write after it, is journalled on disk instead (no more round
        trips to a dead server); then the return is {} and the write's tags
        are set by its replay.
        """
        assert self.run_id
        if self._journal is not None:
            self._journal.append(write)
            return {}
        try:
            return write.apply(self._client, self.run_id, False)
        except Exception as exc:
            if self._pending_dir is None or not server_lost(self.uri, exc):
                raise
            self._go_offline(exc)
            assert self._journal is not None
            self._journal.append(write)
            return {}

    def _go_offline(self, exc: Exception) -> None:
        assert self.run_id and self._pending_dir is not None
        folder = self._pending_dir / self.run_id
        error = scrub(first_line(exc), self.uri)
        header = Header(self.run_id, self.experiment_id or "", redact_uri(self.uri), utc_now(), error, os.getpid())
        self._journal = Journal.create(folder, header)
        if self._results is not None:
            self._journal.note_results(self._results, self.replay_hint())
        print(f"harness: warning: lost the MLflow tracking server {redact_uri(self.uri)} ({error}); "
              f"run {self.run_id} goes on and keeps its MLflow writes in {folder}; when the server is back: "
              f"{self.replay_hint()}", file=sys.stderr, flush=True)

    def replay_hint(self) -> str:
        """The command that replays this run's journal."""
        assert self._pending_dir is not None
        return f"python -m harness.sync results_dir={self._pending_dir.parent}"

    def attach_results(self, folder: Path) -> None:
        """The run's results folder: marked `MLFLOW_PENDING` if (or once) its writes wait on disk."""
        self._results = folder
        if self._journal is not None and self._pending_dir is not None:
            self._journal.note_results(folder, self.replay_hint())

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        self.write(Metrics.of(metrics))

    def log_tags(self, tags: Mapping[str, str]) -> None:
        self.write(Tags.of(tags))

    def log_artifacts(self, files: Sequence[Path]) -> None:
        self.write(Artifacts(tuple(files)))

    def log_table(self, rows: Sequence[Mapping[str, Any]], name: str = "eval_results.json") -> None:
        """The per-example table the MLflow UI's evaluation view compares across runs."""
        if not rows or not self._cfg.log_table:
            return
        self.write(Table(tuple({k: _cell(v) for k, v in row.items()} for row in rows), name))

    def finish(self) -> None:
        assert self.run_id
        pause("tracking.finish")
        self.write(End("FINISHED"))

    def fail(self, reason: str) -> None:
        if self.run_id is None:
            return
        try:
            self.write(End("FAILED", reason[:_PARAM_LIMIT]))
        except Exception:  # the store itself may be what failed; never mask the original error
            log.exception("could not mark MLflow run %s FAILED", self.run_id)


@contextlib.contextmanager
def store_lock(uri: str) -> Iterator[None]:
    """Serialize the first use of a SQLite store across processes.

    MLflow creates (or migrates) a SQLite store's tables on first use, and two
    processes doing so at once fail in alembic; two sweeps started together
    would. A lock file beside the database orders them; other stores pass.
    """
    if not uri.startswith("sqlite:///"):
        yield
        return
    db = Path(uri[len("sqlite:///") :])
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.parent / f".{db.name}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (at most 300 characters) for a one-line report."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def _cell(value: Any) -> Any:
    """MLflow tables want scalars; lists and dicts become JSON text."""
    if isinstance(value, (list, dict, tuple)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return value


# ------------------------------------------------------------ dead owners

CELL_TAGS = ("harness.task", "harness.model", "harness.variant")


def host_id() -> str:
    """This host as its processes see it: hostname, boot id, PID namespace (pids mean nothing elsewhere)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pidns = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        boot, pidns = "?", "?"
    return f"{socket.gethostname()}/{boot}/{pidns}"


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a reused pid apart), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return None if fields[0] in ("Z", "X") else fields[19]  # state; starttime is field 22


def owner_tags() -> dict[str, str]:
    pid = os.getpid()
    return {"harness.pid": str(pid), "harness.pid_start": process_start(pid) or "?", "harness.host": host_id()}


def owner_alive(tags: Mapping[str, str], here: str) -> bool:
    """False only when the run's owner is provably gone: same host, and its pid dead or reused."""
    if tags.get("harness.host") != here:
        return True  # another machine or container: cannot tell, so never touch it
    try:
        pid = int(tags.get("harness.pid", ""))
    except ValueError:
        return True
    start = process_start(pid)
    if start is None:
        return False
    return tags.get("harness.pid_start") in (start, "?", None)


def reap_dead_runs(client: Any, experiment_id: str, cell: Mapping[str, str]) -> list[str]:
    """Mark this cell's RUNNING runs whose owning process died KILLED; returns their ids."""
    here = host_id()
    reaped: list[str] = []
    try:
        runs = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000)
    except Exception:  # bookkeeping must never stop a run from starting
        log.exception("could not look for dead runs in experiment %s", experiment_id)
        return reaped
    for run in runs:
        tags = run.data.tags
        if any(tags.get(k) != cell.get(k) for k in CELL_TAGS) or owner_alive(tags, here):
            continue
        reason = (
            f"process {tags.get('harness.pid')} on this host ended without finishing the run "
            "(killed?); marked KILLED when the same cell started again"
        )
        try:
            client.set_tag(run.info.run_id, "harness.status", "killed")
            client.set_tag(run.info.run_id, "harness.failure", reason)
            client.set_terminated(run.info.run_id, "KILLED")
            reaped.append(str(run.info.run_id))
        except Exception:
            log.exception("could not mark dead MLflow run %s KILLED", run.info.run_id)
    if reaped:
        log.warning("marked %d dead run(s) of this cell KILLED: %s", len(reaped), ", ".join(reaped))
    return reaped
