"""Two real runs made by harness.run.runner.evaluate (replay backend), compared and gated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from mlflow_runs import artifact_root

from harness.compare.api import run_compare
from harness.compare.config import CompareConfig
from harness.compare.verdict import Verdict
from harness.core.paths import ROOT
from harness.gate import cli as gate_cli
from harness.run.runner import evaluate
from tests.helpers import run_config

DATA = ROOT / "tasks" / "classification" / "test.jsonl"
FIXED = 40  # examples the candidate gets right that the baseline gets wrong


def _replay_file(path: Path, wrong_from: int) -> Path:
    """Correct labels for the first `wrong_from` examples, a wrong label for the rest."""
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    other = {"positive": "negative", "negative": "neutral", "neutral": "positive"}
    with path.open("w") as fh:
        for i, row in enumerate(rows):
            label = row["label"] if i < wrong_from else other[row["label"]]
            fh.write(json.dumps({"id": row["id"], "output": label}) + "\n")
    return path


@pytest.fixture(scope="module")
def real_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str, Path]:
    tmp = tmp_path_factory.mktemp("real")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    MlflowClient(uri).create_experiment("harness", artifact_location=artifact_root(uri))
    ids = []
    for name, wrong_from in (("replay-base", 50), ("replay-tuned", 50 + FIXED)):
        cfg = run_config(
            tmp,
            "task=classification",
            "model=replay",
            f"model.path={_replay_file(tmp / f'{name}.jsonl', wrong_from)}",
            f"model.name={name}",
            "cache.enabled=false",
        )
        result = evaluate(cfg, quiet=True)
        assert result.mlflow_run_id
        ids.append(result.mlflow_run_id)
    return ids[0], ids[1], uri, tmp


def test_compare_two_real_runs(real_runs: tuple[str, str, str, Path]) -> None:
    base, tuned, uri, tmp = real_runs
    cfg = CompareConfig(baseline=base, candidates=[tuned], tracking_uri=uri, out_dir=str(tmp / "compare"))
    out = run_compare(cfg)  # primary metric from the runs' own harness.primary_metric tag
    comp = out.comparison
    assert comp.primary == "accuracy"
    acc = comp.candidates[0].metric("accuracy")
    n = acc.n
    assert n == 99
    assert acc.delta.estimate == pytest.approx(FIXED / n)
    assert (acc.n_better, acc.n_worse) == (FIXED, 0)
    assert comp.candidates[0].verdict is Verdict.PAYS_OFF


def test_gate_on_real_runs_by_model_name(
    real_runs: tuple[str, str, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, _, uri, tmp = real_runs
    args = [
        "gate=release",
        "gate.task=classification",
        f"tracking_uri={uri}",
        f"out_dir={tmp / 'gate'}",
        f"gate.baseline.run={base}",
        "gate.checks.0.min=0.5",
    ]
    assert gate_cli.main([*args, "candidate=replay-tuned"]) == 0
    # the baseline against itself's better sibling: accuracy floor on CI low 0.5 fails for the base run
    assert gate_cli.main([*args, "candidate=replay-base"]) == 1
    assert "accuracy.ci_low >= 0.5" in capsys.readouterr().out


def test_gate_evaluate_hook_runs_the_candidate_first(
    real_runs: tuple[str, str, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base, _, uri, tmp = real_runs
    replay = _replay_file(tmp / "hook.jsonl", 50 + FIXED)
    evaluate_overrides = [
        "task=classification",
        "model=replay",
        f"model.path={replay}",
        "model.name=replay-hook",
        f"results_dir={tmp / 'results'}",
        "cache.enabled=false",
        "progress=false",
        "bootstrap_resamples=200",
    ]
    args = [
        "gate=release",
        "gate.task=classification",
        f"tracking_uri={uri}",
        f"out_dir={tmp / 'gate'}",
        f"gate.baseline.run={base}",
        "evaluate=[" + ",".join(f"'{o}'" for o in evaluate_overrides) + "]",
    ]
    assert gate_cli.main(args) == 0
    out = capsys.readouterr().out
    hook_run = out.split("on run ")[1].split()[0]
    assert MlflowClient(uri).get_run(hook_run).data.tags["harness.model"] == "replay-hook"
