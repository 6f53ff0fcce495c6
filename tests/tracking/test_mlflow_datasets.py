"""Evaluation datasets: register a task's test split, read it back with task.data.path=mlflow-dataset:<name>."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.config.load import compose_run
from harness.core.errors import ConfigError, DataError
from harness.data.samples import load_task_data
from harness.run.runner import evaluate
from harness.tracking.datasets import register_test_split
from tests.helpers import assert_one_line_error, isolated, run_cli

N = 5


def test_round_trip_same_samples_same_fingerprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = compose_run([*isolated(tmp_path), "task=classification", f"task.limit={N}"])
    reg = register_test_split(cfg, "reviews-test")
    local = load_task_data(cfg.task)
    assert reg.created and reg.n_records == N and reg.fingerprint == local.fingerprint
    again = register_test_split(cfg, "reviews-test")  # same data, same name: nothing new
    assert not again.created and again.dataset_id == reg.dataset_id

    path = tmp_path / "outputs.jsonl"
    path.write_text("".join(json.dumps({"id": s.id, "output": s.target}) + "\n" for s in local.test))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    back = compose_run([*isolated(tmp_path), "task=classification", "task.data.path=mlflow-dataset:reviews-test",
                        "model=replay", f"model.path={path}"])
    read = load_task_data(back.task, uri)
    assert read.test == local.test  # ids, inputs, references and whole rows, in file order
    result = evaluate(back, quiet=True)
    assert result.dataset_fingerprint == local.fingerprint and result.metrics["accuracy"].value == 1.0

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    ds = client.get_run(result.mlflow_run_id).inputs.dataset_inputs[0].dataset
    assert ds.source_type == "mlflow_evaluation_dataset" and json.loads(ds.source) == {"dataset_name": "reviews-test"}
    assert ds.digest == local.fingerprint
    # what MLflow's own API reads back: inputs are the rows, the reference is the expectation
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    from mlflow.genai.datasets import get_dataset

    frame = get_dataset(name="reviews-test").to_df()
    got = sorted((r["inputs"]["id"], r["inputs"]["text"], r["expectations"]["expected_response"])
                 for _, r in frame.iterrows())
    assert got == sorted((s.id, s.input, s.target) for s in local.test)
    bad = compose_run([*isolated(tmp_path), "task=classification", "task.data.path=mlflow-dataset:reviews-tset"])
    with pytest.raises(DataError, match="did you mean: reviews-test"):
        load_task_data(bad.task, uri)
    other = compose_run([*isolated(tmp_path), "task=classification", f"task.limit={N + 1}"])
    with pytest.raises(ConfigError, match="'reviews-test' already exists"):
        register_test_split(other, "reviews-test")


def test_unknown_name_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = run_cli([*isolated(tmp_path), "task=classification", "task.data.path=mlflow-dataset:nope",
                    "model=replay", f"model.path={tmp_path / 'x.jsonl'}"])
    assert_one_line_error(proc, "no MLflow evaluation dataset named 'nope'", "task.data.path=mlflow-dataset:nope")
