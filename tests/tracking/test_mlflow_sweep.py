"""A multirun is one MLflow parent run with a child run per cell (a real `python -m harness -m` process)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.config.load import compose_run
from harness.data.samples import load_task_data
from tests.helpers import isolated, run_cli


def test_multirun_is_a_parent_with_one_child_per_cell(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    test = load_task_data(compose_run(["task=classification", "task.limit=4"]).task).test
    path = tmp_path / "outputs.jsonl"
    path.write_text("".join(json.dumps({"id": s.id, "output": s.target}) + "\n" for s in test))
    proc = run_cli(["-m", f"hydra.sweep.dir={tmp_path / 'multirun'}", *isolated(tmp_path), "task=classification",
                    "model=replay", f"model.path={path}", "task.limit=3,4", "tracking.traces=false"], timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("harness")
    assert exp is not None
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if r.data.tags.get("harness.kind") == "sweep"]
    children = [r for r in runs if r.data.tags.get("harness.kind") != "sweep"]
    assert len(parents) == 1 and len(children) == 2
    parent = parents[0]
    assert parent.info.status == "FINISHED" and parent.data.tags["harness.sweep_finished"] == "2"
    assert parent.data.params["sweep.cells"] == "2"
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert {c.info.status for c in children} == {"FINISHED"}
    assert sorted(c.data.params["task.limit"] for c in children) == ["3", "4"]


def test_a_cell_that_did_not_finish_marks_the_parent_failed(tmp_path: Path) -> None:
    """In process: the parent of a 2-cell sweep whose second cell exits with an error."""
    import pytest
    from mlflow.tracking import MlflowClient

    from harness.run.runner import evaluate
    from harness.run.sweep import sweep_parent

    test = load_task_data(compose_run(["task=classification", "task.limit=2"]).task).test
    path = tmp_path / "outputs.jsonl"
    path.write_text("".join(json.dumps({"id": s.id, "output": s.target}) + "\n" for s in test))
    cell = [*isolated(tmp_path), "task=classification", "model=replay", f"model.path={path}", "task.limit=2",
            "tracking.traces=false"]
    with pytest.raises(SystemExit), sweep_parent(["-m", *cell], 2) as parent:
        evaluate(compose_run([*cell, f"tracking.parent_run_id={parent}"]), quiet=True)
        raise SystemExit(2)  # what the second cell's one-line error does
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = client.get_run(str(parent))
    assert run.info.status == "FAILED"
    assert run.data.tags["harness.failure"] == "1 of 2 cells finished; SystemExit: 2"
