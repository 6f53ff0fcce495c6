"""The examples behind a verdict: flipped items (report, flips.jsonl, MLflow), relative change, export=.

Two runs with known per-example scores are written into a real MLflow store; the
expected flips, their order and the relative changes are worked out by hand below.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient
from mlflow_runs import log_run

from harness.backends.gemini.tuning import sft_row
from harness.compare import examples
from harness.compare.api import run_compare
from harness.compare.config import CompareConfig
from harness.config.load import compose_run
from harness.data.samples import load_task_data

N = 40
# accuracy: the baseline is right on even ids, the candidate on ids not divisible by 3.
# better (0 -> 1): odd and not divisible by 3; worse (1 -> 0): divisible by 6.
BETTER_ACC = [i for i in range(N) if i % 2 == 1 and i % 3 != 0]  # 1, 5, 7, 11, ... (13 items)
WORSE_ACC = [i for i in range(N) if i % 6 == 0]  # 0, 6, 12, 18, 24, 30, 36 (7 items)
# rougeL: 0.5 everywhere in the baseline; the candidate moves five items by hand-picked amounts
ROUGE_CHANGE = {3: +0.25, 8: -0.4, 17: +0.1, 22: +0.25, 30: -0.05}


def _rows(scores_acc: list[float], rouge: list[float], tag: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"ex{i:04d}", "input": f"review number {i}", "reference": "positive" if i % 2 else "negative",
            "prompt": f"Classify: review number {i}\nSentiment:", "output": f"{tag} answer {i}", "outputs": [],
            "finish_reason": "stop", "error": None, "prompt_tokens": 10, "output_tokens": 2, "latency_s": 0.1,
            "cost_usd": 0.0, "score.accuracy": scores_acc[i], "score.rougeL": rouge[i],
        }
        for i in range(N)
    ]  # fmt: skip


BASE_ACC = [1.0 if i % 2 == 0 else 0.0 for i in range(N)]
CAND_ACC = [0.0 if i % 3 == 0 else 1.0 for i in range(N)]
BASE_ROUGE = [0.5] * N
CAND_ROUGE = [0.5 + ROUGE_CHANGE.get(i, 0.0) for i in range(N)]


@pytest.fixture(scope="module")
def runs(tracking_uri: str) -> dict[str, str]:
    return {
        "base": log_run(tracking_uri, _rows(BASE_ACC, BASE_ROUGE, "base"), task="classification", model="m-base"),
        "cand": log_run(tracking_uri, _rows(CAND_ACC, CAND_ROUGE, "cand"), task="classification", model="m-lora",
                        variant="lora"),
        "gemini": log_run(tracking_uri, _rows(CAND_ACC, CAND_ROUGE, "gem"), task="classification",
                          model="m-gemini-tuned", variant="tuned", extra_tags={"harness.backend": "gemini"}),
    }  # fmt: skip


def _compare(uri: str, runs: dict[str, str], tmp: Path, cands: list[str], **kw: Any) -> Any:
    cfg = CompareConfig(baseline=runs["base"], candidates=[runs[c] for c in cands], tracking_uri=uri,
                        out_dir=str(tmp), task="classification", resamples=200, **kw)  # fmt: skip
    return run_compare(cfg)


@pytest.fixture(scope="module")
def by_rouge(tracking_uri: str, runs: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One comparison on rougeL, shared by the tests that only read it (a comparison takes seconds)."""
    return _compare(tracking_uri, runs, tmp_path_factory.mktemp("rouge"), ["cand"], primary_metric="rougeL")


