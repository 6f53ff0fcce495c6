"""The old synthetic split (tests/fixtures/leaky_classification): the audit flags it, and a comparison of real
runs made on it carries `CAUTION: leakage` in the console, the reports and MLflow; gates see it too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from mlflow_runs import artifact_root, log_run, make_rows

from harness.audit.audit import AuditSettings, TrainItem, run_audit
from harness.compare import cli as compare_cli
from harness.compare.api import run_compare
from harness.compare.config import CompareConfig
from harness.compare.runs import Selector, find_run
from harness.core.paths import ROOT
from harness.gate.checks import evaluate_gate
from harness.gate.config import CheckConfig, GateConfig
from harness.run.runner import evaluate
from tests.helpers import run_config

LEAKY = ROOT / "tests" / "fixtures" / "leaky_classification"


def _rows(name: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (LEAKY / name).read_text().splitlines() if line.strip()]


def test_old_split_is_flagged_template() -> None:
    test, train = _rows("test.jsonl"), _rows("train.jsonl")
    items = run_audit([(r["id"], r["text"]) for r in test], [TrainItem("train", r["id"], r["text"]) for r in train],
                      AuditSettings())
    assert sum(f.template for f in items) / len(items) >= 0.95


def _replay(path: Path, wrong_from: int) -> Path:
    other = {"positive": "negative", "negative": "neutral", "neutral": "positive"}
    with path.open("w") as fh:
        for i, row in enumerate(_rows("test.jsonl")):
            fh.write(json.dumps({"id": row["id"], "output": row["label"] if i < wrong_from else other[row["label"]]})
                     + "\n")
    return path


@pytest.fixture(scope="module")
def leaky_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str, Path]:
    """A 'base' and a 'tuned' replay run on the leaky split; the tuned one answers every item right."""
    tmp = tmp_path_factory.mktemp("leaky")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    MlflowClient(uri).create_experiment("harness", artifact_location=artifact_root(uri))
    ids = []
    for name, wrong_from in (("replay-base", 40), ("replay-tuned", 99)):
        cfg = run_config(
            tmp, "task=classification", "model=replay", f"model.path={_replay(tmp / f'{name}.jsonl', wrong_from)}",
            f"model.name={name}", "cache.enabled=false", f"task.data.path={LEAKY / 'test.jsonl'}",
            f"task.data.train_path={LEAKY / 'train.jsonl'}", "tracking.traces=false",
        )
        result = evaluate(cfg, quiet=True)
        assert result.mlflow_run_id
        ids.append(result.mlflow_run_id)
    return ids[0], ids[1], uri, tmp


def test_run_records_flags_and_clean_metrics(leaky_runs: tuple[str, str, str, Path]) -> None:
    _, tuned, uri, tmp = leaky_runs
    run = find_run(Selector(tuned), uri)
    assert run.metrics["leakage.template"] >= 0.95 and run.metrics["leakage.any.count"] >= 95
    flagged = sum(1 for r in run.rows if r.leaked)
    assert run.metrics["n_clean"] == 99 - flagged
    assert run.metrics["accuracy.clean"] == 1.0  # every item right, so the clean ones too
    folder = next((tmp / "results" / "classification" / "replay-tuned").iterdir())
    row = json.loads((folder / "predictions.jsonl").read_text().splitlines()[0])
    assert row["leakage.template"] is True and row["leakage.match"].startswith("train:train-")
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["leakage.any"] == run.metrics["leakage.any"]
    assert any((tmp / "results" / ".cache" / "audit").glob("*.json"))  # the second run found it there


def test_comparison_carries_caution(leaky_runs: tuple[str, str, str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base, tuned, uri, tmp = leaky_runs
    out = run_compare(CompareConfig(baseline=base, candidates=[tuned], tracking_uri=uri, out_dir=str(tmp / "cmp")))
    lv = out.leakage
    assert lv is not None and lv.caution
    assert out.comparison.candidates[0].verdict.value == "pays off"  # on all items
    assert lv.verdicts[0].verdict_clean != "pays off"  # 2 clean items cannot show it
    assert "CAUTION: leakage" in out.markdown.read_text() and "## Leakage" in out.markdown.read_text()
    assert "CAUTION: leakage" in out.html.read_text()
    assert out.mlflow_run_id
    tags = MlflowClient(uri).get_run(out.mlflow_run_id).data.tags
    assert tags["harness.compare.caution"] == "leakage"
    assert compare_cli.main([f"baseline={base}", f"candidates=[{tuned}]", f"tracking_uri={uri}",
                             f"out_dir={tmp / 'cmp2'}", "log_to_mlflow=false"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "CAUTION: leakage" and "PAYS OFF on accuracy" in lines[1]  # the caution leads the verdicts


def test_no_caution_without_leakage(leaky_runs: tuple[str, str, str, Path], tmp_path: Path) -> None:
    tracking_uri = leaky_runs[2]  # the same store: a new one costs seconds
    rows_b = make_rows({"accuracy": [i % 2 for i in range(60)]})
    rows_c = make_rows({"accuracy": [1] * 60})
    for rows in (rows_b, rows_c):
        for r in rows:
            r["leakage.any"] = False
    extra = {"leakage.any": 0.0}
    b = log_run(tracking_uri, rows_b, metrics={**extra, "n_examples": 60.0}, task="other")
    c = log_run(tracking_uri, rows_c, model="gemma-lora", variant="lora", metrics={**extra, "n_examples": 60.0},
                task="other", extra_tags={"harness.leakage.unknown": "tuning"})
    out = run_compare(CompareConfig(baseline=b, candidates=[c], tracking_uri=tracking_uri, primary_metric="accuracy",
                                    out_dir=str(tmp_path), log_to_mlflow=False))
    assert out.leakage is not None and not out.leakage.caution
    assert out.leakage.verdicts[0].verdict_clean == out.leakage.verdicts[0].verdict_all == "pays off"
    assert "CAUTION" not in out.markdown.read_text()
    assert "Tuning data unknown" in out.markdown.read_text()  # the tuned run without provenance is named


def test_gate_max_leakage_and_clean_subset(leaky_runs: tuple[str, str, str, Path]) -> None:
    base, tuned, uri, _ = leaky_runs
    cand = find_run(Selector(tuned), uri)
    gate = GateConfig(name="g", baseline=_baseline(base), max_leakage=0.05, checks=[
        CheckConfig(metric="accuracy", non_inferior_margin=0.02),
        CheckConfig(metric="accuracy", non_inferior_margin=0.02, subset="clean"),
    ])
    result = evaluate_gate(gate, cand, uri)
    by_name = {c.name: c for c in result.checks}
    assert by_name["accuracy non-inferior to baseline (margin 0.02)"].passed
    clean = by_name["accuracy non-inferior to baseline on the clean subset (margin 0.02)"]
    assert not clean.passed and "clean subset (2 items)" in clean.detail  # below min_n
    assert not by_name["leakage.any <= 0.05"].passed


def _baseline(run_id: str) -> object:
    from harness.gate.config import BaselineConfig

    return BaselineConfig(run=run_id)
