"""A real `mlflow server` (SQLite backend store, proxied artifact store) as the shared tracking server.

The server runs as its own process on 127.0.0.1 and a free port; an evaluation
(replay backend, no model) logs to it over HTTP with tracking.uri=http://...,
and the run, its metrics and its artifacts are read back through the HTTP
client. Artifacts must land in --artifacts-destination, not in the cwd.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config.load import compose_run
from harness.run.runner import evaluate
from tests.helpers import ROOT, free_port, start_mlflow_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    proc = start_mlflow_server(tmp_path, port)
    try:
        yield f"http://127.0.0.1:{port}", tmp_path / "artifacts"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group (uvicorn workers included)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


@pytest.mark.slow
def test_evaluation_logs_to_a_real_tracking_server(server: tuple[str, Path], tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    url, artifacts = server
    rows = [json.loads(line) for line in (ROOT / "tasks" / "classification" / "test.jsonl").read_text().splitlines()]
    outputs = tmp_path / "outputs.jsonl"
    outputs.write_text("".join(json.dumps({"id": r["id"], "output": r["label"]}) + "\n" for r in rows))
    cfg = compose_run([
        "task=classification", "model=replay", f"model.path={outputs}", "task.limit=5",
        f"tracking.uri={url}", "tracking.experiment=shared-server",
        f"results_dir={tmp_path / 'results'}", f"cache.path={tmp_path / 'cache.sqlite'}",
        "progress=false", "bootstrap_resamples=50",
    ])
    # the demo's local store may already have put artifacts beside ./mlflow.db: nothing new may land there
    local_store = sorted((ROOT / "mlartifacts").rglob("*"))
    result = evaluate(cfg, quiet=True)
    assert result.mlflow_run_id

    client = MlflowClient(tracking_uri=url)
    run = client.get_run(result.mlflow_run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["accuracy"] == 1.0
    assert run.data.tags["harness.task"] == "classification"
    names = {a.path for a in client.list_artifacts(result.mlflow_run_id)}
    assert {"predictions.jsonl", "metrics.json", "config.yaml"} <= names, names
    local = Path(client.download_artifacts(result.mlflow_run_id, "predictions.jsonl", str(tmp_path / "dl")))
    assert len(local.read_text().splitlines()) == 5
    # proxied artifact store: the bytes live under --artifacts-destination on the server side
    assert list(artifacts.rglob("predictions.jsonl")), list(artifacts.rglob("*"))
    assert not (tmp_path / "mlruns").exists() and sorted((ROOT / "mlartifacts").rglob("*")) == local_store
