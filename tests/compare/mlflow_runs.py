"""Writes evaluation runs into a real MLflow store in the format harness.tracking logs.

Tags `harness.*`, flat metrics (as RunResult.flat_metrics), and a
`predictions.jsonl` artifact of ExampleResult.to_row() rows.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from mlflow.tracking import MlflowClient


def make_rows(
    scores: Mapping[str, Sequence[float]],
    *,
    cost_usd: float = 0.001,
    prompt_tokens: int = 100,
    output_tokens: int = 20,
    latency_s: float = 0.5,
    errors: Sequence[int] = (),
    prefix: str = "ex",
) -> list[dict[str, Any]]:
    """Rows shaped like ExampleResult.to_row(), one per position in the score lists."""
    n = len(next(iter(scores.values())))
    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "id": f"{prefix}{i:04d}",
            "input": f"input {i}",
            "reference": "ref",
            "prompt": f"prompt {i}",
            "output": "out",
            "outputs": ["out"],
            "finish_reason": "stop",
            "error": "boom" if i in errors else None,
            "prompt_tokens": prompt_tokens,
            "output_tokens": output_tokens,
            "latency_s": round(latency_s * (1 + (i % 10) / 10), 6),
            "cost_usd": cost_usd,
        }
        row.update({f"score.{k}": float(v[i]) for k, v in sorted(scores.items())})
        rows.append(row)
    return rows


def flat_metrics(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Aggregates like RunResult.flat_metrics: means with a normal CI, and counters."""
    out: dict[str, float] = {}
    names = sorted(k[len("score.") :] for k in rows[0] if k.startswith("score."))
    for name in names:
        v = np.array([r[f"score.{name}"] for r in rows], dtype=float)
        se = float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0
        out[name] = float(v.mean())
        out[f"{name}.ci_low"] = float(v.mean() - 1.96 * se)
        out[f"{name}.ci_high"] = float(v.mean() + 1.96 * se)
    lat = np.array([r["latency_s"] for r in rows])
    out.update(
        {
            "n_examples": float(len(rows)),
            "n_errors": float(sum(r["error"] is not None for r in rows)),
            "error_rate": sum(r["error"] is not None for r in rows) / len(rows),
            "cost_usd_total": float(sum(r["cost_usd"] for r in rows)),
            "prompt_tokens_total": float(sum(r["prompt_tokens"] for r in rows)),
            "output_tokens_total": float(sum(r["output_tokens"] for r in rows)),
            "latency_s_p50": float(np.percentile(lat, 50)),
            "latency_s_p95": float(np.percentile(lat, 95)),
        }
    )
    return out


def artifact_root(tracking_uri: str) -> str:
    """Artifacts next to the sqlite file, so tests never write ./mlruns in the repo."""
    return (Path(tracking_uri.removeprefix("sqlite:///")).parent / "artifacts").as_uri()


def log_run(
    tracking_uri: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    task: str = "sst2",
    model: str = "gemma-base",
    variant: str = "base",
    fingerprint: str = "fp-1",
    extra_tags: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
    status: str = "FINISHED",
    experiment: str = "harness",
) -> str:
    """Create one run the way harness.tracking does; return its run id."""
    client = MlflowClient(tracking_uri=tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        exp_id = client.create_experiment(experiment, artifact_location=artifact_root(tracking_uri))
    else:
        exp_id = exp.experiment_id
    tags = {
        "harness.task": task,
        "harness.model": model,
        "harness.variant": variant,
        "harness.base_model": "gemma-base",
        "harness.dataset_fingerprint": fingerprint,
        "harness.sweep": "",
        "harness.git_commit": "abc123",
        "harness.shots": "0",
        **(extra_tags or {}),
    }
    run = client.create_run(exp_id, tags=tags, run_name=f"{task}-{model}")
    run_id: str = run.info.run_id
    for key, value in (metrics if metrics is not None else flat_metrics(rows)).items():
        client.log_metric(run_id, key, value)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "predictions.jsonl"
        path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
        client.log_artifact(run_id, str(path))
    client.set_terminated(run_id, status=status)
    return run_id
