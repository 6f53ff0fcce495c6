"""Finding evaluation runs in MLflow and aligning their examples.

A run written by harness.tracking carries `harness.*` tags, flat metrics
(RunResult.flat_metrics) and a `predictions.jsonl` artifact whose rows are
ExampleResult.to_row(). A run is named either by its MLflow run id or by a
model name, which resolves to the latest FINISHED run of that model on the
task (optionally restricted by tags, e.g. `harness.released=true`).
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from harness.core.errors import RunNotFound, UserError

PREDICTIONS = "predictions.jsonl"
TAG = "harness."
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class ExampleRow:
    """The part of a predictions.jsonl row that comparisons use."""

    id: str
    prompt_tokens: float
    output_tokens: float
    latency_s: float
    cost_usd: float
    error: str | None
    scores: Mapping[str, float]
    # what the examples behind a verdict show (harness.compare.examples) and export= writes
    input: str = ""
    reference: str = ""
    output: str = ""
    prompt: str = ""
    leaked: bool | None = None  # the leakage audit's `leakage.any` (None: the run was not audited)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ExampleRow:
        scores: dict[str, float] = {}
        for key, value in row.items():
            # bools are ints: json.valid may be logged as true/false
            if key.startswith("score.") and isinstance(value, int | float):
                scores[key[len("score.") :]] = float(value)
        return cls(
            id=str(row["id"]),
            prompt_tokens=float(row.get("prompt_tokens") or 0),
            output_tokens=float(row.get("output_tokens") or 0),
            latency_s=float(row.get("latency_s") or 0.0),
            cost_usd=float(row.get("cost_usd") or 0.0),
            error=row.get("error") or None,
            scores=scores,
            input=_text(row.get("input")),
            reference=_text(row.get("reference")),
            output=_text(row.get("output")),
            prompt=_text(row.get("prompt")),
            leaked=row["leakage.any"] if isinstance(row.get("leakage.any"), bool) else None,
        )


def _text(value: Any) -> str:
    """A row's text field as text (None: '', a structured value: its JSON)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class RunData:
    """One finished evaluation run: identity, tags, flat metrics and (when loaded) its examples."""

    run_id: str
    run_name: str
    tags: Mapping[str, str]
    metrics: Mapping[str, float]
    rows: tuple[ExampleRow, ...] = ()
    start_time: int = 0
    params: Mapping[str, str] = field(default_factory=dict)  # the run's logged config (flattened)

    def tag(self, name: str) -> str:
        """The value of tag `harness.<name>`, or ''."""
        return self.tags.get(TAG + name, "")

    @property
    def label(self) -> str:
        """A short human name: model (variant) and the first 8 characters of the run id."""
        model = self.tag("model") or self.run_name or "run"
        variant = self.tag("variant")
        shots = self.tag("shots")
        prompting = f" {shots}-shot" if shots and shots != "0" else ""
        return f"{model}{prompting}{f' ({variant})' if variant else ''} [{self.run_id[:8]}]"

    @property
    def score_names(self) -> list[str]:
        names: set[str] = set()
        for row in self.rows:
            names.update(row.scores)
        return sorted(names)


@dataclass(frozen=True)
class Operational:
    """Per-request costs of a run, computed from its examples."""

    n: int
    prompt_tokens: float  # mean per request
    output_tokens: float
    latency_p50: float
    latency_p95: float
    cost_per_1k: float  # USD per 1,000 requests
    error_rate: float

    @property
    def cost_per_request(self) -> float:
        return self.cost_per_1k / 1000.0


def operational(run: RunData) -> Operational:
    rows = run.rows
    if not rows:
        return Operational(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    lat = np.array([r.latency_s for r in rows])
    return Operational(
        n=len(rows),
        prompt_tokens=float(np.mean([r.prompt_tokens for r in rows])),
        output_tokens=float(np.mean([r.output_tokens for r in rows])),
        latency_p50=float(np.percentile(lat, 50)),
        latency_p95=float(np.percentile(lat, 95)),
        cost_per_1k=1000.0 * float(np.mean([r.cost_usd for r in rows])),
        error_rate=sum(r.error is not None for r in rows) / len(rows),
    )


@dataclass(frozen=True)
class Selector:
    """How the user named a run: an MLflow run id, or a model name on a task."""

    ref: str
    task: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


def _client(tracking_uri: str | None) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "\\'") + "'"


