"""Golden cases for the summarization and JSON metrics, one case file per metric.

Each file in cases/ holds `{metric, about, cases: [{name, input, output,
expected, tolerance}]}`; expected values were computed by hand or by the
reference libraries directly (cases/make_cases.py), never by the harness.
One parametrized test runs them all; RUNNERS says how each metric is called.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import harness.scorers.json_output
import harness.scorers.summarization  # noqa: F401  (registers the scorers looked up below)
from harness.config.schema import JsonTask, SummarizationTask
from harness.core.records import Response, Sample
from harness.scorers import jsonx
from harness.scorers.base import CORPUS_METRICS, SCORERS, ScoreInput, ScoringContext

CASES = Path(__file__).parent / "cases"


def _load() -> list[Any]:
    params = []
    for file in sorted(CASES.glob("*.json")):
        doc = json.loads(file.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            params.append(pytest.param(doc, case, id=f"{doc['metric']}:{case['name']}"))
    return params


def _close(got: Any, want: Any, tol: float, what: str) -> None:
    if isinstance(want, float | int) and not isinstance(want, bool) and isinstance(got, float | int):
        assert math.isclose(got, want, abs_tol=tol), f"{what}: got {got}, expected {want} (tolerance {tol})"
    else:
        assert got == want, f"{what}: got {got!r}, expected {want!r}"


def run_rouge(doc: dict[str, Any], case: dict[str, Any], tmp: Path) -> None:
    inp = case["input"]
    task = SummarizationTask(name="golden", use_stemmer=inp.get("use_stemmer", True))
    sample = Sample(id="0", input="", references=tuple(inp["references"]))
    [score] = SCORERS.get("rouge")([ScoreInput(sample, Response(texts=(case["output"],)))], task, ScoringContext())
    for key, want in case["expected"].items():
        _close(score.values[key], want, case["tolerance"], key)
    assert score.details["use_stemmer"] is task.use_stemmer


def run_corpus(doc: dict[str, Any], case: dict[str, Any], tmp: Path) -> None:
    items = [
        ScoreInput(Sample(id=str(i), input="", references=tuple(refs)), Response(texts=(out,)))
        for i, (out, refs) in enumerate(zip(case["output"], case["input"]["references"], strict=True))
    ]
    got = CORPUS_METRICS.get(doc["metric"])(items, [], SummarizationTask(name="golden"))
    for key, want in case["expected"].items():
        _close(got[key], want, case["tolerance"], key)


def run_extract(doc: dict[str, Any], case: dict[str, Any], tmp: Path) -> None:
    got = jsonx.extract(case["output"], case["input"]["mode"])
    want = case["expected"]
    assert got.ok is want["ok"], got.error
    if got.ok:
        assert got.value == want["value"]
        assert got.method == want["method"]
    else:
        assert got.error


def run_normalize(doc: dict[str, Any], case: dict[str, Any], tmp: Path) -> None:
    _close(jsonx.normalize(case["output"], case["input"]["how"]), case["expected"]["value"], 1e-9, "value")


def run_json(doc: dict[str, Any], case: dict[str, Any], tmp: Path) -> None:
    spec = dict(case["input"]["task"])
    schema_name = spec.pop("schema", None)
    if schema_name is not None:
        (tmp / "golden").mkdir()
        (tmp / "golden" / "schema.json").write_text(json.dumps(doc["schemas"][schema_name]), encoding="utf-8")
        spec["schema"] = "schema.json"
    task = JsonTask(name="golden", **spec)
    sample = Sample(id="0", input="", references=tuple(case["input"]["references"]))
    [score] = SCORERS.get("json")([ScoreInput(sample, Response(texts=(case["output"],)))], task, ScoringContext())
    assert ("json.schema_valid" in score.values) is (schema_name is not None)
    for key, want in case["expected"].get("values", {}).items():
        _close(score.values[key], want, case["tolerance"], key)
    for key, want in case["expected"].get("details", {}).items():
        assert score.details[key] == want, key


RUNNERS: dict[str, Callable[[dict[str, Any], dict[str, Any], Path], None]] = {
    "rouge": run_rouge,
    "bleu": run_corpus,
    "chrf": run_corpus,
    "json_extract": run_extract,
    "json_normalize": run_normalize,
    "json": run_json,
}


@pytest.mark.parametrize(("doc", "case"), _load())
def test_golden(doc: dict[str, Any], case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_TASKS_DIR", str(tmp_path))
    RUNNERS[doc["metric"]](doc, case, tmp_path)


def test_every_case_file_has_a_runner() -> None:
    metrics = {json.loads(f.read_text())["metric"] for f in CASES.glob("*.json")}
    assert metrics == set(RUNNERS)
