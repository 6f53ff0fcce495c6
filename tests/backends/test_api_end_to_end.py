"""A whole run through the Gemini backend against the fake server; the planted key is nowhere on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.load import compose_run
from harness.run.runner import evaluate
from tests.fakes.gemini_server import FakeGemini, Faults


def test_classification_run_on_fake_gemini_never_writes_the_key(
    gemini_fake: FakeGemini, planted_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    gemini_fake.set_faults(Faults(rate=0.2, kinds=("429", "503", "truncated"), seed=2))
    cfg = compose_run(
        [
            "task=classification",
            "model=gemini_flash",
            f"model.base_url={gemini_fake.url}",
            f"results_dir={tmp_path / 'results'}",
            f"cache.path={tmp_path / 'results' / 'cache.sqlite'}",
            f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}",
            "retry.initial_backoff_s=0.01",
            "retry.max_backoff_s=0.05",
            "progress=false",
        ]
    )
    result = evaluate(cfg, quiet=True)
    assert len(result.examples) > 0 and all(ex.response.ok for ex in result.examples)
    assert result.examples[0].response.text.startswith("echo: ")
    assert any(e.headers.get("x-goog-api-key") == planted_key for e in gemini_fake.log)  # it was used...
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"mlflow.db", "cache.sqlite"} <= {p.name for p in written} and any(p.suffix == ".jsonl" for p in written)
    leaks = [p for p in written if planted_key.encode() in p.read_bytes()]
    assert leaks == []  # ...and written nowhere: results, cache, MLflow store, artifacts
