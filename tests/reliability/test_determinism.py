"""Promise 7: the same command with the same seed gives the same predictions, cold or cached, on the real Gemma.

tests/foundation/test_end_to_end.py already pins cold-vs-cached byte
equality in-process; this runs the CLI three times (cold, cached, cold again
on an empty cache) with an explicit seed and compares the files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.support import isolated_fast, run

pytestmark = pytest.mark.slow
ARGS = ["task.limit=4", "task.seed=99", "task.generation.seed=99", "task.generation.max_new_tokens=4",
        "model.batch_size=4", "chunk_size=4", "tracking.enabled=false"]


def _run(tmp: Path, cache: Path) -> Path:
    proc = run([*isolated_fast(tmp), f"cache.path={cache}", *ARGS], tmp, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (folder,) = [p for p in (tmp / "results" / "classification" / "gemma3_270m").iterdir() if p.is_dir()]
    folder.rename(tmp / f"run{len(list(tmp.glob('run*')))}")
    return tmp / f"run{len(list(tmp.glob('run*'))) - 1}"


def _clock_free(key: str) -> bool:
    # the embedded model's cost is priced by compute time (model.prices.per_hour_usd): wall clock too
    return "latency" not in key and "cost" not in key


def _without_latency(folder: Path) -> tuple[list[dict[str, object]], dict[str, float]]:
    rows = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    metrics = json.loads((folder / "metrics.json").read_text())
    return ([{k: v for k, v in r.items() if _clock_free(k)} for r in rows],
            {k: v for k, v in metrics.items() if _clock_free(k)})


def test_cold_cached_and_second_cold_runs_agree(tmp_path: Path) -> None:
    cold = _run(tmp_path, tmp_path / "a.sqlite")
    cached = _run(tmp_path, tmp_path / "a.sqlite")
    again = _run(tmp_path, tmp_path / "b.sqlite")
    assert json.loads((cached / "timing.json").read_text())["cache.model_loaded"] == 0.0
    assert json.loads((again / "timing.json").read_text())["cache.model_loaded"] == 1.0
    for name in ("predictions.jsonl", "metrics.json"):  # cold vs cached: byte for byte
        assert (cold / name).read_bytes() == (cached / name).read_bytes(), name
    rows, metrics = _without_latency(cold)
    assert len(rows) == 4 and any(str(r["output"]).strip() for r in rows)
    assert _without_latency(again) == (rows, metrics)  # two cold runs: all but wall-clock fields
