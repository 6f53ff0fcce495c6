"""End-to-end comparison of runs in a real MLflow store."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from mlflow_runs import log_run, make_rows

from harness.compare import runs as rn
from harness.compare.api import run_compare
from harness.compare.comparison import compare_runs
from harness.compare.config import CompareConfig, load_config
from harness.compare.verdict import Verdict, VerdictRules
from harness.core.errors import ConfigError, RunNotFound, UserError

ROOT = Path(__file__).resolve().parents[2]
N = 300
IMPROVED = 60  # wrong baseline answers the candidate gets right


def _base_scores() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {"accuracy": (rng.random(N) < 0.6).astype(float), "rougeL": rng.uniform(0.2, 0.6, N)}


def _improved_scores() -> dict[str, np.ndarray]:
    base = _base_scores()
    acc = base["accuracy"].copy()
    wrong = np.flatnonzero(acc == 0)[:IMPROVED]
    acc[wrong] = 1.0
    rouge = base["rougeL"].copy()
    rouge[:100] += 0.05
    return {"accuracy": acc, "rougeL": rouge}


@pytest.fixture(scope="module")
def store(tracking_uri: str) -> dict[str, str]:
    base = _base_scores()
    ids = {
        "base": log_run(tracking_uri, make_rows(base, cost_usd=0.002), model="gemma-base"),
        "tuned": log_run(
            tracking_uri, make_rows(_improved_scores(), cost_usd=0.003), model="gemma-tuned", variant="lora"
        ),
        "same_cheaper": log_run(tracking_uri, make_rows(base, cost_usd=0.001), model="gemma-distilled"),
        "identical": log_run(tracking_uri, make_rows(base, cost_usd=0.002), model="gemma-copy"),
        "other_data": log_run(tracking_uri, make_rows(base), model="gemma-x", fingerprint="fp-2"),
        "fewer_ids": log_run(tracking_uri, make_rows({k: v[:-5] for k, v in base.items()}), model="gemma-y"),
    }
    return ids


def _load(uri: str, run_id: str) -> rn.RunData:
    return rn.find_run(rn.Selector(run_id), uri)


def test_planted_improvement_is_significant_with_the_right_effect(tracking_uri: str, store: dict[str, str]) -> None:
    comp = compare_runs(
        _load(tracking_uri, store["base"]),
        [_load(tracking_uri, store["tuned"])],
        "accuracy",
        VerdictRules(),
        tuning_cost_usd=50.0,
    )
    cand = comp.candidates[0]
    acc = cand.metric("accuracy")
    assert acc.binary and acc.test.test == "mcnemar"
    assert acc.delta.estimate == pytest.approx(IMPROVED / N)
    assert acc.delta.low > 0.1
    assert acc.n_better == IMPROVED and acc.n_worse == 0
    assert acc.significant and acc.verdict is Verdict.PAYS_OFF
    rouge = cand.metric("rougeL")
    assert not rouge.binary and rouge.test.test == "t"
    assert rouge.secondary is not None and rouge.secondary.test == "wilcoxon"
    assert rouge.delta.estimate == pytest.approx(100 * 0.05 / N)
    assert rouge.verdict is Verdict.PAYS_OFF
    assert cand.verdict is Verdict.PAYS_OFF
    # the tuned model costs more per request: tuning never pays for itself in money
    assert math.isinf(cand.break_even_requests)
    assert "PAYS OFF on accuracy (+0.2000" in comp.headline()
    assert "break-even never" in comp.headline()


def test_identical_runs_no_significant_difference(tracking_uri: str, store: dict[str, str]) -> None:
    comp = compare_runs(
        _load(tracking_uri, store["base"]), [_load(tracking_uri, store["identical"])], "accuracy", VerdictRules()
    )
    acc = comp.candidates[0].metric("accuracy")
    assert acc.delta.estimate == 0 and acc.p_holm == 1.0
    assert comp.candidates[0].verdict is Verdict.NO_DIFFERENCE
    # two tests (accuracy, rougeL): the MDE is at Holm's alpha / 2 = .025, where exact McNemar needs
    # 7 one-way discordant pairs (2 * .5**6 = .031 is not below .025, 2 * .5**7 = .016 is)
    assert acc.mde == pytest.approx(7 / N)
    assert "MDE=" in comp.headline()


def test_same_quality_cheaper_pays_off_and_breaks_even(tracking_uri: str, store: dict[str, str]) -> None:
    comp = compare_runs(
        _load(tracking_uri, store["base"]),
        [_load(tracking_uri, store["same_cheaper"])],
        "accuracy",
        VerdictRules(),
        tuning_cost_usd=10.0,
    )
    cand = comp.candidates[0]
    assert cand.verdict is Verdict.PAYS_OFF
    assert cand.break_even_requests == pytest.approx(10.0 / 0.001)
    assert cand.ops.cost_per_1k == pytest.approx(1.0)


def test_mismatched_runs_are_user_errors_naming_both(tracking_uri: str, store: dict[str, str]) -> None:
    base = _load(tracking_uri, store["base"])
    for key in ("other_data", "fewer_ids"):
        other = _load(tracking_uri, store[key])
        with pytest.raises(UserError) as err:
            rn.align(base, other)
        assert store["base"] in str(err.value) and store[key] in str(err.value)


def test_unknown_primary_metric_suggests(tracking_uri: str, store: dict[str, str]) -> None:
    base = _load(tracking_uri, store["base"])
    with pytest.raises(ConfigError, match="did you mean: accuracy"):
        compare_runs(base, [base], "acuracy", VerdictRules())


def test_resolve_by_model_and_missing_runs(tracking_uri: str, store: dict[str, str]) -> None:
    assert rn.find_run(rn.Selector("gemma-tuned", task="sst2"), tracking_uri).run_id == store["tuned"]
    with pytest.raises(RunNotFound):
        rn.find_run(rn.Selector("no-such-model", task="sst2"), tracking_uri)
    with pytest.raises(RunNotFound):
        rn.find_run(rn.Selector("0" * 32), tracking_uri)


def test_unfinished_runs_are_ignored(tracking_uri: str) -> None:
    rows = make_rows({"accuracy": [1.0] * 40})
    log_run(tracking_uri, rows, model="half-done", status="FAILED")
    with pytest.raises(RunNotFound):
        rn.find_run(rn.Selector("half-done", task="sst2"), tracking_uri)


def test_run_compare_writes_reports_and_logs_a_comparison_run(
    tracking_uri: str, store: dict[str, str], tmp_path: Path
) -> None:
    cfg = CompareConfig(
        baseline="gemma-base",
        candidates=["gemma-tuned", store["same_cheaper"]],
        task="sst2",
        primary_metric="accuracy",
        tracking_uri=tracking_uri,
        out_dir=str(tmp_path),
    )
    out = run_compare(cfg)
    assert out.out_dir.parent == tmp_path
    md = out.markdown.read_text()
    assert "| accuracy (primary) | McNemar (exact)" in md.replace(store["tuned"][:8], "")
    # a continuous metric names the test its verdict used (paired t), Wilcoxon only as the secondary p
    assert "| rougeL | paired t (Wilcoxon p=" in md
    assert "USD / 1k req" in md and "break-even" in md
    html = out.html.read_text()
    assert html.count("data:image/png;base64,") == 2
    assert "<script" not in html
    summary = json.loads((out.out_dir / "comparison.json").read_text())
    assert [c["verdict"] for c in summary["candidates"]] == ["pays off", "pays off"]
    assert out.mlflow_run_id
    run = MlflowClient(tracking_uri).get_run(out.mlflow_run_id)
    assert run.data.tags["harness.compare.baseline"] == store["base"]
    assert run.data.tags["harness.compare.candidates"] == f"{store['tuned']},{store['same_cheaper']}"
    tags, exp = run.data.tags, run.info.experiment_id
    assert (tags["harness.compare.run.baseline"], tags["harness.compare.run.c0"], tags["harness.compare.run.c1"]) == (
        store["base"], store["tuned"], store["same_cheaper"])
    for rid in (store["base"], store["tuned"], store["same_cheaper"]):
        assert f"(#/experiments/{exp}/runs/{rid})" in tags["mlflow.note.content"]
    arts = {a.path for a in MlflowClient(tracking_uri).list_artifacts(out.mlflow_run_id)}
    assert {"report.md", "report.html", "comparison.json"} <= arts


def test_compare_yaml_composes() -> None:
    cfg = load_config(["baseline=a", "candidates=[b,c]", "primary_metric=accuracy", "margin=0.02"])
    assert isinstance(cfg, CompareConfig)
    assert cfg.candidates == ["b", "c"] and cfg.margin == 0.02
    with pytest.raises(ConfigError, match="margn"):
        load_config(["baseline=a", "candidates=[b]", "primary_metric=accuracy", "margn=0.02"])


def test_cli_prints_one_line_verdict(tracking_uri: str, store: dict[str, str], tmp_path: Path) -> None:
    args = [
        f"baseline={store['base']}",
        f"candidates=[{store['identical']}]",
        "primary_metric=accuracy",
        f"tracking_uri={tracking_uri}",
        f"out_dir={tmp_path}",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "harness.compare", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and "NO SIGNIFICANT DIFFERENCE on accuracy" in lines[0]
    bad = subprocess.run(
        [sys.executable, "-m", "harness.compare", "baseline=x"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
