"""`task.data.path=mlflow-dataset:<name>`: a registered MLflow evaluation dataset as a task's test data.

Records registered by `harness.tracking.datasets.register_test_split` hold each
source row whole as `inputs` (so the task's `input_field`, `target_field` and
`id_field` map them exactly as they mapped the file, and the data fingerprint
is the same), the reference as the expectation `expected_response`, and the row
number as the tag `harness.row` (the store does not keep insertion order).
Records a team added in MLflow's UI without that tag come after, in the
store's order. The store is the run's own (`tracking.uri`, else MLflow's default).
"""

from __future__ import annotations

from typing import Any

from harness.core.errors import DataError, suggest

SCHEME = "mlflow-dataset:"
ROW_TAG = "harness.row"


def is_mlflow_dataset(path: str) -> bool:
    return path.startswith(SCHEME)


def read_rows(path: str, tracking_uri: str | None) -> tuple[list[dict[str, Any]], str]:
    """The dataset's rows (each record's `inputs`) in registration order, and a 'where' for messages."""
    name = path[len(SCHEME):]
    store = dataset_store(tracking_uri)
    found = find(store, name)
    if found is None:
        known = sorted({d.name for d in store.search_datasets(max_results=1000)})
        raise DataError(
            f"no MLflow evaluation dataset named {name!r} in {uri_of(tracking_uri)} (task.data.path={path})"
            f"{suggest(name, known)}; known: {', '.join(known) or 'none'}"
        )
    records, _ = store._load_dataset_records(found.dataset_id, max_results=None)  # every record, one query
    ordered = sorted(records, key=lambda r: _row_number(r.tags))
    return [dict(r.inputs) for r in ordered], f"{path} ({found.dataset_id})"


def find(store: Any, name: str) -> Any:
    """The dataset with exactly this name, or None."""
    escaped = name.replace("'", "''")
    hits = [d for d in store.search_datasets(filter_string=f"name = '{escaped}'", max_results=10) if d.name == name]
    return hits[0] if hits else None


def dataset_store(tracking_uri: str | None) -> Any:
    """The tracking store behind `tracking_uri` (evaluation datasets live there)."""
    from mlflow.tracking import MlflowClient

    # the client's own store: the EvaluationDataset entity's helpers use the process-global one
    return MlflowClient(tracking_uri=uri_of(tracking_uri))._tracking_client.store


def uri_of(tracking_uri: str | None) -> str:
    if tracking_uri:
        return tracking_uri
    import mlflow

    return str(mlflow.get_tracking_uri())


def _row_number(tags: dict[str, str] | None) -> tuple[int, int]:
    value = (tags or {}).get(ROW_TAG)
    return (0, int(value)) if value is not None and value.isdigit() else (1, 0)