@pytest.fixture(scope="module")
def by_accuracy(tracking_uri: str, runs: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _compare(tracking_uri, runs, tmp_path_factory.mktemp("acc"), ["cand"], primary_metric="accuracy")


def test_flips_both_ways_in_order_with_scores_and_texts(tracking_uri: str, by_rouge: Any) -> None:
    out = by_rouge
    lines = [json.loads(x) for x in out.flips.read_text(encoding="utf-8").splitlines()]
    # rougeL: better by change, largest first, ties by id (3 and 22 both +0.25); then worse, most negative first
    assert [(r["id"], r["direction"]) for r in lines] == [
        ("ex0003", "better"), ("ex0022", "better"), ("ex0017", "better"), ("ex0008", "worse"), ("ex0030", "worse"),
    ]  # fmt: skip
    first = lines[0]
    assert first["change"] == pytest.approx(0.25)
    assert (first["baseline_score"], first["candidate_score"]) == (0.5, 0.75)
    assert first["input"] == "review number 3" and first["reference"] == "positive"
    assert (first["baseline_output"], first["candidate_output"]) == ("base answer 3", "cand answer 3")
    assert lines[3]["change"] == pytest.approx(-0.4)
    md = out.markdown.read_text(encoding="utf-8")
    assert "3 better on rougeL" in md and "2 worse on rougeL" in md
    assert md.index("| ex0003 |") < md.index("| ex0022 |") < md.index("| ex0017 |") < md.index("| ex0008 |")
    html = out.html.read_text(encoding="utf-8")
    assert "Flipped examples" in html and "cand answer 22" in html
    # the comparison run in MLflow carries the same file
    client = MlflowClient(tracking_uri=tracking_uri)
    names = {a.path for a in client.list_artifacts(out.mlflow_run_id)}
    assert examples.FLIPS_FILE in names


def test_binary_flips_and_top_20_in_the_report(by_accuracy: Any) -> None:
    out = by_accuracy
    lines = [json.loads(x) for x in out.flips.read_text(encoding="utf-8").splitlines()]
    better = [int(r["id"][2:]) for r in lines if r["direction"] == "better"]
    worse = [int(r["id"][2:]) for r in lines if r["direction"] == "worse"]
    assert better == BETTER_ACC and worse == WORSE_ACC  # every change is 1: ordered by id
    assert all(r["change"] in (1.0, -1.0) for r in lines)
    # more than TOP items are cut in the report, never in the JSONL
    big = [examples.Flip("c", f"x{i:02d}", "m", 0.0, 1.0, "", "", "", "") for i in range(25)]
    assert len(examples.flip_rows(big)) == examples.TOP == 20


def test_relative_change_values(tracking_uri: str, by_accuracy: Any) -> None:
    out = by_accuracy
    # accuracy: baseline 20/40 = 0.5, candidate 26/40 = 0.65 -> (0.65 - 0.5) / 0.5 = +30%
    # rougeL: baseline 0.5, candidate 0.5 + (0.25 - 0.4 + 0.1 + 0.25 - 0.05) / 40 = 0.50375 -> +0.75%
    md = out.markdown.read_text(encoding="utf-8")
    assert "| 0.5000 | 0.6500 | +30.0% |" in md
    assert "rougeL | 0.5000 | 0.50" in md  # the means; the exact ratio is checked in MLflow below
    metrics = MlflowClient(tracking_uri=tracking_uri).get_run(out.mlflow_run_id).data.metrics
    assert metrics["c0.accuracy.rel_change"] == pytest.approx(0.3)
    assert metrics["c0.rougeL.rel_change"] == pytest.approx(0.0075)
    assert examples.relative_change(0.0, 0.4) is None and examples.format_relative(None) == "n/a"


def test_export_writes_failures_in_the_tasks_train_format(
    tracking_uri: str, runs: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "failures.jsonl"
    out = _compare(tracking_uri, runs, tmp_path, ["cand"], primary_metric="accuracy", export=str(path),
                   log_to_mlflow=False)  # fmt: skip
    assert out.exports == (path,)
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    wrong = [i for i in range(N) if CAND_ACC[i] == 0.0]  # divisible by 3: 14 items
    assert rows == [
        {"id": f"ex{i:04d}", "text": f"review number {i}", "label": "positive" if i % 2 else "negative"} for i in wrong
    ]
    # the task's own loader reads it back as a train split (the flywheel's next tuning data)
    task = compose_run(["task=classification", f"task.data.train_path={path}"]).task
    train = load_task_data(task).train
    assert [(s.id, s.input, s.target) for s in train] == [(r["id"], r["text"], r["label"]) for r in rows]


def test_export_for_a_gemini_variant_is_gemini_tuning_jsonl(
    tracking_uri: str, runs: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "gemini.jsonl"
    _compare(tracking_uri, runs, tmp_path, ["gemini"], primary_metric="accuracy", export=str(path), log_to_mlflow=False)
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    wrong = [i for i in range(N) if CAND_ACC[i] == 0.0]
    # zero-shot run: the user turn is the prompt the candidate saw, the model turn the reference
    assert rows == [
        sft_row(f"Classify: review number {i}\nSentiment:", "positive" if i % 2 else "negative") for i in wrong
    ]
    assert rows[0] == {"contents": [
        {"role": "user", "parts": [{"text": "Classify: review number 0\nSentiment:"}]},
        {"role": "model", "parts": [{"text": "negative"}]},
    ]}  # fmt: skip


def test_export_with_several_candidates_and_a_threshold(
    tracking_uri: str, runs: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "f.jsonl"
    out = _compare(tracking_uri, runs, tmp_path, ["cand", "gemini"], primary_metric="rougeL", export=str(path),
                   export_below=0.5, log_to_mlflow=False)  # fmt: skip
    assert out.exports == (tmp_path / "f.c0.jsonl", tmp_path / "f.c1.jsonl")
    # rougeL below 0.5: items 8 (0.1) and 30 (0.45) only
    ids = [json.loads(x)["id"] for x in out.exports[0].read_text(encoding="utf-8").splitlines()]
    assert ids == ["ex0008", "ex0030"]
    assert len(out.exports[1].read_text(encoding="utf-8").splitlines()) == 2


@pytest.mark.shared_data
def test_export_for_a_task_whose_train_file_is_gemini_rows(shared_data: Path, tmp_path: Path) -> None:
    from harness.compare.export import export_failures
    from harness.compare.runs import ExampleRow, RunData

    task = compose_run(["task=wikilingua"]).task  # its train file is the tutorial's Gemini tuning JSONL
    rows = tuple(
        ExampleRow(id=str(i), prompt_tokens=0, output_tokens=0, latency_s=0, cost_usd=0, error=None,
                   scores={"rougeL.precision": p}, input=f"article {i}", reference=f"summary {i}")
        for i, p in enumerate((0.9, 0.2, 0.1))
    )  # fmt: skip
    run = RunData("r" * 32, "run", {"harness.backend": "hf"}, {}, rows)
    path = tmp_path / "wl.jsonl"
    assert export_failures(run, "rougeL.precision", 0.3, task, path) == 2
    got = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert got == [sft_row("article 1", "summary 1"), sft_row("article 2", "summary 2")]
    # and the task's own loader reads it back as its train split
    back = load_task_data(compose_run(["task=wikilingua", f"task.data.train_path={path}"]).task).train
    assert [(s.input, s.target) for s in back] == [("article 1", "summary 1"), ("article 2", "summary 2")]
