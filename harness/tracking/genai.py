"""What MLflow 3's GenAI views read, added to an evaluation run: dataset input, prompt version, traces.

`record_genai` is the runner's one call after the run's metrics and
artifacts are logged. Each piece is best effort: a failure never fails the
evaluation (results/ is already written), but it is never silent either:
one console line `harness: warning: ...` and the run tag
`harness.missing=<pieces>`, so a FINISHED run with a missing piece says so.
Each piece is one write through `Tracker.write`, so while the tracking
server is down it waits in the run's journal like every other write.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.cost import Prices
from harness.core.records import ExampleResult
from harness.tracking.prompts import PromptLink
from harness.tracking.recorder import Tracker, first_line
from harness.tracking.traces import TraceContext, TracesWrite

DATASET_SOURCE_TYPES = {"local": "local", "hub": "hugging_face", "mlflow": "mlflow_evaluation_dataset"}


@dataclass(frozen=True)
class EvalRecord:
    """What `record_genai` needs from the run loop (resolved config values, not the config)."""

    task: Any  # TaskConfig
    model: str
    model_id: str
    examples: Sequence[ExampleResult]
    fingerprint: str
    traces: bool  # tracking.traces
    generate_s: float
    score_s: float
    prices: Prices | None = None  # model.prices: each trace shows the harness's cost of its call


def record_genai(tracker: Tracker, rec: EvalRecord) -> dict[str, str]:
    """Log the dataset input, link the prompt version, write the traces; returns the tags it set."""
    tags: dict[str, str] = {}
    missing: list[str] = []
    for piece, step in (("dataset", _dataset), ("prompt", _prompt), ("traces", _traces)):
        try:
            tags.update(step(tracker, rec))
        except Exception as exc:  # any store or library failure: report, keep the evaluation
            missing.append(piece)
            print(f"harness: warning: MLflow {piece} not recorded for run {tracker.run_id}: "
                  f"{type(exc).__name__}: {first_line(exc)}; run tagged harness.missing={piece}",
                  file=sys.stderr, flush=True)
    if missing:
        tags["harness.missing"] = ",".join(missing)
    try:
        tracker.log_tags(tags)
    except Exception as exc:
        print(f"harness: warning: MLflow tags not recorded for run {tracker.run_id}: {first_line(exc)}",
              file=sys.stderr, flush=True)
    return tags


def dataset_source(path: str) -> tuple[str, dict[str, str]]:
    """(MLflow source type, source JSON) of task.data.path."""
    if path.startswith("mlflow-dataset:"):
        return DATASET_SOURCE_TYPES["mlflow"], {"dataset_name": path.split(":", 1)[1]}
    if Path(path).exists() or path.startswith((".", "/")) or "/" not in path or Path(path).suffix:
        return DATASET_SOURCE_TYPES["local"], {"uri": str(Path(path).resolve())}
    return DATASET_SOURCE_TYPES["hub"], {"path": path}


def dataset_input(task: Any, fingerprint: str, n: int) -> Any:
    """The run's test data as an MLflow dataset input: digest = the harness's data fingerprint."""
    return DatasetWrite.of(task, fingerprint, n).entity()


@dataclass(frozen=True)
class DatasetWrite:
    """The run's dataset input (MLflow reuses a dataset and an input link it already has)."""

    fields: tuple[tuple[str, str], ...]  # Dataset(name, digest, source_type, source, schema, profile)
    kind: str = "dataset"

    @classmethod
    def of(cls, task: Any, fingerprint: str, n: int) -> DatasetWrite:
        data = task.data
        source_type, source = dataset_source(data.path)
        if source_type == DATASET_SOURCE_TYPES["hub"]:
            source.update(split=data.test_split, **({"config_name": data.name} if data.name else {}))
        columns = {"input": data.input_field, "target": data.target_field, "id": data.id_field}
        return cls((
            ("name", f"{task.name}-test"),
            ("digest", fingerprint),
            ("source_type", source_type),
            ("source", json.dumps(source)),
            ("schema", json.dumps({"harness_columns": columns})),
            ("profile", json.dumps({"num_rows": n, "limit": task.limit})),
        ))

    def entity(self) -> Any:
        from mlflow.entities import Dataset, DatasetInput, InputTag

        return DatasetInput(Dataset(**dict(self.fields)), tags=[InputTag("mlflow.data.context", "eval")])

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        client.log_inputs(run_id, datasets=[self.entity()])
        return {}

    def encode(self, files: Path) -> dict[str, Any]:
        return {"fields": dict(self.fields)}

    @classmethod
    def decode(cls, data: Mapping[str, Any], files: Path) -> DatasetWrite:
        return cls(tuple((str(k), str(v)) for k, v in data["fields"].items()))


def _dataset(tracker: Tracker, rec: EvalRecord) -> dict[str, str]:
    return tracker.write(DatasetWrite.of(rec.task, rec.fingerprint, len(rec.examples)))


def _prompt(tracker: Tracker, rec: EvalRecord) -> dict[str, str]:
    return tracker.write(PromptLink.of(rec.task))


def _traces(tracker: Tracker, rec: EvalRecord) -> dict[str, str]:
    if not rec.traces:
        return {"harness.traces": "off"}
    assert tracker.run_id and tracker.experiment_id
    n = max(len(rec.examples), 1)
    now = time.time_ns()
    ctx = TraceContext(
        run_id=tracker.run_id,
        experiment_id=tracker.experiment_id,
        task=rec.task.name,
        model=rec.model,
        model_id=rec.model_id,
        scorers=",".join(rec.task.scorers),
        data_source=rec.task.data.path,
        start_ns=now - int((rec.generate_s + rec.score_s) * 1e9),
        score_share_ns=int(rec.score_s * 1e9 / n),
        prices=rec.prices,
    )
    write = TracesWrite.of(rec.examples, ctx)
    tracker.write(write)
    return {"harness.traces": str(len(write.traces))}


