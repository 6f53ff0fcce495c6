"""A tracking server lost mid-run loses nothing: its MLflow writes wait on disk for `python -m harness.sync`.

The main test is the issue's: a real `mlflow server` process (SQLite store, proxied artifacts)
is SIGKILLed while a run generates (the fake Gemini server answers slowly), the run finishes with
results/ complete and a journal on disk, a sync with the server still down keeps it, the server
is restarted on the same store and port, `python -m harness.sync` replays the journal, and the
replayed run is compared with a healthy run of the same config on the same server. The other
tests pin the pieces on a local store: a replay that an earlier attempt got partway through
doubles nothing, which errors count as a lost server, and that no password reaches a journal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.config.load import compose_run
from harness.core.entry import run_entry
from harness.run.runner import evaluate
from harness.tracking import pending
from harness.tracking.genai import DatasetWrite
from harness.tracking.journal import MARKER, PENDING_DIR, Header, Journal, redact_uri, scrub, server_lost
from harness.tracking.prompts import PromptLink
from harness.tracking.recorder import Tracker
from harness.tracking.traces import TraceContext, TracesWrite
from harness.tracking.writes import Artifacts, End, Metrics, Params, Table, Tags
from tests.fakes import gemini_server
from tests.fakes.gemini_server import Faults
from tests.helpers import free_port, isolated, start_mlflow_server
from tests.reliability.support import API_KEY, Oracle, cache_rows, cli_env, gemini_args, make_dataset

N = 16  # examples of the killed run
PASSWORD = "pw-planted-5e6f7a8b9c"  # MLflow's basic-auth password: must reach no journal, file or message

# measurements that differ between two runs of the same config (wall clock, cache use)
VOLATILE = ("timing.", "cache.", "latency")


class Server:
    """A real `mlflow server` on a fixed port and store, which the test can kill and start again."""

    def __init__(self, tmp: Path) -> None:
        self.tmp, self.port = tmp, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = start_mlflow_server(self.tmp, self.port)

    def kill(self) -> None:
        """SIGKILL the server and its workers (its own process group)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.kill()


def _args(tmp: Path, fake_url: str, data: Path, uri: str, cli: bool = True) -> list[str]:
    # the reliability suite's isolated settings, with this server as the store and the table on
    replaced = ("tracking.uri=", "tracking.log_table=", "model.concurrency=", "chunk_size=")
    args = [a for a in gemini_args(tmp, fake_url, data, cli=cli) if not a.startswith(replaced)]
    return [*args, f"tracking.uri={uri}", "model.concurrency=2", "chunk_size=4"]


def _sync(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.sync", f"results_dir={tmp / 'results'}", *args],
                          cwd=tmp, env=cli_env(), capture_output=True, text=True, timeout=300, check=False)


def _snapshot(client: Any, run_id: str) -> dict[str, Any]:
    """What a user compares between two runs: metrics, params, artifacts, dataset, prompt, traces."""
    run = client.get_run(run_id)
    traces = client.search_traces(locations=[run.info.experiment_id], run_id=run_id, max_results=500)
    per_sample = {
        t.info.tags["harness.sample_id"]: (
            sorted((a.name, json.dumps(a.value)) for a in t.info.assessments),
            [s.name for s in t.data.spans],
            t.data.spans[0].outputs,
        )
        for t in traces
    }
    return {
        "metrics": {k: v for k, v in run.data.metrics.items() if not k.startswith(VOLATILE)},
        "history": {k: len(client.get_metric_history(run_id, k)) for k in ("accuracy", "n_examples")},
        "params": run.data.params,
        "artifacts": sorted(a.path for a in client.list_artifacts(run_id)),
        "datasets": sorted((d.dataset.name, d.dataset.digest) for d in run.inputs.dataset_inputs),
        "tags": {k: run.data.tags.get(k) for k in ("harness.status", "harness.traces", "harness.prompt",
                                                   "mlflow.linkedPrompts", "harness.missing")},
        "n_traces": len(traces),
        "traces": per_sample,
        "table_rows": _table_rows(client, run_id),
    }


