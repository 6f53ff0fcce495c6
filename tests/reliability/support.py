"""Shared pieces of the reliability suite: a synthetic data set, an oracle Gemini fake, CLI runs, store reads.

Everything here is real: real `python -m harness` processes, a real SQLite
cache and MLflow store in a temp folder, and the fake Gemini REST server
(tests/fakes/gemini_server.py) reached through the real google-genai SDK.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fakes.gemini_server import FakeGemini

LABELS = ("positive", "negative", "neutral")
CHUNK = 25
API_KEY = "AIzaRELIABILITY-planted-0123456789abcdef"
AWS_SECRET = "aws-secret-planted-9f8e7d6c5b4a"


def prompt_of(body: Any) -> str:
    """The user text of a generateContent body, as the fake server reads it."""
    return " ".join(
        p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", []) if c.get("role") == "user"
    )


@dataclass
class Oracle(FakeGemini):
    """A fake Gemini that answers each review with a fixed label (right for most, wrong for some)."""

    answers: dict[str, str] = field(default_factory=dict)

    def reply_text(self, prompt: str) -> str:
        review = prompt.rsplit("Review: ", 1)[-1].split("\nSentiment:", 1)[0].strip()
        return self.answers.get(review, "no idea")

    def generate_calls(self) -> list[str]:
        """The prompt of every generateContent call, in arrival order."""
        with self._lock:
            return [prompt_of(e.body) for e in self.log if e.method == "POST" and e.path.endswith(":generateContent")]


def make_dataset(folder: Path, n: int, seed: int = 7) -> tuple[Path, dict[str, str]]:
    """`n` classification rows (id, text, label) and the oracle's answer to each text."""
    rng = random.Random(seed)
    rows, answers = [], {}
    for i in range(n):
        label = LABELS[i % 3]
        text = f"Review {i:04d} of product {rng.randrange(10**6)}: it was {'great' if i % 3 == 0 else 'fine'}."
        wrong = rng.random() < 0.2
        answers[text] = rng.choice([x for x in LABELS if x != label]) if wrong else label
        rows.append({"id": f"r{i:04d}", "text": text, "label": label})
    path = folder / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path, answers


def gemini_args(tmp: Path, url: str, data: Path, *extra: str, cli: bool = True) -> list[str]:
    """Overrides: classification on `data` with gemini_flash at the fake server, all state inside `tmp`."""
    return [
        "task=classification",
        f"task.data.path={data}",
        "task.data.train_path=null",
        "model=gemini_flash",
        f"model.base_url={url}",
        "model.concurrency=4",
        "model.timeout_s=2",
        "retry.initial_backoff_s=0.01",
        "retry.max_backoff_s=0.05",
        f"chunk_size={CHUNK}",
        *isolated_fast(tmp, cli=cli),
        *extra,
    ]


def isolated_fast(tmp: Path, cli: bool = True) -> list[str]:
    """tests.helpers.isolated plus cheap settings that keep runs short on a loaded CPU (and Hydra's
    own output folders inside `tmp` when `cli`)."""
    hydra = [f"hydra.run.dir={tmp / 'results' / '.hydra' / 'run'}",
             f"hydra.sweep.dir={tmp / 'results' / '.hydra' / 'multirun'}"] if cli else []
    return [
        f"results_dir={tmp / 'results'}",
        f"cache.path={tmp / 'cache.sqlite'}",
        f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}",
        "progress=false",
        "bootstrap_resamples=0",
        "tracking.log_table=false",
        *hydra,
    ]


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY", "HARNESS_TEST_PAUSE_AT")}
    env.update(GEMINI_API_KEY=API_KEY, PYTHONUNBUFFERED="1", **extra)
    return env


def harness_cmd(args: list[str], module: str = "harness") -> list[str]:
    return [sys.executable, "-m", module, *args]


def run(args: list[str], tmp: Path, env: dict[str, str] | None = None, timeout: float = 300,
        module: str = "harness") -> subprocess.CompletedProcess[str]:
    return subprocess.run(harness_cmd(args, module), cwd=tmp, env=env or cli_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


class Paused:
    """A harness process started with HARNESS_TEST_PAUSE_AT, waited on until it reports the pause."""

    def __init__(self, args: list[str], tmp: Path, stage: str, timeout: float = 240) -> None:
        self.stage = stage
        self.proc = subprocess.Popen(harness_cmd(args), cwd=tmp, env=cli_env(HARNESS_TEST_PAUSE_AT=stage),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        watchdog = threading.Timer(timeout, self.proc.kill)
        watchdog.start()
        try:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.append(line)
                if line.startswith("harness: paused at"):
                    break
        finally:
            watchdog.cancel()
        assert self.lines and self.lines[-1].startswith(f"harness: paused at {stage.split(':')[0]}"), (
            f"never paused at {stage}; rc={self.proc.poll()}\n{''.join(self.lines)[-3000:]}"
        )

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        self.proc.wait()
        assert self.proc.stderr is not None
        self.proc.stderr.close()


def kill_at_random(args: list[str], tmp: Path, rng: random.Random, after_rows: int, timeout: float = 240) -> int:
    """Start a run, SIGKILL it a random 0-0.4 s after the cache holds `after_rows` rows; returns the rows then."""
    proc = subprocess.Popen(harness_cmd(args), cwd=tmp, env=cli_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while cache_rows(tmp / "cache.sqlite") < after_rows:
            assert proc.poll() is None, f"the run ended (rc={proc.returncode}) before it could be killed"
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.4))
    finally:
        proc.kill()
        proc.wait()
    return cache_rows(tmp / "cache.sqlite")


def cache_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return int(con.execute("SELECT count(*) FROM responses").fetchone()[0])
    except sqlite3.Error:
        return 0


def mlflow_runs(tmp: Path, experiment: str = "harness") -> list[Any]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}")
    exp = client.get_experiment_by_name(experiment)
    return [] if exp is None else list(client.search_runs([exp.experiment_id], max_results=1000))


def result_dirs(tmp: Path) -> list[Path]:
    """Every results folder (one per attempt that got as far as writing results), oldest first."""
    base = tmp / "results"
    return sorted(p for p in base.glob("*/*/*") if p.is_dir() and not any(
        part.startswith(".") for part in p.relative_to(base).parts))


def quality(metrics: dict[str, float]) -> dict[str, float]:
    """metrics.json without wall-clock measurements."""
    return {k: v for k, v in metrics.items() if "latency" not in k}


def request_counts(fake: Oracle) -> Counter[str]:
    return Counter(fake.generate_calls())
