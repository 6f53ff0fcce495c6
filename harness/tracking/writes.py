"""A run's core MLflow writes as records: params, metrics, tags, artifacts, the table, the end status.

`Tracker` applies each to its client as it comes; while the tracking server
is down it appends them to the run's journal instead (harness/tracking/journal.py),
and `python -m harness.sync` decodes and applies them later, with
`replay=True`. Every write is safe to apply twice: params with the same
value, metrics with the same (step, timestamp, value) and tags are no-ops in
MLflow, artifacts are overwritten with the same bytes, and the table, which
MLflow's `log_table` would append to, is skipped on a replay when present.
The GenAI writes (dataset input, prompt link, traces) live beside the code
that builds them (genai.py, prompts.py, traces.py).
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.testpoint import pause


def mlflow_metric_name(name: str) -> str:
    """MLflow allows only [A-Za-z0-9_.- :/] in metric names: `pass@10` is logged as `pass_at_10`."""
    return name.replace("@", "_at_")


def _log_batched(client: Any, run_id: str, field: str, entities: Sequence[Any], size: int) -> None:
    """`log_batch` in slices of `size`: MLflow caps params and tags at 100 per call, metrics at 1,000."""
    for start in range(0, len(entities), size):
        client.log_batch(run_id, **{field: list(entities[start : start + size])})


def _encode_items(items: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    return {"items": [list(kv) for kv in items]}


@dataclass(frozen=True)
class Params:
    items: tuple[tuple[str, str], ...]
    kind: str = "params"

    @classmethod
    def of(cls, params: Mapping[str, str]) -> Params:
        return cls(tuple(sorted(params.items())))

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        from mlflow.entities import Param

        _log_batched(client, run_id, "params", [Param(k, v) for k, v in self.items], 100)
        return {}

    def encode(self, files: Path) -> dict[str, Any]:
        return _encode_items(self.items)

    @classmethod
    def decode(cls, data: Mapping[str, Any], files: Path) -> Params:
        return cls(tuple((str(k), str(v)) for k, v in data["items"]))


@dataclass(frozen=True)
class Metrics:
    """Final values at step 0, timestamp 0: a replay logs the very same points, which MLflow dedups."""

    items: tuple[tuple[str, float], ...]
    kind: str = "metrics"

    @classmethod
    def of(cls, metrics: Mapping[str, float]) -> Metrics:
        return cls(tuple(
            (mlflow_metric_name(k), float(v)) for k, v in sorted(metrics.items()) if not math.isnan(float(v))
        ))

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        from mlflow.entities import Metric

        _log_batched(client, run_id, "metrics", [Metric(k, v, 0, 0) for k, v in self.items], 1000)
        return {}

    def encode(self, files: Path) -> dict[str, Any]:
        return _encode_items(self.items)

    @classmethod
    def decode(cls, data: Mapping[str, Any], files: Path) -> Metrics:
        return cls(tuple((str(k), float(v)) for k, v in data["items"]))


@dataclass(frozen=True)
class Tags:
    items: tuple[tuple[str, str], ...]
    kind: str = "tags"

    @classmethod
    def of(cls, tags: Mapping[str, str]) -> Tags:
        return cls(tuple(tags.items()))

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        from mlflow.entities import RunTag

        _log_batched(client, run_id, "tags", [RunTag(k, v) for k, v in self.items], 100)
        return {}

    def encode(self, files: Path) -> dict[str, Any]:
        return _encode_items(self.items)

    @classmethod
    def decode(cls, data: Mapping[str, Any], files: Path) -> Tags:
        return cls(tuple((str(k), str(v)) for k, v in data["items"]))


@dataclass(frozen=True)
class Artifacts:
    """Files uploaded to the run's root, each under its own name."""

    paths: tuple[Path, ...]
    kind: str = "artifacts"

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        for path in self.paths:
            pause("tracking.log")
            client.log_artifact(run_id, str(path))
        return {}

    def encode(self, files: Path) -> dict[str, Any]:
        # copies: results/ may be moved or cleaned before the server is back
        names = []
        for path in self.paths:
            folder = files / f"{len(list(files.iterdir()))}"  # one folder per file keeps its own name
            folder.mkdir()
            shutil.copy2(path, folder / path.name)
            names.append(f"{folder.name}/{path.name}")
        return {"files": names}

    @classmethod
    def decode(cls, data: Mapping[str, Any], files: Path) -> Artifacts:
        return cls(tuple(files / name for name in data["files"]))


@dataclass(frozen=True)
class Table:
    """The per-example table (`MlflowClient.log_table`); rows hold scalars only."""

    rows: tuple[Mapping[str, Any], ...]
    name: str
    kind: str = "table"

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        import pandas as pd

        if replay and any(a.path == self.name for a in client.list_artifacts(run_id)):
            return {}  # log_table appends to an existing table: a second copy of every row otherwise
        client.log_table(run_id, data=pd.DataFrame(list(self.rows)), artifact_file=self.name)
        return {}

    def encode(self, files: Path) -> dict[str, Any]:
        return {"rows": list(self.rows), "name": self.name}

    @classmethod
    def decode(cls, data: Mapping[str, Any], files: Path) -> Table:
        return cls(tuple(data["rows"]), str(data["name"]))


@dataclass(frozen=True)
class End:
    """The run's end: FINISHED, FAILED (with the reason in `harness.failure`) or KILLED."""

    status: str
    reason: str | None = None
    kind: str = "end"

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        if self.reason is not None:
            client.set_tag(run_id, "harness.failure", self.reason)
        client.set_terminated(run_id, self.status)
        return {}

    def encode(self, files: Path) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason}

    @classmethod
    def decode(cls, data: Mapping[str, Any], files: Path) -> End:
        return cls(str(data["status"]), data.get("reason"))


@dataclass(frozen=True)
class SweepEnd:
    """A sweep parent's end, decided by its children when applied: FINISHED if all `n_cells` finished,
    else FAILED with the count. Replayed, it counts them as they are then (a sync replays the
    children's journals first: theirs are older)."""

    experiment_id: str
    n_cells: int
    error: str | None = None
    kind: str = "sweep_end"

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        from mlflow.entities import RunTag

        children = client.search_runs(
            [self.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{run_id}'", max_results=10000
        )
        done = sum(1 for r in children if r.info.status == "FINISHED")
        client.log_batch(run_id, tags=[RunTag("harness.sweep_finished", str(done))])
        if self.error is None and done == self.n_cells:
            client.set_terminated(run_id, "FINISHED")
        else:
            reason = f"{done} of {self.n_cells} cells finished" + (f"; {self.error}" if self.error else "")
            End("FAILED", reason).apply(client, run_id, replay)
        return {}

    def encode(self, files: Path) -> dict[str, Any]:
        return {"experiment_id": self.experiment_id, "n_cells": self.n_cells, "error": self.error}

    @classmethod
    def decode(cls, data: Mapping[str, Any], files: Path) -> SweepEnd:
        return cls(str(data["experiment_id"]), int(data["n_cells"]), data.get("error"))


CORE: Sequence[type[Any]] = (Params, Metrics, Tags, Artifacts, Table, End, SweepEnd)
TERMINAL = frozenset({End.kind, SweepEnd.kind})  # a run's last write
