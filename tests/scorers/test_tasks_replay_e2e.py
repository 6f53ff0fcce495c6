"""End to end through `harness.run.runner.evaluate` with `model=replay`: each shipped task, no model needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.config.load import compose_run
from harness.core.errors import DataError
from harness.core.paths import shared_data_dir
from harness.data.samples import load_task_data
from harness.run.runner import evaluate


def run(task: str, outputs: dict[str, str], tmp: Path, *extra: str):  # type: ignore[no-untyped-def]
    path = tmp / "outputs.jsonl"
    path.write_text("".join(json.dumps({"id": k, "output": v}) + "\n" for k, v in outputs.items()), encoding="utf-8")
    cfg = compose_run(
        [
            f"task={task}",
            "model=replay",
            f"model.path={path}",
            "tracking.enabled=false",
            "cache.enabled=false",
            f"results_dir={tmp / 'results'}",
            "progress=false",
            "bootstrap_resamples=50",
            *extra,
        ]
    )
    return evaluate(cfg, quiet=True), cfg


def test_summarization_prefix_outputs_pin_precision_and_recall(tmp_path: Path) -> None:
    cfg = compose_run(["task=summarization", "model=replay", "model.path=unused"])
    test = load_task_data(cfg.task).test
    # every output is the first half of its reference: precision 1, recall about 0.5
    outputs = {s.id: " ".join(s.target.split()[: len(s.target.split()) // 2]) for s in test}
    result, _ = run("summarization", outputs, tmp_path)
    m = result.metrics
    assert len(result.examples) == len(test) == 60
    assert m["rouge1.precision"].value == pytest.approx(1.0)
    assert 0.4 < m["rouge1.recall"].value < 0.55
    assert m["rougeL.precision"].value == pytest.approx(1.0)
    assert m["length_ratio"].value == pytest.approx(
        sum(len(outputs[s.id].split()) / len(s.target.split()) for s in test) / len(test)
    )
    assert 0 < m["bleu"].value < 100 and 0 < m["chrf"].value < 100
    rows = [json.loads(line) for line in (Path(result.output_dir) / "predictions.jsonl").read_text().splitlines()]
    assert rows[0]["detail.use_stemmer"] is True


def test_summarization_perfect_outputs(tmp_path: Path) -> None:
    cfg = compose_run(["task=summarization", "model=replay", "model.path=unused"])
    outputs = {s.id: s.target for s in load_task_data(cfg.task).test}
    result, _ = run("summarization", outputs, tmp_path)
    for key in ("rouge1.f1", "rouge2.f1", "rougeL.f1", "rougeLsum.f1"):
        assert result.metrics[key].value == pytest.approx(1.0), key
    assert result.metrics["bleu"].value == pytest.approx(100.0)


def test_json_extraction_formats_normalize_to_gold(tmp_path: Path) -> None:
    cfg = compose_run(["task=json_extraction", "model=replay", "model.path=unused"])
    test = load_task_data(cfg.task).test
    outputs: dict[str, str] = {}
    for i, s in enumerate(test):
        gold = json.loads(s.target)
        if i % 3 == 0:  # fenced, different casing and a price with a currency sign: still right
            spelled = {**gold, "city": gold["city"].upper(), "price": f"${gold['price']:.2f}"}
            outputs[s.id] = "```json\n" + json.dumps(spelled) + "\n```"
        elif i % 3 == 1:
            outputs[s.id] = "Here it is: " + json.dumps(gold) + " Thanks!"
        else:
            outputs[s.id] = "no idea"
    result, _ = run("json_extraction", outputs, tmp_path)
    m = result.metrics
    n = len(test)
    n_bad = sum(1 for i in range(n) if i % 3 == 2)
    n_fenced = sum(1 for i in range(n) if i % 3 == 0)
    assert m["json.valid"].value == pytest.approx((n - n_bad) / n)
    assert m["json.field_f1"].value == pytest.approx((n - n_bad) / n)
    assert m["json.exact_match"].value == pytest.approx((n - n_bad) / n)
    # a price given as a string breaks the schema (number) but not the normalized field match
    assert m["json.schema_valid"].value == pytest.approx((n - n_bad - n_fenced) / n)


def test_missing_replay_id_fails_the_run(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no output for sample id"):
        run("json_extraction", {"j150": "{}"}, tmp_path)


needs_shared = pytest.mark.skipif(
    not shared_data_dir().is_dir(), reason=f"shared benchmark data not found at {shared_data_dir()}"
)


@pytest.mark.shared_data
@needs_shared
def test_wikilingua_config_loads_tutorial_files() -> None:
    cfg = compose_run(["task=wikilingua", "model=replay", "model.path=unused"])
    data = load_task_data(cfg.task)
    assert (len(data.test), len(data.train)) == (100, 500)
    assert data.test[0].input.rstrip().endswith("Provide a summary of the article in two or three sentences:")
    assert cfg.task.primary_metric == "rougeL.precision" and cfg.task.use_stemmer


@pytest.mark.shared_data
@needs_shared
def test_sroie_config_loads_and_scores(tmp_path: Path) -> None:
    cfg = compose_run(["task=sroie", "model=replay", "model.path=unused"])
    data = load_task_data(cfg.task)
    assert len(data.test) == 626
    outputs = {s.id: s.target for s in data.test}
    result, _ = run("sroie", outputs, tmp_path)
    assert result.metrics["json.valid"].value == pytest.approx(1.0)
    # replaying the gold answers scores every example perfectly, repeated OCR texts included
    perfect = [e for e in result.examples if e.score.values["json.field_f1"] == 1.0]
    assert len(perfect) == 626


@pytest.mark.shared_data
@needs_shared
def test_replay_answers_by_sample_id_when_prompts_repeat(tmp_path: Path) -> None:
    cfg = compose_run(["task=sroie", "model=replay", "model.path=unused"])
    data = load_task_data(cfg.task)
    by_id = {s.id: s for s in data.test}
    assert by_id["235"].input == by_id["237"].input and by_id["235"].target != by_id["237"].target
    result, _ = run("sroie", {s.id: s.target for s in data.test}, tmp_path)
    got = {e.sample.id: e.response.text for e in result.examples}
    assert got["237"] == by_id["237"].target
