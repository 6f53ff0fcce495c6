"""`python -m harness.judge_check`: agreement with known correctness and with human labels, biased judges, bad input.

Real parts: the entry point (`main`, one-line errors and exit codes), the judge through
the Gemini backend against the local server (scripted judge), the response cache, a
sqlite MLflow store; golden kappa values from sklearn on the tables the rules imply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import cohen_kappa_score

from harness.judge_check import main
from tests.fakes.fixtures import planted_key  # noqa: F401 - fixture
from tests.judge.scripted import ScriptedJudge, always_pass, fair, serve_judge

TEST_IDS = ["test-000", "test-001", "test-002", "test-003"]


@pytest.fixture
def fair_server(planted_key: str) -> Iterator[ScriptedJudge]:  # noqa: F811 - the fixture above
    with serve_judge(fair) as server:
        yield server


def _args(tmp: Path, url: str, *extra: str) -> list[str]:
    return ["task=classification", "limit=6", "judge.model=gemini_flash", f"judge.model_overrides=['base_url={url}']",
            f"out_dir={tmp / 'checks'}", f"cache.path={tmp / 'cache.sqlite'}", "resamples=200",
            f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}", "retry.initial_backoff_s=0.01", *extra]


def test_a_fair_judge_agrees_perfectly_and_compare_can_find_it(
    fair_server: ScriptedJudge, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_args(tmp_path, fair_server.url)) == 0
    out = capsys.readouterr().out
    assert "kappa        1.000" in out and "accuracy     1.000" in out and "judge OK" in out
    assert "CAUTION" not in out
    assert fair_server.judge_calls() == 12  # 6 items x (reference, wrong label)
    [summary] = list((tmp_path / "checks").rglob("judge_check.json"))
    data = json.loads(summary.read_text())
    assert (data["n"], data["kappa"]["value"], data["weak"], data["mode"]) == (12, 1.0, False, "known")
    grades = [json.loads(x) for x in (summary.parent / "grades.jsonl").read_text().splitlines()]
    assert {(g["known"], g["judge_grade"]) for g in grades} == {("correct", "pass"), ("incorrect", "fail")}
    # how harness.compare finds the check of a judge: tag harness.judge.identity, metric judge.kappa
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    [run] = client.search_runs([e.experiment_id for e in client.search_experiments()],
                               f"tags.`harness.judge.identity` = '{data['identity']}'")
    assert run.info.status == "FINISHED" and run.data.tags["harness.kind"] == "judge_check"
    assert run.data.metrics["judge.kappa"] == 1.0 and run.data.metrics["judge.accuracy"] == 1.0
    assert run.info.run_id == data["mlflow_run_id"]


def test_a_judge_that_always_says_pass_has_kappa_zero_and_is_weak(
    planted_key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811 - the fixture above
) -> None:
    with serve_judge(always_pass) as server:
        assert main(_args(tmp_path, server.url, "tracking.enabled=false")) == 0
    out = capsys.readouterr().out
    assert "accuracy     0.500" in out and "kappa        0.000" in out  # right on every correct output, no skill
    assert "CAUTION: weak judge: kappa 0.000 < 0.4" in out
    [summary] = list((tmp_path / "checks").rglob("judge_check.json"))
    assert json.loads(summary.read_text())["weak"] is True


def test_human_labels_as_the_calibration_set(
    fair_server: ScriptedJudge, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refs = {json.loads(x)["id"]: json.loads(x)["label"] for x in
            Path("tasks/classification/test.jsonl").read_text().splitlines()}
    # outputs: the reference (the fair judge says pass) or 'neutral'/'positive' (fail unless it is the reference);
    # human grades chosen so the people disagree with the judge on two rows
    rows = [("test-000", refs["test-000"], "pass"), ("test-001", "neutral", "fail"),
            ("test-002", refs["test-002"], "pass"), ("test-003", "positive", "pass"),
            ("test-004", refs["test-004"], "fail"), ("test-005", "neutral", "fail")]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps({"id": i, "output": o, "grade": g, "rater": "ann"}) + "\n"
                              for i, o, g in rows))
    human = [g for _, _, g in rows]
    judge = ["pass" if o == refs[i] else "fail" for i, o, _ in rows]
    assert main(_args(tmp_path, fair_server.url, f"calibration={labels}", "tracking.enabled=false")) == 0
    [summary] = list((tmp_path / "checks").rglob("judge_check.json"))
    data = json.loads(summary.read_text())
    assert data["mode"] == "calibration" and data["n"] == 6
    assert data["kappa"]["value"] == pytest.approx(cohen_kappa_score(human, judge))
    assert data["accuracy"]["value"] == pytest.approx(sum(h == j for h, j in zip(human, judge, strict=True)) / 6)
    assert "human labels: 6 outputs" in capsys.readouterr().out


def _labels(tmp: Path, *rows: object) -> Path:
    path = tmp / "labels.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ([{"id": "test-000", "output": "x", "grade": "pass"}, {"id": "nope-1", "output": "x", "grade": "pass"}],
         "labels.jsonl:2: unknown item id 'nope-1'"),
        ([{"id": "test-000", "output": "x", "grade": "great"}],
         "labels.jsonl:1: grade 'great' is not on the judge's scale"),
        ([{"id": "test-000", "output": "x"}], "labels.jsonl:1: missing grade"),
        (["{not json"], "labels.jsonl:1: not JSON"),
        ([], "has no rows"),
    ],
)
def test_bad_calibration_files_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[object], needle: str
) -> None:
    path = _labels(tmp_path, *rows)
    assert main(_args(tmp_path, "http://127.0.0.1:9", f"calibration={path}")) == 2
    err = capsys.readouterr().err
    assert err.startswith("harness.judge_check: error: ") and needle in err and err.count("\n") == 1
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["judge.model=nope"], "judge.model=nope: unknown model 'nope'"),
        (["judge.grades=[]"], "task.judge.grades is empty"),
        (["judge.template=bad.jinja"], "does not render"),
        (["calibration=/no/such/labels.jsonl"], "calibration file not found: /no/such/labels.jsonl"),
        (["judge.modle=x"], "task.judge.modle"),
    ],
)
def test_bad_judge_settings_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    assets = tmp_path / "assets"  # the task's own templates folder, with a judge template that does not render
    assets.mkdir()
    (assets / "prompt.jinja").write_text(Path("tasks/classification/prompt.jinja").read_text())
    (assets / "bad.jinja").write_text("{{ output }} {{ undefined_name }}")
    assert main(_args(tmp_path, "http://127.0.0.1:9", f"task.assets={assets}", *extra)) == 2
    err = capsys.readouterr().err
    assert err.startswith("harness.judge_check: error: ") and needle in err and err.count("\n") == 1


def test_task_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["judge.model=gemini_flash"]) == 2
    assert "task is required" in capsys.readouterr().err
