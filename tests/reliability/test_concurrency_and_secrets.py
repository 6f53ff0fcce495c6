"""Promises 5 and 6: two sweeps sharing one cache and one MLflow store; secrets reach no file, log or message."""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.synchronize
import sqlite3
import subprocess
from pathlib import Path

from harness.core.records import Response
from harness.run.cache import ResponseCache
from tests.fakes import gemini_server
from tests.fakes.gemini_server import FAULT_KINDS, Faults
from tests.helpers import ROOT
from tests.reliability.support import (
    API_KEY,
    AWS_SECRET,
    Oracle,
    cache_rows,
    cli_env,
    gemini_args,
    harness_cmd,
    isolated_fast,
    make_dataset,
    mlflow_runs,
)

CLS = ROOT / "tasks" / "classification" / "test.jsonl"


def _open_and_write(path: str, barrier: multiprocessing.synchronize.Barrier, n: int) -> None:
    barrier.wait()  # every process opens the fresh file at the same instant, as parallel sweep cells do
    cache = ResponseCache(Path(path))
    cache.put_many([(f"k{n}", "m", Response(texts=(f"answer {n}",)))])
    cache.close()


def test_processes_opening_one_fresh_cache_at_once_all_succeed(tmp_path: Path) -> None:
    # Without the busy retry around opening, about one trial in four failed with "database is locked"
    # (measured: 14 of 60 trials of 4 processes); 25 trials make a regression all but certain to show.
    ctx = multiprocessing.get_context("fork")
    for trial in range(25):
        path = tmp_path / f"cache{trial}.sqlite"
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_open_and_write, args=(str(path), barrier, n)) for n in range(4)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=120)
        assert [proc.exitcode for proc in procs] == [0, 0, 0, 0], f"trial {trial}"
        assert cache_rows(path) == 4


def test_two_sweeps_at_once_share_cache_and_store_without_damage(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in CLS.read_text().splitlines()]
    # right on every third example only, so a mixed-up answer would show in the metrics
    outputs = {r["id"]: r["label"] if i % 3 == 0 else "no idea" for i, r in enumerate(rows)}
    lines = (json.dumps({"id": k, "output": v}) + "\n" for k, v in outputs.items())
    (tmp_path / "replay.jsonl").write_text("".join(lines))
    common = [*isolated_fast(tmp_path), "model=replay", f"model.path={tmp_path / 'replay.jsonl'}", "chunk_size=10"]
    sweeps = [["-m", "task.shots=0,1", *common], ["-m", "task.shots=1,2", *common]]
    sweeps[1] = [a.replace("multirun", "multirun-b") for a in sweeps[1]]
    procs = [subprocess.Popen(harness_cmd(args), cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for args in sweeps]
    outs = [p.communicate(timeout=500) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]

    runs = [r for r in mlflow_runs(tmp_path) if r.data.tags.get("harness.kind") != "sweep"]  # parents aside
    assert len(runs) == 4 and {r.info.status for r in runs} == {"FINISHED"}
    assert sorted(r.data.params["task.shots"] for r in runs) == ["0", "1", "1", "2"]
    expected = sum(1 for i in range(len(rows)) if i % 3 == 0) / len(rows)
    for r in runs:
        assert r.data.metrics["n_examples"] == len(rows) and r.data.metrics["accuracy"] == expected
    # one row per distinct (prompt, settings): three shot counts, the shared cell stored once
    assert cache_rows(tmp_path / "cache.sqlite") == 3 * len(rows)
    with sqlite3.connect(tmp_path / "cache.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    folders = sorted(p for p in (tmp_path / "results" / "classification" / "replay").iterdir())
    assert len(folders) == 4 and not any((f / "INCOMPLETE").exists() for f in folders)


def test_planted_secrets_reach_no_file_log_or_message(tmp_path: Path) -> None:
    """Extends tests/backends/test_api_end_to_end.py: the CLI with Hydra's logs at DEBUG, a proxy that
    echoes the key in a 400, and an unrelated secret in the environment."""
    data, answers = make_dataset(tmp_path, 40, seed=3)
    fake = Oracle(answers=answers)
    fake.set_faults(Faults(rate=0.3, kinds=(*FAULT_KINDS, "400_leaky"), seed=9, hang_s=1.5, retry_after_s=1))
    _, server = gemini_server.start(fake)
    try:
        proc = subprocess.run(
            harness_cmd(gemini_args(tmp_path, fake.url, data, "retry.max_error_rate=1.0", "retry.max_attempts=10",
                                    "model.timeout_s=1", "hydra.verbose=true")),
            cwd=tmp_path, env=cli_env(AWS_SECRET_ACCESS_KEY=AWS_SECRET), capture_output=True, text=True, timeout=400,
            check=False)
    finally:
        gemini_server.stop(server)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert any(e.headers.get("x-goog-api-key") == API_KEY for e in fake.log)  # the key was used...
    preds = next(tmp_path.glob("results/classification/*/*/predictions.jsonl")).read_text()
    assert "not valid" in preds and "***" in preds  # ...a leaky 400 was recorded, with the key scrubbed
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != data]
    names = {p.name for p in written}
    assert {"mlflow.db", "cache.sqlite", "predictions.jsonl", "hydra_app.log", "config.yaml"} <= names, names
    assert (tmp_path / "mlartifacts").is_dir()
    assert any(p.suffix == ".log" and p.stat().st_size > 0 for p in written)  # DEBUG logging really wrote
    for secret in (API_KEY, AWS_SECRET, API_KEY[4:20]):
        leaks = [str(p) for p in written if secret.encode() in p.read_bytes()]
        assert leaks == [], (secret, leaks)
        assert secret not in proc.stdout + proc.stderr