def _table_rows(client: Any, run_id: str) -> int:
    """Rows of the run's per-example table (`MlflowClient.load_table` searches the process-global store)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(run_id, "eval_results.json", tmp)
        return len(json.loads(Path(path).read_text())["data"])


@pytest.mark.slow
def test_server_killed_mid_run_loses_nothing(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, answers = make_dataset(tmp_path, N, seed=5)
    fake = Oracle(answers=answers)
    fake.set_faults(Faults(latency_s=0.4))  # 16 answers, 2 at a time: ~3 s of generation to kill the server in
    _, gemini = gemini_server.start(fake)
    try:
        _killed_synced_and_compared(server, tmp_path, monkeypatch, fake.url, data)
    finally:
        gemini_server.stop(gemini)


def _killed_synced_and_compared(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_url: str,
                                data: Path) -> None:
    from mlflow.tracking import MlflowClient

    uri = server.url
    # MLflow's client retries a refused connection for minutes by default; the journal is what is tested here
    env = cli_env(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0", MLFLOW_TRACKING_USERNAME="harness",
                  MLFLOW_TRACKING_PASSWORD=PASSWORD)
    proc = subprocess.Popen([sys.executable, "-m", "harness", *_args(tmp_path, fake_url, data, uri)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while cache_rows(tmp_path / "cache.sqlite") == 0:  # answers arrive: the MLflow run was created before
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.05)
    server.kill()
    assert cache_rows(tmp_path / "cache.sqlite") < N, "generation ended before the server was killed"
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]

    # the evaluation is whole; the console said once what happened and how to replay
    folder = next((tmp_path / "results" / "classification").glob("*/*"))
    assert not (folder / "INCOMPLETE").exists()
    assert len((folder / "predictions.jsonl").read_text().splitlines()) == N
    lost = [ln for ln in err.splitlines() if "lost the MLflow tracking server" in ln]
    assert len(lost) == 1 and "python -m harness.sync" in lost[0], err[-3000:]
    assert (folder / MARKER).is_file()
    journal_dir = next((tmp_path / "results" / PENDING_DIR).iterdir())
    header, entries = Journal(journal_dir).read()
    run_id = header.run_id
    assert [e["kind"] for e in entries][-1] == "end" and "artifacts" in [e["kind"] for e in entries]
    # no secret in any file the run or the server wrote, the journal included, nor on the console
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        for secret in (API_KEY, PASSWORD):
            assert secret.encode() not in path.read_bytes(), (secret, path)
    assert PASSWORD not in out + err and API_KEY not in out + err

    # server still down: one line, exit 2, the journal kept
    down = _sync(tmp_path, f"tracking.uri={uri}")
    assert down.returncode == 2, down.stderr[-2000:]
    assert down.stderr.count("\n") == 1 and down.stderr.startswith("harness.sync: error: "), down.stderr
    assert "does not answer" in down.stderr
    assert journal_dir.is_dir()

    # back on the same store: the replay
    server.start()
    client = MlflowClient(tracking_uri=server.url)
    assert client.get_run(run_id).info.status == "RUNNING"
    done = _sync(tmp_path, f"tracking.uri={uri}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"replayed run {run_id}" in done.stdout and "status FINISHED" in done.stdout, done.stdout
    assert not journal_dir.exists() and not (folder / MARKER).exists()
    again = _sync(tmp_path, f"tracking.uri={uri}")
    assert again.returncode == 0 and "nothing to replay" in again.stdout, again.stdout + again.stderr

    # a healthy run of the same config (answers from the cache), on the same server
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    healthy = evaluate(compose_run(_args(tmp_path, fake_url, data, server.url, cli=False)), quiet=True)
    replayed, reference = _snapshot(client, run_id), _snapshot(client, str(healthy.mlflow_run_id))
    assert replayed == reference
    assert replayed["n_traces"] == N and replayed["table_rows"] == N and replayed["tags"]["harness.missing"] is None
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.tags["harness.tracking"] == "replayed"
    assert run.data.tags["harness.tracking_lost_at"] == header.lost_at


# ------------------------------------------------------------------ on a local store


def _store(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'mlflow.db'}"


def _replay_rows(tmp: Path) -> Path:
    """Right answers for every classification test row (task.limit picks its own subset)."""
    rows = [json.loads(x) for x in (Path(__file__).parents[2] / "tasks/classification/test.jsonl").read_text()
            .splitlines()]
    path = tmp / "outputs.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "output": r["label"]}) + "\n" for r in rows))
    return path


def test_a_replay_after_a_partial_write_doubles_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The writes of a healthy run journalled for a second run; the store already holds part of them
    (the table, half the traces, the metrics) and a replay was cut off after the params: the replay
    ends with the same records as the healthy run, none twice. The replay is the next run's, at its start."""
    from mlflow.tracking import MlflowClient

    n = 6
    cfg = compose_run([*isolated(tmp_path), "task=classification", f"task.limit={n}", "model=replay",
                       f"model.path={_replay_rows(tmp_path)}"])
    healthy = evaluate(cfg, quiet=True)
    client = MlflowClient(tracking_uri=_store(tmp_path))
    ref = client.get_run(str(healthy.mlflow_run_id))

    tracker = Tracker(cfg.tracking)
    run_id = tracker.start("journalled", {}, {"harness.task": "classification"})
    assert tracker.experiment_id
    out = Path(healthy.output_dir)
    rows = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    ctx = TraceContext(run_id, tracker.experiment_id, "classification", "replay", "replay", "accuracy", "x",
                       time.time_ns(), 1000)
    traces = TracesWrite.of(healthy.examples, ctx)
    writes: list[Any] = [
        Params.of(ref.data.params), Metrics.of(ref.data.metrics), Tags.of({"harness.status": "complete"}),
        Artifacts((out / "predictions.jsonl", out / "metrics.json")),
        Table(tuple({k: v if not isinstance(v, (list, dict)) else json.dumps(v) for k, v in r.items()} for r in rows),
              "eval_results.json"),
        DatasetWrite.of(cfg.task, healthy.dataset_fingerprint, n), PromptLink.of(cfg.task), traces, End("FINISHED"),
    ]
    journal = Journal.create(tmp_path / "results" / PENDING_DIR / run_id,
                             Header(run_id, tracker.experiment_id, _store(tmp_path), "2026-01-01T00:00:00Z", "x", 1))
    for w in writes:
        journal.append(w)
    assert journal._lock is not None
    journal._lock.close()  # as when the run's process exits
    # what reached the store before it went away: metrics, the table, half the traces (infos only)
    writes[1].apply(client, run_id, False)
    writes[4].apply(client, run_id, False)
    TracesWrite(traces.experiment_id, traces.traces[: n // 2]).apply(client, run_id, False)
    writes[0].apply(client, run_id, True)
    journal.set_progress(1)  # an earlier replay applied the params, then was cut off

    # the next run on the same store replays it before it starts (what `python -m harness.sync` does too)
    evaluate(cfg, quiet=False)
    assert f"replayed the pending MLflow writes of run {run_id} ({len(writes) - 1} writes)" in capsys.readouterr().out
    assert not journal.folder.exists()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.tags["harness.tracking"] == "replayed"
    assert run.data.metrics == ref.data.metrics and run.data.params == ref.data.params
    assert [len(client.get_metric_history(run_id, k)) for k in run.data.metrics] == [1] * len(run.data.metrics)
    assert _table_rows(client, run_id) == n
    stored = client.search_traces(locations=[tracker.experiment_id], run_id=run_id, max_results=100)
    assert sorted(t.info.trace_id for t in stored) == sorted(traces.trace_ids())
    assert all(len(t.data.spans) == 3 and len(t.info.assessments) == 3 for t in stored)  # accuracy, invalid, ref
    assert [d.dataset.digest for d in run.inputs.dataset_inputs] == [healthy.dataset_fingerprint]
    assert run.data.tags["harness.prompt"] == ref.data.tags["harness.prompt"]  # unchanged template: same version
    assert sorted(a.path for a in client.list_artifacts(run_id)) == [
        "eval_results.json", "metrics.json", "predictions.jsonl"]
    # nothing left: a second sync has nothing to do
    assert pending.sync(tmp_path / "results") == ([], [])


class _Refusing(BaseHTTPRequestHandler):
    """A tracking server that is up (/health answers) but refuses every API call with a 400."""

    def do_GET(self) -> None:
        if self.path.endswith("/health"):
            self._send(200, b"OK")
        else:
            self._send(400, json.dumps({"error_code": "INVALID_PARAMETER_VALUE", "message": "no"}).encode())

    def _send(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_lost_server_is_told_apart_from_a_refused_write(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(Exception) as refused_connection:
        MlflowClient(tracking_uri=dead).get_run("0" * 32)
    assert server_lost(dead, refused_connection.value)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        up = f"http://127.0.0.1:{httpd.server_address[1]}"
        with pytest.raises(Exception) as bad_request:
            MlflowClient(tracking_uri=up).get_run("0" * 32)
        assert not server_lost(up, bad_request.value)  # a wrong write is an error, not an outage
    finally:
        httpd.shutdown()
    # a local store is never 'lost': its errors stay errors
    assert not server_lost("sqlite:///x.db", ConnectionError("x"))


def test_no_password_in_a_journal_uri_or_message() -> None:
    uri = f"https://me:{PASSWORD}@mlflow.example.com:8443/prefix"
    assert redact_uri(uri) == "https://me:***@mlflow.example.com:8443/prefix"
    assert redact_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
    message = f"API request to {uri}/api/2.0/mlflow/runs/get failed"
    assert scrub(message, uri) == (
        "API request to https://me:***@mlflow.example.com:8443/prefix/api/2.0/mlflow/runs/get failed")


def test_sync_with_nothing_pending_and_a_bad_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.sync import USAGE, _body

    assert run_entry("harness.sync", USAGE, _body, [f"results_dir={tmp_path}"]) == 0
    assert f"nothing to replay in {tmp_path}" in capsys.readouterr().out
    assert run_entry("harness.sync", USAGE, _body, ["results_dir=[1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("harness.sync: error: ") and err.count("\n") == 1


def test_a_server_down_at_the_start_stops_the_run_before_any_model_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.core.errors import ConfigError

    # MLflow's own default retries (7, ~4 minutes on a refused connection) stay on: the tracker's
    # probe of /health must answer first (without it this test would not finish in pytest's timeout)
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    dead = f"http://me:s3cret@127.0.0.1:{free_port()}"
    cfg = compose_run([*isolated(tmp_path), "task=classification", "task.limit=2", "model=replay",
                       f"model.path={_replay_rows(tmp_path)}", f"tracking.uri={dead}"])
    with pytest.raises(ConfigError, match=r"tracking\.uri=.*me:\*\*\*@.*does not answer") as err:
        evaluate(cfg, quiet=True)
    assert "s3cret" not in str(err.value)
    assert cache_rows(tmp_path / "cache.sqlite") == 0  # nothing generated
    assert not (tmp_path / "results" / "classification").exists() and not (tmp_path / "results" / PENDING_DIR).exists()


def test_a_journalled_sweep_end_counts_the_children_when_replayed(tmp_path: Path) -> None:
    """A sweep's parent journals its end (`SweepEnd`) when the server is lost at the sweep's close; replayed
    after its children, it counts them then: all finished -> FINISHED; a journal cut off without an end -> KILLED."""
    from mlflow.tracking import MlflowClient

    from harness.tracking.writes import SweepEnd

    cfg = compose_run([*isolated(tmp_path), "task=classification"])
    client = MlflowClient(tracking_uri=_store(tmp_path))
    ends: dict[str, Any] = {"all done": SweepEnd, "killed": None}
    for name, end in ends.items():
        tracker = Tracker(cfg.tracking)
        parent = tracker.start(f"sweep {name}", {}, {"harness.kind": "sweep"})
        assert tracker.experiment_id
        for _ in range(2):
            child = client.create_run(tracker.experiment_id, tags={"mlflow.parentRunId": parent})
            client.set_terminated(child.info.run_id, "FINISHED")
        journal = Journal.create(tmp_path / "results" / PENDING_DIR / parent,
                                 Header(parent, tracker.experiment_id, _store(tmp_path), "t", "x", 1))
        journal.append(Tags.of({"harness.sweep_cells": "2"}))
        if end is not None:
            journal.append(end(tracker.experiment_id, 2))
        assert journal._lock is not None
        journal._lock.close()
        done, _ = pending.sync(tmp_path / "results")
        run = client.get_run(parent)
        assert [r.status for r in done] == [run.info.status] == (["FINISHED"] if end else ["KILLED"])
        assert run.data.tags["harness.tracking"] == "replayed" and run.data.tags["harness.sweep_cells"] == "2"
        if end:
            assert run.data.tags["harness.sweep_finished"] == "2" and "harness.failure" not in run.data.tags
        else:
            assert run.data.tags["harness.status"] == "killed" and "ended before its run did" in run.data.tags[
                "harness.failure"]
