"""Promise 1: a run SIGKILLed at any point resumes with the same command; nothing is lost, repeated or miscounted.

One run of N examples (classification on the fake Gemini server, a little
latency per call) is killed six times, each attempt at a different point:
inside a cache transaction, between chunks, at a random instant, while
writing results, between MLflow artifacts, and just before the run would be
marked FINISHED (pause points: harness/core/testpoint.py). The seventh attempt
completes. The fake server's request log shows which prompts were asked for
how often.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config.load import compose_run
from harness.run.results import INCOMPLETE
from harness.run.runner import evaluate
from tests.fakes import gemini_server
from tests.fakes.gemini_server import Faults
from tests.reliability.support import (
    API_KEY,
    CHUNK,
    Oracle,
    Paused,
    cache_rows,
    gemini_args,
    kill_at_random,
    make_dataset,
    mlflow_runs,
    quality,
    request_counts,
    result_dirs,
    run,
)

N = 240


@pytest.fixture
def oracle(tmp_path: Path) -> Iterator[tuple[Oracle, Path]]:
    data, answers = make_dataset(tmp_path, N)
    fake = Oracle(answers=answers)
    fake.set_faults(Faults(latency_s=0.02))
    _, server = gemini_server.start(fake)
    try:
        yield fake, data
    finally:
        gemini_server.stop(server)


def _uninterrupted(fake: Oracle, data: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    result = evaluate(compose_run(gemini_args(tmp, fake.url, data, "tracking.enabled=false", cli=False)), quiet=True)
    metrics: dict[str, float] = json.loads((Path(result.output_dir) / "metrics.json").read_text())
    return metrics


def _statuses(tmp: Path) -> list[str]:
    return sorted(r.info.status for r in mlflow_runs(tmp))


def test_killed_six_times_then_resumed_equals_an_uninterrupted_run(
    oracle: tuple[Oracle, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, data = oracle
    reference = _uninterrupted(fake, data, tmp_path / "reference", monkeypatch)
    with fake._lock:
        fake.log.clear()

    work = tmp_path / "work"
    work.mkdir()
    args = gemini_args(work, fake.url, data)
    kills = 0

    def killed_at(stage: str) -> None:
        nonlocal kills
        Paused(args, work, stage).kill()
        kills += 1
        assert "FINISHED" not in _statuses(work), stage  # a killed attempt never looks finished
        assert _statuses(work).count("RUNNING") == 1  # and the attempt before it was reaped: KILLED

    # 1. inside the cache transaction of chunk 2: chunk 1 is kept, chunk 2 leaves no row behind
    killed_at("cache.write:2")
    assert cache_rows(work / "cache.sqlite") == CHUNK
    # 2. just after chunk 2 of this attempt was committed
    killed_at("generation.chunk:2")
    assert cache_rows(work / "cache.sqlite") == 3 * CHUNK
    # 3. at a random instant while chunks are in flight
    rows = kill_at_random(args, work, random.Random(20261122), after_rows=4 * CHUNK)
    kills += 1
    assert 4 * CHUNK <= rows < N
    # 4-6. after generation: while writing results, between MLflow artifacts, just before FINISHED
    killed_at("report.write:2")
    assert cache_rows(work / "cache.sqlite") == N
    killed_at("tracking.log:2")
    killed_at("tracking.finish")

    final = run(args, work)
    assert final.returncode == 0, final.stderr[-3000:]

    # no finished request repeated: beyond one pass over the data, only the in-flight chunks of
    # kill 1 (inside the cache transaction) and kill 3 (random) may have been asked again
    counts = request_counts(fake)
    assert len(counts) == N
    assert sum(counts.values()) - N <= 2 * CHUNK, sum(counts.values())
    assert sum(counts.values()) - N >= CHUNK  # kill 1's chunk really was lost and re-asked

    # no example lost or counted twice; the numbers equal the uninterrupted run's
    folders = result_dirs(work)
    done = folders[-1]
    rows_out = [json.loads(line) for line in (done / "predictions.jsonl").read_text().splitlines()]
    ids = [r["id"] for r in rows_out]
    assert len(ids) == N and len(set(ids)) == N
    assert {json.loads(line)["id"] for line in data.read_text().splitlines()} == set(ids)
    metrics = json.loads((done / "metrics.json").read_text())
    assert metrics["n_examples"] == N
    assert quality(metrics) == quality(reference)
    timing = json.loads((done / "timing.json").read_text())
    assert timing["cache.hits"] == N and timing["cache.generated"] == 0

    # the folders of the three attempts killed after generation are marked, the finished one is not
    assert not (done / INCOMPLETE).exists()
    assert [(f / INCOMPLETE).exists() for f in folders[:-1]] == [True, True, True]

    # MLflow: one FINISHED run, every killed attempt marked KILLED with the reason
    runs = mlflow_runs(work)
    assert sorted(r.info.status for r in runs) == ["FINISHED"] + ["KILLED"] * kills
    for r in runs:
        if r.info.status == "KILLED":
            assert r.data.tags["harness.status"] == "killed" and "ended without finishing" in r.data.tags[
                "harness.failure"]
    (finished,) = [r for r in runs if r.info.status == "FINISHED"]
    assert finished.data.metrics["accuracy"] == reference["accuracy"] and finished.data.metrics["n_examples"] == N

    with sqlite3.connect(work / "cache.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
