"""Promise 2: API faults change nothing a retry can fix; an outage fails the run cleanly and keeps finished work.

The fake Gemini server injects faults into 30% of generateContent calls
(429 with and without Retry-After, 500, 503, hangs past the client timeout,
truncated and malformed JSON bodies, and safety blocks). Retryable faults
must leave every answer equal to a fault-free run; a safety block is an
answer (empty, finish reason SAFETY), never retried, and always scored wrong.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.config.load import compose_run
from harness.core.records import RunResult
from harness.kinds.classification import INVALID
from harness.run.runner import evaluate
from tests.fakes import gemini_server
from tests.fakes.gemini_server import FAULT_KINDS, SAFETY_KINDS, Faults
from tests.reliability.support import (
    API_KEY,
    CHUNK,
    Oracle,
    cache_rows,
    gemini_args,
    make_dataset,
    mlflow_runs,
    quality,
    request_counts,
    result_dirs,
    run,
)

N = 120
RATE = 0.3


@pytest.fixture
def oracle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Oracle, Path]]:
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    data, answers = make_dataset(tmp_path, N, seed=11)
    fake = Oracle(answers=answers)
    _, server = gemini_server.start(fake)
    try:
        yield fake, data
    finally:
        gemini_server.stop(server)


def _evaluate(fake: Oracle, data: Path, tmp: Path, *extra: str) -> RunResult:
    return evaluate(compose_run(gemini_args(tmp, fake.url, data, *extra, cli=False)), quiet=True)


def _rows(result: RunResult) -> dict[str, dict[str, Any]]:
    rows = (json.loads(line) for line in (Path(result.output_dir) / "predictions.jsonl").read_text().splitlines())
    return {r["id"]: {k: v for k, v in r.items() if k != "latency_s"} for r in rows}


def test_thirty_percent_faults_give_the_fault_free_answers(oracle: tuple[Oracle, Path], tmp_path: Path) -> None:
    fake, data = oracle
    clean = _evaluate(fake, data, tmp_path / "clean", "tracking.enabled=false")
    assert len(fake.generate_calls()) == N

    with fake._lock:
        fake.log.clear()
    fake.set_faults(Faults(rate=RATE, kinds=FAULT_KINDS + SAFETY_KINDS, seed=5, hang_s=2.5, retry_after_s=1))
    faulty = _evaluate(fake, data, tmp_path / "faulty", "model.timeout_s=1", "retry.max_attempts=12")
    calls = len(fake.generate_calls())
    assert calls > N * (1 + RATE / 2), calls  # the faults really fired and were retried

    want, got = _rows(clean), _rows(faulty)
    blocked = {i for i, r in got.items() if r["finish_reason"] == "SAFETY"}
    assert 0 < len(blocked) < N * RATE  # safety blocks drawn at random, answered once, not retried
    for i, row in got.items():
        if i in blocked:  # a blocked answer is scored as a failure, never as an error or a retry
            assert (row["output"], row["error"], row["score.accuracy"], row["detail.predicted"]) == (
                "", None, 0.0, INVALID)
        else:
            assert row == want[i], i
    assert faulty.counters["n_errors"] == 0
    correct_unblocked = sum(r["score.accuracy"] for i, r in want.items() if i not in blocked)
    assert faulty.metrics["accuracy"].value == pytest.approx(correct_unblocked / N)

    # consistently: the cached re-run scores the blocked answers the same way, and asks nothing
    with fake._lock:
        fake.log.clear()
    again = _evaluate(fake, data, tmp_path / "faulty")
    assert fake.generate_calls() == []
    assert _rows(again) == got and quality(json.loads(
        (Path(again.output_dir) / "metrics.json").read_text())) == quality(json.loads(
            (Path(faulty.output_dir) / "metrics.json").read_text()))


def test_total_outage_fails_with_one_line_and_keeps_finished_answers(oracle: tuple[Oracle, Path],
                                                                      tmp_path: Path) -> None:
    fake, data = oracle
    fake.set_faults(Faults(latency_s=0.02))
    work = tmp_path / "work"
    work.mkdir()
    args = gemini_args(work, fake.url, data)

    stop = threading.Event()

    def outage_after(n_calls: int) -> None:  # the API goes down for good mid-run
        while not stop.is_set() and len(fake.generate_calls()) < n_calls:
            time.sleep(0.01)
        fake.set_faults(Faults(rate=1.0, kinds=("503",)))

    watcher = threading.Thread(target=outage_after, args=(2 * CHUNK,), daemon=True)
    watcher.start()
    try:
        down = run(args, work)
    finally:
        stop.set()
        watcher.join()
    assert down.returncode == 1, (down.returncode, down.stderr[-3000:])
    assert "Traceback" not in down.stderr + down.stdout
    errors = [ln for ln in down.stderr.splitlines() if ln.startswith("harness: error:")]
    assert len(errors) == 1, down.stderr[-3000:]
    assert "503" in errors[0] and "UNAVAILABLE" in errors[0] and "re-run the same command to resume" in errors[0]
    assert "API key" not in errors[0] and API_KEY not in down.stderr

    (failed,) = mlflow_runs(work)
    assert failed.info.status == "FAILED" and "503" in failed.data.tags["harness.failure"]
    kept = cache_rows(work / "cache.sqlite")
    assert 2 * CHUNK - CHUNK <= kept < N  # what finished before the outage is kept
    assert result_dirs(work) == []  # a failed run leaves no results folder that could pass for complete
    # the run gave up after one chunk's retry budget, not after retrying every remaining request
    assert len(fake.generate_calls()) <= kept + 6 * CHUNK + CHUNK

    fake.set_faults(Faults())
    with fake._lock:
        fake.log.clear()
    back = run(args, work)
    assert back.returncode == 0, back.stderr[-3000:]
    asked = request_counts(fake)
    assert sum(asked.values()) == N - kept  # only what had not finished
    (done,) = result_dirs(work)
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    right = sum(fake.answers[r["text"]] == r["label"] for r in rows) / N
    assert json.loads((done / "metrics.json").read_text())["accuracy"] == pytest.approx(right)
    assert sorted(r.info.status for r in mlflow_runs(work)) == ["FAILED", "FINISHED"]
