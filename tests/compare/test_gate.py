"""Release gate: real MLflow store, the CLI run as a subprocess for exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from mlflow_runs import log_run, make_rows

from harness.compare import runs as rn
from harness.core.errors import ConfigError
from harness.core.paths import conf_dir
from harness.gate import cli
from harness.gate.checks import evaluate_gate, run_metrics
from harness.gate.config import load_config

ROOT = Path(__file__).resolve().parents[2]
N = 300
NON_INFERIOR = "accuracy non-inferior to baseline (margin 0.02)"


def _acc() -> np.ndarray:
    rng = np.random.default_rng(11)
    return (rng.random(N) < 0.75).astype(float)


@pytest.fixture(scope="module")
def runs(tracking_uri: str) -> dict[str, str]:
    acc = _acc()
    worse = acc.copy()
    worse[np.flatnonzero(acc == 1)[:30]] = 0.0  # planted regression: 30 right answers lost (-0.10)
    return {
        "released": log_run(
            tracking_uri,
            make_rows({"accuracy": acc}, cost_usd=0.001),
            model="prod",
            extra_tags={"harness.released": "true"},
        ),
        "good": log_run(tracking_uri, make_rows({"accuracy": acc}, cost_usd=0.001), model="cand-good"),
        "regressed": log_run(tracking_uri, make_rows({"accuracy": worse}, cost_usd=0.001), model="cand-bad"),
        "errors": log_run(tracking_uri, make_rows({"accuracy": acc}, errors=range(20)), model="cand-errors"),
        "tiny": log_run(tracking_uri, make_rows({"accuracy": acc[:10]}, prefix="t"), model="cand-tiny"),
    }


def _gate(
    tracking_uri: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "harness.gate",
        "gate=release",
        "gate.task=sst2",
        f"tracking_uri={tracking_uri}",
        f"out_dir={tmp_path / 'out'}",
        f"junit={tmp_path / 'junit.xml'}",
        *args,
    ]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def _junit_failures(path: Path) -> dict[str, str]:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    out = {}
    for case in suite.findall("testcase"):
        failure = case.find("failure")
        if failure is not None:
            out[case.get("name", "")] = failure.get("message", "")
    return out


def test_good_candidate_passes(tracking_uri: str, runs: dict[str, str], tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    proc = _gate(tracking_uri, tmp_path, f"candidate={runs['good']}", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 0, proc.stderr
    assert "PASSED 5 checks" in proc.stdout
    root = ET.parse(tmp_path / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "5" and suite.get("failures") == "0"
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "## Gate `release`: PASSED" in text


def test_planted_regression_fails_with_exit_1_naming_the_check(
    tracking_uri: str, runs: dict[str, str], tmp_path: Path
) -> None:
    proc = _gate(tracking_uri, tmp_path, "candidate=cand-bad")  # by model name: latest FINISHED run
    assert proc.returncode == 1, proc.stderr
    assert NON_INFERIOR in proc.stdout
    failures = _junit_failures(tmp_path / "junit.xml")
    assert failures == {NON_INFERIOR: f"check failed: {NON_INFERIOR}"}
    md = next((tmp_path / "out").glob("release-*/gate.md")).read_text()
    assert "**FAIL**" in md and runs["released"] in md


def test_error_rate_and_tiny_sample_fail(tracking_uri: str, runs: dict[str, str]) -> None:
    gate = load_config(["gate=release", "gate.task=sst2"]).gate
    res = evaluate_gate(gate, rn.find_run(rn.Selector(runs["errors"]), tracking_uri), tracking_uri)
    assert [c.name for c in res.failed] == ["error_rate <= 0.02"]
    assert run_metrics(res.candidate)["error_rate"] == pytest.approx(20 / N)
    tiny = rn.find_run(rn.Selector(runs["tiny"]), tracking_uri)
    # 10 examples cannot show non-inferiority, even with accuracy equal to the baseline's
    gate.baseline.run = log_run(tracking_uri, make_rows({"accuracy": _acc()[:10]}, prefix="t"), model="tiny-base")
    res = evaluate_gate(gate, tiny, tracking_uri)
    assert NON_INFERIOR in [c.name for c in res.failed]
    assert "too few" in next(c.detail for c in res.failed if c.name == NON_INFERIOR)


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["gate=relase"], "did you mean: release"),
        (["candidate=cand-good", "gate.checks.0.metric=acuracy"], "did you mean: accuracy"),
    ],
)
def test_config_errors_exit_2_with_one_line(
    tracking_uri: str, runs: dict[str, str], tmp_path: Path, args: list[str], expect: str
) -> None:
    proc = _gate(tracking_uri, tmp_path, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "junit.xml").exists()


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["candidate=no-such-model"], "no FINISHED run"),
        ([], "no candidate run"),
        (["candidate=cand-good", "gate.checks.1.min=0.1"], "exactly one of min, max"),
        (["candidate=cand-good", "gate.checks.0.bound=ci_high"], "bound must be value or ci_low"),
        (["candidate=cand-good", "gate.baseline.run=never-released"], "no FINISHED run"),
        (["candidate=cand-good", "gate.min_n=lots"], "gate.min_n"),
        (["candidate=cand-good", "gate.checks=[]"], "has no checks"),
    ],
)
def test_more_config_errors_exit_2_in_process(
    tracking_uri: str,
    runs: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expect: str,
) -> None:
    argv = ["gate=release", "gate.task=sst2", f"tracking_uri={tracking_uri}", f"out_dir={tmp_path}", *args]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expect in err[0]


def test_every_gate_yaml_composes() -> None:
    names = sorted(p.stem for p in (conf_dir() / "gate").glob("*.yaml"))
    assert names
    for name in names:
        cfg = load_config([f"gate={name}"])
        assert cfg.gate.name == name and cfg.gate.checks
        for check in cfg.gate.checks:
            assert check.title


def test_unknown_key_in_gate_is_config_error() -> None:
    with pytest.raises(ConfigError, match="threshold"):
        load_config(["gate=release", "gate.checks.0.threshold=1"])