def _search_latest(client: Any, sel: Selector) -> Any:
    from mlflow.entities import ViewType

    clauses = ["attributes.status = 'FINISHED'"]
    wanted = {f"{TAG}task": sel.task, **dict(sel.tags)} if sel.task else dict(sel.tags)
    if sel.ref:
        wanted[f"{TAG}model"] = sel.ref
    clauses += [f"tags.`{k}` = {_quote(str(v))}" for k, v in wanted.items()]
    experiment_ids = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)]
    runs = client.search_runs(
        experiment_ids, " and ".join(clauses), order_by=["attributes.start_time DESC"], max_results=1
    )
    if not runs:
        what = ", ".join(f"{k}={v}" for k, v in wanted.items())
        raise RunNotFound(f"no FINISHED run with {what} in {client.tracking_uri}")
    return runs[0]


def find_run(sel: Selector, tracking_uri: str | None, *, load_rows: bool = True) -> RunData:
    """Resolve a selector to one FINISHED run and (optionally) read its predictions."""
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri)
    if _RUN_ID.match(sel.ref):
        try:
            run = client.get_run(sel.ref)
        except MlflowException:
            raise RunNotFound(f"run {sel.ref} not found in {tracking_uri or 'the default MLflow store'}") from None
        if run.info.status != "FINISHED":
            raise RunNotFound(f"run {sel.ref} is {run.info.status}, not FINISHED")
    else:
        if not sel.task and not sel.tags:
            raise UserError(f"run {sel.ref!r} is not a run id; give `task` to pick the latest run of that model")
        run = _search_latest(client, sel)
    rows = _read_rows(client, run.info.run_id) if load_rows else ()
    return RunData(
        run_id=run.info.run_id,
        run_name=run.info.run_name or "",
        tags=dict(run.data.tags),
        metrics=dict(run.data.metrics),
        rows=rows,
        start_time=int(run.info.start_time or 0),
        params=dict(run.data.params),
    )


def _read_rows(client: Any, run_id: str) -> tuple[ExampleRow, ...]:
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, PREDICTIONS, tmp)
        except (MlflowException, OSError):
            raise UserError(f"run {run_id} has no {PREDICTIONS} artifact") from None
        rows = []
        with Path(local).open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(ExampleRow.from_row(json.loads(line)))
                except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                    raise UserError(f"run {run_id}: {PREDICTIONS} line {lineno} is malformed ({exc})") from None
    return tuple(rows)


@dataclass(frozen=True)
class Aligned:
    """Per-example scores of two runs on the same ids, in the same order."""

    ids: tuple[str, ...]
    baseline: Mapping[str, NDArray[np.float64]]
    candidate: Mapping[str, NDArray[np.float64]]

    @property
    def metrics(self) -> list[str]:
        return sorted(set(self.baseline) & set(self.candidate))


def align(base: RunData, cand: RunData, metrics: Sequence[str] | None = None) -> Aligned:
    """Pair two runs' examples by id.

    Different dataset fingerprints or id sets mean the runs did not see the
    same examples, so nothing paired can be said: a UserError naming both.
    A score missing on one example (it errored) counts as 0.
    """
    fb, fc = base.tag("dataset_fingerprint"), cand.tag("dataset_fingerprint")
    if fb and fc and fb != fc:
        raise UserError(
            f"runs {base.run_id} and {cand.run_id} were made on different data (dataset fingerprints {fb} and {fc})"
        )
    by_id_b = {r.id: r for r in base.rows}
    by_id_c = {r.id: r for r in cand.rows}
    if set(by_id_b) != set(by_id_c):
        only_b = len(set(by_id_b) - set(by_id_c))
        only_c = len(set(by_id_c) - set(by_id_b))
        raise UserError(
            f"runs {base.run_id} and {cand.run_id} have different example ids "
            f"({only_b} only in the first, {only_c} only in the second)"
        )
    if not by_id_b:
        raise UserError(f"runs {base.run_id} and {cand.run_id} have no examples")
    ids = tuple(sorted(by_id_b))
    names = list(metrics) if metrics is not None else sorted(set(base.score_names) & set(cand.score_names))

    def column(rows: Mapping[str, ExampleRow], name: str) -> NDArray[np.float64]:
        vals = [rows[i].scores.get(name, 0.0) for i in ids]
        return np.array([0.0 if math.isnan(v) else v for v in vals], dtype=np.float64)

    return Aligned(
        ids=ids,
        baseline={m: column(by_id_b, m) for m in names},
        candidate={m: column(by_id_c, m) for m in names},
    )
