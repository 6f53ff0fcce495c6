"""A real multirun through hydra-ray-launcher on a local Ray instance (two cells).

hydra-ray-launcher and ray are not dependencies of the harness (ray alone is
hundreds of MB, and a local Ray instance takes minutes to start on a small
shared box), so this runs only when $HARNESS_RAY_PYTHON names an interpreter
that has them, e.g. a venv with `pip install hydra-ray-launcher` that sees
the main venv's packages through a .pth file (docs/scale.md). Otherwise it
is skipped with that reason.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT


def _ray_python() -> str:
    python = os.environ.get("HARNESS_RAY_PYTHON", "")
    probe = subprocess.run([python, "-c", "import ray, hydra_plugins.hydra_ray_launcher"], capture_output=True,
                           check=False) if python and Path(python).exists() else None
    if probe is None or probe.returncode != 0:
        pytest.skip("needs an interpreter with hydra-ray-launcher: set HARNESS_RAY_PYTHON (docs/scale.md)")
    return python


@pytest.mark.slow
def test_ray_multirun_gives_two_finished_runs_in_one_sweep(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    python = _ray_python()
    rows = [json.loads(line) for line in (ROOT / "tasks" / "classification" / "test.jsonl").read_text().splitlines()]
    outputs = tmp_path / "outputs.jsonl"
    outputs.write_text("".join(json.dumps({"id": r["id"], "output": "positive"}) + "\n" for r in rows))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).search_experiments()  # create the SQLite schema before two cells race on it
    proc = subprocess.run(
        [python, "-m", "harness", "-m", "hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2",
         "+hydra.launcher.ray.init.include_dashboard=false", f"hydra.sweep.dir={tmp_path / 'multirun'}",
         "task=classification", "model=replay", f"model.path={outputs}", "task.limit=4,6",
         f"results_dir={tmp_path / 'results'}", f"cache.path={tmp_path / 'cache.sqlite'}", f"tracking.uri={uri}",
         "progress=false", "bootstrap_resamples=50"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("harness")
    assert exp is not None
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if r.data.tags.get("harness.kind") == "sweep"]  # the sweep's parent run
    runs = [r for r in runs if r not in parents]
    assert len(parents) == 1 and {r.data.tags["mlflow.parentRunId"] for r in runs} == {parents[0].info.run_id}
    assert len(runs) == 2 and {r.info.status for r in runs} == {"FINISHED"}
    assert len({r.data.tags["harness.sweep"] for r in runs}) == 1
    assert sorted(r.data.params["task.limit"] for r in runs) == ["4", "6"]
