"""Every shipped task kind runs end to end on the real embedded Gemma and lands in MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness.run.runner import evaluate
from tests.helpers import run_config

pytestmark = pytest.mark.slow

# a few examples and short generations: this checks the wiring on the real model,
# the metrics themselves are pinned by golden tests against the field's libraries
CASES = {
    "summarization": (["task.generation.max_new_tokens=24"], ["rougeL.precision", "rougeLsum.f1", "bleu", "chrf"]),
    "json_extraction": (["task.generation.max_new_tokens=40"], ["json.valid", "json.field_f1"]),
    "code_mini": (["task.generation.max_new_tokens=48", "allow_code_execution=true"], ["pass_at_1"]),
    "classification": (["task.mode=loglikelihood"], ["accuracy", "macro_f1"]),
}


@pytest.mark.parametrize("task", sorted(CASES))
def test_task_runs_on_embedded_gemma_and_is_recorded(task: str, tmp_path: Path) -> None:
    overrides, metrics = CASES[task]
    result = evaluate(run_config(tmp_path, f"task={task}", "task.limit=2", *overrides), quiet=True)
    run = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}").get_run(result.mlflow_run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["harness.task"] == task and run.data.tags["harness.model"] == "gemma3_270m"
    for name in metrics:
        assert name in run.data.metrics, (name, sorted(run.data.metrics))
    rows = [json.loads(x) for x in (Path(result.output_dir) / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["error"] is None and r["outputs"] for r in rows)
