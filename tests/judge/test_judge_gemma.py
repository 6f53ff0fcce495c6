"""The embedded Gemma 3 270M as a real (weak) judge on 4 outputs: the figures are computed, whatever they are."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness.judge_check import main


@pytest.mark.slow
def test_gemma_as_judge_check_lands_in_mlflow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ["task=classification", "limit=2", "judge.model=gemma3_270m", "judge.max_new_tokens=8", "judge.retries=1",
            f"out_dir={tmp_path / 'checks'}", f"cache.path={tmp_path / 'cache.sqlite'}", f"tracking.uri={uri}",
            "resamples=200"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "judge_check: judge gemma3_270m (hf:" in out and "kappa" in out
    [summary] = list((tmp_path / "checks").rglob("judge_check.json"))
    data = json.loads(summary.read_text())
    assert data["n"] == 4 and sum(map(sum, data["confusion"])) == 4
    assert data["judge_requests"] >= 4  # 4 first asks, plus a re-ask per unparsable reply
    acc = data["accuracy"]["value"]
    grades = [json.loads(x) for x in (summary.parent / "grades.jsonl").read_text().splitlines()]
    agree = sum(1 for g in grades if g["judge_grade"] is not None
                and (g["judge_grade"] == "pass") == (g["known"] == "correct"))
    assert acc == pytest.approx(agree / 4)  # recomputed from the per-output grades
    run = MlflowClient(uri).get_run(data["mlflow_run_id"])
    assert run.info.status == "FINISHED" and run.data.metrics["judge.accuracy"] == pytest.approx(acc)
    assert ("judge.kappa" in run.data.metrics) == (data["kappa"]["value"] is not None)
    if data["kappa"]["value"] is not None:
        assert not math.isnan(data["kappa"]["value"])
