"""The embedded Gemma 3 270M as a real side-by-side judge on 4 items (slow: loads the model once).

Whatever its quality, the figures must be computed from its replies: 8 prompts
(both orders of each item) reach the model, each reply is parsed or counted
invalid, and the comparison lands in MLflow and the reports with the quality
figures. A second comparison is answered from the judge's cache.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from harness.compare.api import run_compare
from harness.compare.config import CompareConfig
from harness.config.schema import CacheConfig
from harness.core.records import GenerationParams
from harness.judge.model import JudgeModel, open_judge
from tests.compare.mlflow_runs import log_run, make_rows

QUESTIONS = [
    ("What is the capital of France?", "Paris", "The capital of France is Paris.", "Berlin"),
    ("How many legs does a spider have?", "8", "A spider has eight legs.", "Six legs, like all insects."),
    ("What colour is the sky on a clear day?", "blue", "Blue.", "The sky is green on a clear day."),
    ("What is 2 + 2?", "4", "2 + 2 = 4", "2 + 2 = 5"),
]


def _rows(candidate: bool) -> list[dict[str, Any]]:
    rows = make_rows({"accuracy": [1.0 if candidate else 0.0] * len(QUESTIONS)})
    for row, (q, ref, good, bad) in zip(rows, QUESTIONS, strict=True):
        row.update(input=q, reference=ref, output=good if candidate else bad)
    return rows


@pytest.mark.slow
def test_gemma_judges_side_by_side(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    base = log_run(uri, _rows(False), model="base-model")
    cand = log_run(uri, _rows(True), model="tuned-model", variant="lora")
    opened: list[JudgeModel] = []

    def opener(name: str) -> JudgeModel:
        # 8 new tokens: enough for "A", "B" or "tie"; a longer ramble is parsed from its start anyway
        judge = open_judge(name, params=GenerationParams(max_new_tokens=8),
                           cache=CacheConfig(path=str(tmp_path / "cache.sqlite")))
        opened.append(judge)
        return judge

    cfg = CompareConfig(baseline=base, candidates=[cand], tracking_uri=uri, out_dir=str(tmp_path / "out"),
                        resamples=200, primary_metric="accuracy", judge="pairwise", judge_model="gemma3_270m",
                        judge_retries=0)  # greedy: a re-ask would get the same reply (re-asks: test_pairwise.py)
    out = run_compare(cfg, judge_opener=opener)
    assert opened[0].usage.requests == 8 and opened[0].usage.cached == 0  # both orders of 4 items
    jv = out.judge
    assert jv is not None and jv.identity.startswith("gemma3_270m (")
    res = jv.candidates[0].result
    assert len(res.items) == 4 and res.wins + res.ties + res.losses == 4
    q = res.quality
    assert q.n == 4 and q.n_valid + q.n_invalid == 4
    if q.n_valid:  # computed from the replies, whatever they are
        assert 0.0 <= q.position_consistency.value <= 1.0
        assert q.n_inconsistent == q.n_valid - round(q.position_consistency.value * q.n_valid)
    summary = json.loads((out.out_dir / "comparison.json").read_text())
    assert summary["judge"]["identity"] == jv.identity and summary["judge"]["model_graded"] is True
    assert "Side-by-side judge (model-graded)" in out.markdown.read_text()
    tags = MlflowClient(uri).get_run(out.mlflow_run_id or "").data.tags
    assert tags["harness.compare.judge.identity"] == jv.identity
    print("gemma judge:", [(j.id, j.forward, j.backward, j.outcome) for j in res.items], q)

    again = run_compare(cfg, judge_opener=opener)
    assert opened[1].usage.cached == opened[1].usage.requests  # every judge prompt from the cache
    assert again.judge is not None and again.judge.candidates[0].result.items == res.items
