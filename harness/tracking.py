"""Records a run in MLflow: params, metrics with CIs, tags, artifacts, per-example table.

Uses `MlflowClient` with explicit run ids rather than the fluent API's
process-global active run, so concurrent cells in one process cannot log
into each other's runs. A run is created RUNNING before any model work and
is marked FINISHED only after everything is logged; any failure marks it
FAILED, and a process killed outright leaves it RUNNING, never FINISHED.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.config.schema import TrackingConfig
from harness.paths import ROOT

log = logging.getLogger(__name__)

TAG = "harness."
_PARAM_LIMIT = 6000  # MLflow's maximum length of a param value


def tracking_uri(cfg: TrackingConfig) -> str:
    """tracking.uri, else $MLFLOW_TRACKING_URI, else MLflow's own default (sqlite:///mlflow.db)."""
    if cfg.uri:
        return cfg.uri
    import mlflow

    return str(mlflow.get_tracking_uri())


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

    def __init__(self, cfg: TrackingConfig) -> None:
        from mlflow.tracking import MlflowClient

        self.uri = tracking_uri(cfg)
        self._cfg = cfg
        self._client = MlflowClient(tracking_uri=self.uri)
        self.run_id: str | None = None

    def _experiment_id(self) -> str:
        from mlflow.exceptions import MlflowException

        exp = self._client.get_experiment_by_name(self._cfg.experiment)
        if exp is not None:
            return str(exp.experiment_id)
        try:
            return str(self._client.create_experiment(self._cfg.experiment))
        except MlflowException:  # another process created it first
            exp = self._client.get_experiment_by_name(self._cfg.experiment)
            assert exp is not None
            return str(exp.experiment_id)

    def start(self, run_name: str, params: Mapping[str, str], tags: Mapping[str, str]) -> str:
        from mlflow.entities import Param

        run = self._client.create_run(self._experiment_id(), run_name=run_name, tags=dict(tags))
        self.run_id = str(run.info.run_id)
        items = [Param(k, v) for k, v in sorted(params.items())]
        for start in range(0, len(items), 100):  # log_batch accepts 100 params per call
            self._client.log_batch(self.run_id, params=items[start : start + 100])
        self._client.set_tag(self.run_id, "harness.pid", str(os.getpid()))
        return self.run_id

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        import math

        from mlflow.entities import Metric

        assert self.run_id
        items = [Metric(k, float(v), 0, 0) for k, v in sorted(metrics.items()) if not math.isnan(float(v))]
        for start in range(0, len(items), 1000):
            self._client.log_batch(self.run_id, metrics=items[start : start + 1000])

    def log_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        assert self.run_id
        self._client.log_batch(self.run_id, tags=[RunTag(k, v) for k, v in tags.items()])

    def log_artifacts(self, files: Sequence[Path]) -> None:
        assert self.run_id
        for path in files:
            self._client.log_artifact(self.run_id, str(path))

    def log_table(self, rows: Sequence[Mapping[str, Any]], name: str = "eval_results.json") -> None:
        """The per-example table the MLflow UI's evaluation view compares across runs."""
        if not rows or not self._cfg.log_table:
            return
        import pandas as pd

        assert self.run_id
        frame = pd.DataFrame([{k: _cell(v) for k, v in row.items()} for row in rows])
        self._client.log_table(self.run_id, data=frame, artifact_file=name)

    def finish(self) -> None:
        assert self.run_id
        self._client.set_terminated(self.run_id, "FINISHED")

    def fail(self, reason: str) -> None:
        if self.run_id is None:
            return
        try:
            self._client.set_tag(self.run_id, "harness.failure", reason[:_PARAM_LIMIT])
            self._client.set_terminated(self.run_id, "FAILED")
        except Exception:  # the store itself may be what failed; never mask the original error
            log.exception("could not mark MLflow run %s FAILED", self.run_id)


def _cell(value: Any) -> Any:
    """MLflow tables want scalars; lists and dicts become JSON text."""
    if isinstance(value, (list, dict, tuple)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return value
