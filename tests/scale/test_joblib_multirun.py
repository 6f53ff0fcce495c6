"""A real multirun through Hydra's joblib launcher: two cells in parallel processes.

`python -m harness -m hydra/launcher=joblib ...` with the replay backend (no
model): each cell must end as a FINISHED MLflow run, and both runs must carry
the same `harness.sweep` tag so a sweep can be found again as a whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli


def _replay_file(tmp: Path) -> Path:
    rows = [json.loads(line) for line in (ROOT / "tasks" / "classification" / "test.jsonl").read_text().splitlines()]
    path = tmp / "outputs.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "output": "positive"}) + "\n" for r in rows))
    return path


@pytest.mark.slow
def test_joblib_multirun_gives_two_finished_runs_in_one_sweep(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # Create the store's schema once up front: two cells migrating a new SQLite file at the same moment race.
    MlflowClient(tracking_uri=uri).search_experiments()
    proc = run_cli(
        [
            "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={tmp_path / 'multirun'}",
            "task=classification", "model=replay", f"model.path={_replay_file(tmp_path)}", "task.limit=4,6",
            f"results_dir={tmp_path / 'results'}", f"cache.path={tmp_path / 'cache.sqlite'}", f"tracking.uri={uri}",
            "progress=false", "bootstrap_resamples=50",
        ],
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Joblib" in proc.stdout + proc.stderr  # the joblib launcher ran the cells, not the basic one

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("harness")
    assert exp is not None
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if r.data.tags.get("harness.kind") == "sweep"]  # the sweep's parent run
    runs = [r for r in runs if r not in parents]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert {r.data.tags["mlflow.parentRunId"] for r in runs} == {parents[0].info.run_id}
    assert len(runs) == 2
    assert {r.info.status for r in runs} == {"FINISHED"}
    sweeps = {r.data.tags.get("harness.sweep") for r in runs}
    sweep = sweeps.pop()
    assert not sweeps and sweep is not None and str(tmp_path / "multirun") in sweep
    assert sorted(r.data.params["task.limit"] for r in runs) == ["4", "6"]
