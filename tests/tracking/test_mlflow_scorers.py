"""The harness scorers as MLflow scorers: `mlflow.genai.evaluate` on a tiny frame, a real SQLite store.

Expected values are computed here by hand (label match, exact JSON fields, pass/fail of tiny programs)
or with the reference library (rouge-score), never read from the harness.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core.errors import ConfigError
from harness.tracking.mlflow_scorers import harness_scorer

TEST = "def check(f):\n    assert f(2, 3) == 5\n    assert f(-1, 1) == 0\n\ncheck(add)\n"
ROW = {"task_id": "Tiny/0", "prompt": "def add(a, b):\n", "declaration": "def add(a, b):\n", "test": TEST}


def test_evaluate_with_our_scorers_on_a_tiny_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow
    import pandas as pd
    from rouge_score import rouge_scorer

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    reviews = pd.DataFrame({
        "inputs": [{"text": "Great value."}, {"text": "Broke in a day."}, {"text": "It is a chair."}],
        "outputs": ["Positive!", "negative", "no idea"],
        "expectations": [{"expected_response": x} for x in ("positive", "negative", "neutral")],
    })
    labels = harness_scorer("label_match", task="classification")
    result = mlflow.genai.evaluate(data=reviews, scorers=[labels])
    assert result.metrics["accuracy/mean"] == pytest.approx(2 / 3)  # right, right, no label found
    assert result.metrics["invalid/mean"] == pytest.approx(1 / 3)

    summaries = pd.DataFrame({
        "inputs": [{"document": "a"}, {"document": "b"}],
        "outputs": ["the cat sat on the mat", "a quick brown fox"],
        "expectations": [{"expected_response": "the cat lay on the mat"}, {"expected_response": "the quick fox"}],
    })
    result = mlflow.genai.evaluate(data=summaries, scorers=[harness_scorer("rouge", task="summarization")])
    ref = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    expected = [ref.score(t, p)["rouge1"].fmeasure for t, p in (("the cat lay on the mat", "the cat sat on the mat"),
                                                                  ("the quick fox", "a quick brown fox"))]
    assert result.metrics["rouge1.f1/mean"] == pytest.approx(sum(expected) / 2)

    gold = {"city": "Paris", "price": 12.5}
    docs = pd.DataFrame({
        "inputs": [{"text": "x"}, {"text": "y"}],
        "outputs": [json.dumps(gold), "not json"],
        "expectations": [{"expected_response": json.dumps(gold)}] * 2,
    })
    result = mlflow.genai.evaluate(data=docs, scorers=[harness_scorer("json", task="json_extraction")])
    assert result.metrics["json.exact_match/mean"] == pytest.approx(0.5)

    code = pd.DataFrame({
        "inputs": [ROW, ROW],
        "outputs": ["    return a + b\n", "    return a - b\n"],
        "expectations": [{"expected_response": "    return a + b\n"}] * 2,
    })
    runs_code = harness_scorer("code_exec", task="humaneval_x", allow_code_execution=True)
    result = mlflow.genai.evaluate(data=code, scorers=[runs_code])
    assert result.metrics["pass_at_1/mean"] == pytest.approx(0.5)

    # the per-row feedback sits on the evaluation run's traces, as MLflow's own scorers' do
    traces = mlflow.search_traces(run_id=result.run_id, return_type="list")
    assert sorted(a.value for t in traces for a in t.info.assessments if a.name == "pass_at_1") == [0.0, 1.0]


def test_code_scorer_needs_the_opt_in() -> None:
    scorer = harness_scorer("code_exec", task="humaneval_x")
    with pytest.raises(ConfigError, match="allow_code_execution"):
        scorer(inputs=ROW, outputs="    return a + b\n", expectations={})


def test_unknown_scorer_name_suggests() -> None:
    with pytest.raises(ConfigError, match="did you mean: rouge"):
        harness_scorer("rogue", task="summarization")
