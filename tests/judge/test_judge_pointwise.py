"""The pointwise `judge` scorer in a real run: replayed outputs graded by a scripted judge on the local Gemini server.

Real parts: the run loop (`evaluate`), the replay backend for the model under test,
the judge opened by name through the Gemini backend (google-genai against the local
server), the response cache, the retry loop, a sqlite MLflow store with traces.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from harness.config.load import compose_run
from harness.core.errors import ConfigError
from harness.core.paths import ROOT
from harness.judge.rubric import from_task
from harness.run.runner import evaluate
from tests.fakes.fixtures import planted_key  # noqa: F401 - fixture
from tests.judge.scripted import ScriptedJudge, fair, serve_judge

N = 8


def _outputs(tmp: Path) -> Path:
    """Replayed outputs for every classification test item: right on ids whose number is not a multiple of 3."""
    rows = [json.loads(x) for x in (ROOT / "tasks/classification/test.jsonl").read_text().splitlines()]
    other = {"positive": "negative", "negative": "neutral", "neutral": "positive"}
    path = tmp / "outputs.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "output": r["label"] if int(r["id"][-3:]) % 3 else
                                        other[r["label"]]}) + "\n" for r in rows))
    return path


def _args(tmp: Path, url: str, *extra: str) -> list[str]:
    return [
        "task=classification", f"task.limit={N}", "model=replay", f"model.path={_outputs(tmp)}",
        "task.scorers=[label_match,judge]", "task.judge.model=gemini_flash",
        f"task.judge.model_overrides=['base_url={url}']",
        f"results_dir={tmp / 'results'}", f"cache.path={tmp / 'cache.sqlite'}",
        f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}", "retry.initial_backoff_s=0.01", "progress=false", *extra,
    ]


@pytest.fixture
def judge_server(planted_key: str) -> Iterator[ScriptedJudge]:  # noqa: F811 - the fixture above
    with serve_judge(fair) as server:
        yield server


def _rows(result: Any) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (Path(result.output_dir) / "predictions.jsonl").read_text().splitlines()]


def test_fair_judge_grades_every_output_and_lands_in_mlflow(judge_server: ScriptedJudge, tmp_path: Path) -> None:
    cfg = compose_run(_args(tmp_path, judge_server.url))
    result = evaluate(cfg, quiet=True)
    m = result.metrics
    # the scripted judge passes exactly the outputs equal to the reference: its mean is the accuracy
    assert m["judge.score"].value == pytest.approx(m["accuracy"].value) and 0 < m["accuracy"].value < 1
    assert m["judge.score"].ci_low is not None and m["judge.invalid"].value == 0.0
    assert judge_server.judge_calls() == N  # one judge request per output
    rows = _rows(result)
    for row in rows:
        assert row["detail.judge.grade"] == ("pass" if row["score.accuracy"] == 1.0 else "fail")
        assert row["detail.judge.reply"].startswith(row["detail.judge.grade"] + "\nRationale: ")
        assert row["detail.rationale"] in ("it matches the reference", "it differs from the reference")
        assert row["detail.judge.attempts"] == 1 and row["score.judge.invalid"] == 0.0

    client = MlflowClient(cfg.tracking.uri)
    run = client.get_run(result.mlflow_run_id)
    assert run.data.tags["harness.judge.model"] == "gemini_flash"
    assert "gemini:gemini-2.5-flash" in run.data.tags["harness.judge.identity"]
    assert run.data.tags["harness.judge.template_hash"] == from_task(cfg.task).template_hash
    assert run.data.metrics["judge.score"] == pytest.approx(m["judge.score"].value)
    traces = client.search_traces(locations=[run.info.experiment_id], max_results=50)
    feedback = [a for t in traces for a in t.info.assessments if a.name == "judge.score"]
    assert len(feedback) == N and {a.rationale for a in feedback} == {"it matches the reference",
                                                                       "it differs from the reference"}

    again = evaluate(compose_run(_args(tmp_path, judge_server.url)), quiet=True)  # the judge's answers are cached
    assert judge_server.judge_calls() == N
    assert [r["detail.judge.grade"] for r in _rows(again)] == [r["detail.judge.grade"] for r in rows]


def test_unparsable_replies_are_retried_with_the_same_prompt_then_counted_invalid(
    planted_key: str, tmp_path: Path  # noqa: F811 - the fixture above
) -> None:
    def flaky(output: str, reference: str | None, asked: int) -> str:
        if output == "neutral":
            return "Hmm, hard to say."  # never a grade: invalid after every attempt
        if asked == 0 and output != reference:
            return "I would rather not grade this."  # wrong outputs: unparsable the first time only
        return fair(output, reference, asked)

    with serve_judge(flaky) as server:
        cfg = compose_run(_args(tmp_path, server.url, "task.judge.retries=2"))
        result = evaluate(cfg, quiet=True)
        rows = _rows(result)
        bad = [r for r in rows if r["output"] == "neutral"]
        wrong = [r for r in rows if r["output"] != "neutral" and r["score.accuracy"] == 0.0]
        assert bad and wrong  # the replayed subset has both kinds
        for r in bad:  # asked 1 + retries times, kept with its raw reply, never dropped
            assert r["score.judge.invalid"] == 1.0 and "score.judge.score" not in r
            assert r["detail.judge.grade"] is None and r["detail.judge.reply"] == "Hmm, hard to say."
            assert r["detail.judge.attempts"] == 3
        for r in wrong:  # the re-ask was sent, not served the bad reply from the cache
            assert r["detail.judge.grade"] == "fail" and r["detail.judge.attempts"] == 2
        assert result.metrics["judge.invalid"].value == pytest.approx(len(bad) / N)
        assert sorted(server.asked.values()).count(3) == len(bad)  # 1 + judge.retries asks of the same prompt
        calls = server.judge_calls()
        assert calls == N + 2 * len(bad) + len(wrong)
        evaluate(compose_run(_args(tmp_path, server.url, "task.judge.retries=2")), quiet=True)
        assert server.judge_calls() == calls  # every attempt replays from the cache


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["task.judge.model=nope"], "judge.model=nope: unknown model 'nope'"),
        (["task.judge.model="], "judge.model is not set"),
        (["task.judge.grades=[]"], "task.judge.grades is empty"),
        (["task.judge.template=missing.jinja"], "judge template not found"),
    ],
)
def test_bad_judge_config_fails_before_any_model_work(tmp_path: Path, extra: list[str], needle: str) -> None:
    cfg = compose_run(_args(tmp_path, "http://127.0.0.1:9", *extra))
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        evaluate(cfg, quiet=True)
    assert not (tmp_path / "mlflow.db").exists()  # before the MLflow run starts


def test_judge_model_shares_the_rubric_through_gemini_context_caching_and_prices_it(
    planted_key: str, tmp_path: Path  # noqa: F811 - the fixture above
) -> None:
    from harness.config.schema import CacheConfig
    from harness.judge.model import open_judge
    from harness.judge.pointwise import grade
    from harness.judge.rubric import BUILTIN_TEMPLATE, Item, Rubric

    rubric = Rubric(BUILTIN_TEMPLATE, "built-in", "A long rubric. " * 20, ("fail", "pass"), True, 0)
    items = [Item(f"i{k}", f"input {k}", "yes" if k % 2 else "no", "yes") for k in range(4)]
    with serve_judge(fair) as server:
        judge = open_judge("gemini_flash", [f"base_url={server.url}", "context_cache=true",
                                            "context_cache_min_tokens=50"],
                           cache=CacheConfig(path=str(tmp_path / "cache.sqlite")))
        try:
            grades = grade(judge, rubric, items)
        finally:
            judge.close()
        [cache] = [e.body for e in server.log if e.path.endswith("cachedContents") and e.method == "POST"]
        cached_text = " ".join(p["text"] for c in cache["contents"] for p in c["parts"])
        sent = [e.body for e in server.log if e.path.endswith(":generateContent")]
    assert [g.grade for g in grades] == ["fail", "pass", "fail", "pass"]
    assert "A long rubric." in cached_text and "[Output to grade]" not in cached_text  # the shared part only
    assert len(sent) == 4 and all(b.get("cachedContent") for b in sent)
    prices = judge.model_cfg.prices  # gemini_flash.yaml: USD per million tokens
    for g in grades:  # the fake counts words as tokens and reports the cached ones
        assert g.cost_usd > 0 and g.prompt_tokens > len(cached_text.split())
        uncached = g.prompt_tokens - len(cached_text.split())
        expected = (uncached * prices.input_per_mtok + len(cached_text.split()) * prices.cached_per_mtok
                    + g.output_tokens * prices.output_per_mtok) / 1e6
        assert g.cost_usd == pytest.approx(expected)
    assert judge.usage.requests == 4 and judge.usage.cost_usd == pytest.approx(sum(g.cost_usd for g in grades))
