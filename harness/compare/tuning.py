"""Each tuned candidate's own tuning cost, found through its adapter in MLflow.

An evaluation run of a tuned variant is tagged `harness.adapter` with the
adapter folder's hash (`+merged` appended when the adapter was merged for
inference); the tuning run that produced the adapter (`python -m harness.tune`,
`harness.kind=tuning`) carries the same hash and `harness.tuning_cost_usd`.
A candidate without an adapter, or whose tuning run is not in the store (tuned
elsewhere, or a Gemini tuning job), has no cost here: the comparison then
prices it at the config's `tuning_cost_usd`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.compare import runs as rn

MERGED = "+merged"


def adapter_hash(run: rn.RunData) -> str:
    """The candidate's adapter hash as the tuning run records it ('' for a run without an adapter)."""
    tag = run.tag("adapter")
    return tag[: -len(MERGED)] if tag.endswith(MERGED) else tag


def tuning_costs(cands: Sequence[rn.RunData], tracking_uri: str | None) -> dict[str, tuple[float, str]]:
    """run id -> (tuning cost in USD, 'tuning run <id8>') for every candidate whose tuning run is found."""
    wanted = {c.run_id: adapter_hash(c) for c in cands if adapter_hash(c)}
    if not wanted:
        return {}
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)]
    found: dict[str, tuple[float, str]] = {}
    for adapter in set(wanted.values()):
        cost = _latest_cost(client, experiments, adapter)
        if cost is not None:
            found.update({run_id: cost for run_id, a in wanted.items() if a == adapter})
    return found


def _latest_cost(client: Any, experiments: list[str], adapter: str) -> tuple[float, str] | None:
    query = (f"attributes.status = 'FINISHED' and tags.`harness.kind` = 'tuning' "
             f"and tags.`harness.adapter` = {rn._quote(adapter)}")  # fmt: skip
    runs = client.search_runs(experiments, query, order_by=["attributes.start_time DESC"], max_results=5)
    for run in runs:  # the latest with a readable figure
        try:
            return float(run.data.tags["harness.tuning_cost_usd"]), f"tuning run {run.info.run_id[:8]}"
        except (KeyError, ValueError):
            continue
    return None
