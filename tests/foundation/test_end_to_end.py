"""The real pipeline on the real embedded Gemma 3 270M, a real MLflow store and real files."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness.core.errors import DataError
from harness.run.runner import evaluate
from tests.helpers import ROOT, isolated, run_config

pytestmark = pytest.mark.slow
CELL = ["task.limit=8", "task.shots=3", "model.batch_size=4", "chunk_size=4"]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("e2e")
    return tmp, evaluate(run_config(tmp, *CELL), quiet=True)


def test_run_is_recorded_in_mlflow_with_params_metrics_cis_table_and_artifacts(first_run) -> None:
    tmp, result = first_run
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}")
    run = client.get_run(result.mlflow_run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["task.name"] == "classification"
    assert run.data.params["model.path"] == "embedded:gemma3-270m"
    assert run.data.params["task.shots"] == "3"
    m = run.data.metrics
    assert m["n_examples"] == 8
    assert 0.0 <= m["accuracy.ci_low"] <= m["accuracy"] <= m["accuracy.ci_high"] <= 1.0
    assert "macro_f1" in m and "prompt_tokens_total" in m and "latency_s_p50" in m
    tags = run.data.tags
    assert tags["harness.task"] == "classification" and tags["harness.model"] == "gemma3_270m"
    assert tags["harness.variant"] == "base" and tags["harness.dataset_fingerprint"] == result.dataset_fingerprint
    assert tags["harness.revision"].startswith("gguf-sha256:")
    artifacts = {a.path for a in client.list_artifacts(result.mlflow_run_id)}
    assert {
        "predictions.jsonl",
        "metrics.json",
        "config.yaml",
        "confusion_matrix.png",
        "eval_results.json",
    } <= artifacts
    table = json.loads(Path(client.download_artifacts(result.mlflow_run_id, "eval_results.json", str(tmp))).read_text())
    assert len(table["data"]) == 8 and "score.accuracy" in table["columns"]


def test_results_folder_has_flat_metrics_predictions_and_config(first_run) -> None:
    _, result = first_run
    out = Path(result.output_dir)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["accuracy"] == result.metrics["accuracy"].value
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and all(r["output"] is not None and "score.accuracy" in r for r in rows)
    # real model output: the greedy continuation after 'Sentiment:' is text, not empty
    assert sum(1 for r in rows if r["output"].strip()) >= 6
    assert "embedded:gemma3-270m" in (out / "config.yaml").read_text()


def test_timing_split_accounts_for_the_wall_time(first_run) -> None:
    """Every phase is timed, so the profile split in timing.json adds up to the run's wall time."""
    _, result = first_run
    timing = json.loads((Path(result.output_dir) / "timing.json").read_text())
    phases = ["setup_s", "model_load_s", "generate_s", "score_s", "write_s", "tracking_s"]
    parts = [timing[f"timing.{p}"] for p in phases]
    assert all(p >= 0 for p in parts) and timing["timing.model_load_s"] > 0 and timing["timing.generate_s"] > 0
    assert 0.9 * timing["timing.wall_s"] <= sum(parts) <= timing["timing.wall_s"]


def test_rerun_is_served_from_cache_without_loading_the_model(first_run) -> None:
    tmp, result = first_run
    again = evaluate(run_config(tmp, *CELL), quiet=True)
    timing = json.loads((Path(again.output_dir) / "timing.json").read_text())
    assert timing["cache.model_loaded"] == 0.0 and timing["cache.hits"] == 8.0
    assert (Path(again.output_dir) / "metrics.json").read_bytes() == (
        Path(result.output_dir) / "metrics.json"
    ).read_bytes()
    assert (Path(again.output_dir) / "predictions.jsonl").read_bytes() == (
        Path(result.output_dir) / "predictions.jsonl"
    ).read_bytes()


def test_label_outside_label_list_fails_before_the_model_loads(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "1", "text": "fine", "label": "postive"}\n')
    cfg = run_config(tmp_path, f"task.data.path={path}", "task.data.train_path=null")
    with pytest.raises(DataError, match=r"label 'postive' is not in task\.labels.*did you mean: positive"):
        evaluate(cfg, quiet=True)
    assert not (tmp_path / "cache.sqlite").exists()


def _cached_rows(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return int(con.execute("SELECT count(*) FROM responses").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_run_killed_with_sigkill_resumes_without_redoing_finished_work(first_run, tmp_path: Path) -> None:
    _, reference = first_run
    args = [sys.executable, "-m", "harness", *isolated(tmp_path), *CELL]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = tmp_path / "cache.sqlite"
    deadline = time.monotonic() + 300
    while _cached_rows(db) < 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = _cached_rows(db)
    assert 4 <= done < 8, "the kill must land mid-run"
    # the killed attempt's MLflow run is left RUNNING, never FINISHED
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs(client.get_experiment_by_name("harness").experiment_id)
    assert [r.info.status for r in runs] == ["RUNNING"]

    finish = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert finish.returncode == 0, finish.stderr[-3000:]
    out = sorted((tmp_path / "results" / "classification" / "gemma3_270m").iterdir())[-1]
    timing = json.loads((out / "timing.json").read_text())
    assert timing["cache.hits"] == done and timing["cache.generated"] == 8 - done
    # latencies are wall-clock measurements of two different processes; every other number must match
    resumed, uninterrupted = (json.loads((d / "metrics.json").read_text()) for d in (out, Path(reference.output_dir)))
    quality = [k for k in uninterrupted if not k.startswith(("latency", "cost"))]  # cost is latency-priced
    assert {k: resumed[k] for k in quality} == {k: uninterrupted[k] for k in quality}
