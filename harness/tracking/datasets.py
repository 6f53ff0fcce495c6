"""Register a task's test split as an MLflow evaluation dataset (`mlflow.genai.datasets`).

    python -m harness.tracking.datasets task=classification name=reviews-test [tracking.uri=...] [task.limit=...]

Each sample becomes one record: `inputs` = the source row as it is (what
`task.data.path=mlflow-dataset:<name>` maps back with the task's field
names), `expectations` = {"expected_response": reference(s)}, tag
`harness.row` = its position. The dataset is tagged with the harness's data
fingerprint; registering the same data under the same name again is a no-op,
different data under a taken name is refused.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from harness.core.errors import ConfigError
from harness.data.mlflow_dataset import ROW_TAG, dataset_store, find, is_mlflow_dataset
from harness.data.samples import load_task_data
from harness.tracking.recorder import Tracker
from harness.tracking.traces import EXPECTATION

USAGE = """usage: python -m harness.tracking.datasets task=NAME name=DATASET [key=value ...]

Register the task's test split (after task.limit) as an MLflow evaluation dataset
in tracking.uri's store; read it back in a run with task.data.path=mlflow-dataset:DATASET.
"""


@dataclass(frozen=True)
class Registered:
    name: str
    dataset_id: str
    n_records: int
    fingerprint: str
    created: bool  # False: the same data was already registered under this name


def register_test_split(cfg: Any, name: str) -> Registered:
    """Register `cfg.task`'s test split as dataset `name` in `cfg.tracking`'s store (a RunConfig)."""
    if not name:
        raise ConfigError("name=... is required: the evaluation dataset's name")
    if is_mlflow_dataset(cfg.task.data.path):
        raise ConfigError(f"task.data.path={cfg.task.data.path} is already an MLflow dataset")
    data = load_task_data(cfg.task)
    tracker = Tracker(cfg.tracking)  # opens (and creates) the store, one-line error if it cannot
    store = dataset_store(tracker.uri)
    existing = find(store, name)
    if existing is not None:
        if (existing.tags or {}).get("harness.fingerprint") == data.fingerprint:
            return Registered(name, existing.dataset_id, len(data.test), data.fingerprint, False)
        raise ConfigError(f"an MLflow evaluation dataset named {name!r} already exists ({existing.dataset_id}) "
                          "with other data; pick another name")
    exp = tracker.experiment_id_or_create()
    dataset = store.create_dataset(name=name, experiment_ids=[exp], tags={
        "harness.fingerprint": data.fingerprint, "harness.task": cfg.task.name, "harness.source": cfg.task.data.path})
    records = [
        {
            "inputs": dict(s.fields),
            "expectations": {EXPECTATION: s.references[0] if len(s.references) == 1 else list(s.references)},
            "tags": {ROW_TAG: str(i), "harness.sample_id": s.id},
        }
        for i, s in enumerate(data.test)
    ]
    for start in range(0, len(records), 500):  # bounded request size for a tracking server
        store.upsert_dataset_records(dataset_id=dataset.dataset_id, records=records[start : start + 500])
    return Registered(name, dataset.dataset_id, len(records), data.fingerprint, True)


def _body(argv: list[str]) -> int:
    from harness.config.load import compose_run

    names = [a.split("=", 1)[1] for a in argv if a.startswith("name=")]
    cfg = compose_run([a for a in argv if not a.startswith("name=")])
    reg = register_test_split(cfg, names[-1] if names else "")
    verb = "registered" if reg.created else "already registered"
    print(f"{verb}: MLflow evaluation dataset {reg.name!r} ({reg.dataset_id}), {reg.n_records} records, "
          f"fingerprint {reg.fingerprint}; use task.data.path=mlflow-dataset:{reg.name}")
    return 0


def main() -> None:
    from harness.core.entry import run_entry

    sys.exit(run_entry("harness.tracking.datasets", USAGE, _body))


if __name__ == "__main__":
    main()
