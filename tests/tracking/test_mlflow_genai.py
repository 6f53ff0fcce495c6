"""MLflow 3 GenAI records of a run: per-example traces with assessments, dataset input, prompt versions.

Real runs through `runner.evaluate` with `model=replay` (no model needed) on a real SQLite
store in tmp_path; what is checked is read back from the store with MLflow's own client and
compared with predictions.jsonl and with values computed here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.config.load import compose_run
from harness.data.samples import fingerprint, load_task_data
from harness.run.runner import evaluate
from tests.helpers import isolated

N = 6


def replay_outputs(tmp: Path) -> tuple[Path, dict[str, str]]:
    """Replay outputs for the first N classification samples (task.limit=N): every other one wrong."""
    test = load_task_data(compose_run(["task=classification", f"task.limit={N}", "model=replay",
                                       "model.path=unused"]).task).test
    outputs = {s.id: (s.target if i % 2 == 0 else "no idea") for i, s in enumerate(test)}
    path = tmp / "outputs.jsonl"
    path.write_text("".join(json.dumps({"id": k, "output": v}) + "\n" for k, v in outputs.items()), encoding="utf-8")
    return path, outputs


def run(tmp: Path, *extra: str) -> Any:
    path, _ = replay_outputs(tmp)
    cfg = compose_run([*isolated(tmp), "task=classification", f"task.limit={N}", "model=replay",
                       f"model.path={path}", *extra])
    return evaluate(cfg, quiet=True)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for this module's runs (each test reads only its own runs): creating one costs seconds."""
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def first(store: Path) -> Any:
    return run(store)


def client(tmp: Path) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}")


def traces_of(tmp: Path, run_id: str) -> list[Any]:
    c = client(tmp)
    exp = c.get_run(run_id).info.experiment_id
    return list(c.search_traces(locations=[exp], run_id=run_id, max_results=1000))


def test_one_trace_per_example_with_assessments_equal_to_predictions(store: Path, first: Any) -> None:
    result, tmp_path = first, store
    rows = [json.loads(x) for x in (Path(result.output_dir) / "predictions.jsonl").read_text().splitlines()]
    traces = traces_of(tmp_path, result.mlflow_run_id)
    assert len(traces) == len(rows) == N
    by_id = {t.info.tags["harness.sample_id"]: t for t in traces}
    assert set(by_id) == {r["id"] for r in rows}
    for row in rows:
        trace = by_id[row["id"]]
        feedback = {a.name: a.value for a in trace.info.assessments if a.feedback is not None}
        assert feedback == {"accuracy": row["score.accuracy"], "invalid": row["score.invalid"]}
        expectations = {a.name: a.value for a in trace.info.assessments if a.expectation is not None}
        assert expectations == {"expected_response": row["reference"]}
        assert [s.name for s in trace.data.spans] == [f"classification/{row['id']}", "model", "score"]
        root, model, score = trace.data.spans
        assert root.inputs["prompt"] == row["prompt"] and root.inputs["fields"]["text"] == row["input"]
        assert root.outputs == row["output"]
        assert model.span_type == "LLM" and model.outputs["texts"] == [row["output"]]
        assert model.get_attribute("mlflow.chat.tokenUsage")["input_tokens"] == row["prompt_tokens"]
        assert score.span_type == "EVALUATOR" and score.outputs["values"]["accuracy"] == row["score.accuracy"]
        assert score.start_time_ns >= model.end_time_ns
    # the replay answers: even positions right, odd positions "no idea" (invalid)
    assert sorted(r["score.accuracy"] for r in rows) == [0.0] * (N // 2) + [1.0] * (N - N // 2)
    run_tags = client(tmp_path).get_run(result.mlflow_run_id).data.tags
    assert run_tags["harness.traces"] == str(N) and "harness.missing" not in run_tags


def test_dataset_input_digest_is_the_fingerprint(store: Path, first: Any) -> None:
    result, tmp_path = first, store
    inputs = client(tmp_path).get_run(result.mlflow_run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    ds = inputs[0].dataset
    test = load_task_data(compose_run(["task=classification", f"task.limit={N}"]).task).test
    assert ds.digest == result.dataset_fingerprint == fingerprint(test)
    assert ds.name == "classification-test" and ds.source_type == "local"
    assert json.loads(ds.source)["uri"].endswith("tasks/classification/test.jsonl")
    assert json.loads(ds.profile)["num_rows"] == N
    assert [(t.key, t.value) for t in inputs[0].tags] == [("mlflow.data.context", "eval")]


def test_prompt_version_reused_when_unchanged_and_new_when_changed(store: Path, first: Any) -> None:
    tmp_path = store
    second = run(tmp_path)
    changed = run(tmp_path, "task.system=Answer with one word.")
    c = client(tmp_path)
    linked = [json.loads(c.get_run(r.mlflow_run_id).data.tags["mlflow.linkedPrompts"])
              for r in (first, second, changed)]
    name = "harness.classification.prompt"
    assert linked == [[{"name": name, "version": "1"}], [{"name": name, "version": "1"}],
                      [{"name": name, "version": "2"}]]
    template = (Path(__file__).resolve().parents[2] / "tasks/classification/prompt.jinja").read_text()
    assert c.load_prompt(f"prompts:/{name}/1").template == template
    assert c.load_prompt(f"prompts:/{name}/2").template == [
        {"role": "system", "content": "Answer with one word."}, {"role": "user", "content": template}]
    assert c.get_run(changed.mlflow_run_id).data.tags["harness.prompt"] == f"prompts:/{name}/2"


def test_traces_off(store: Path) -> None:
    tmp_path = store
    result = run(tmp_path, "tracking.traces=false")
    assert traces_of(tmp_path, result.mlflow_run_id) == []
    assert client(tmp_path).get_run(result.mlflow_run_id).data.tags["harness.traces"] == "off"


def test_trace_store_failure_keeps_the_evaluation_and_says_so(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    def disk_full(self: Any, *args: Any, **kwargs: Any) -> Any:  # the store fails as a full disk would
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SqlAlchemyStore, "log_spans", disk_full)
    tmp_path = store
    result = run(tmp_path)
    assert (Path(result.output_dir) / "predictions.jsonl").exists()
    run_info = client(tmp_path).get_run(result.mlflow_run_id)
    assert run_info.info.status == "FINISHED"
    assert run_info.data.tags["harness.missing"] == "traces"
    warnings = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("harness: warning:")]
    assert len(warnings) == 1 and "traces not recorded" in warnings[0] and "No space left" in warnings[0]


def test_one_transaction_stores_what_start_trace_stores(store: Path, first: Any) -> None:
    """The batched insert (harness) and MLflow's own per-trace `start_trace` give equal traces."""
    import random

    from mlflow.tracing.client import TracingClient

    from harness.tracking.traces import TraceContext, build_trace, start_traces_in_one_transaction

    c = client(store)
    run_info = c.get_run(first.mlflow_run_id).info
    ctx = TraceContext(run_info.run_id, run_info.experiment_id, "classification", "replay", "replay", "label_match",
                       "x.jsonl", 1_700_000_000_000_000_000, 1_000_000)
    tracing = TracingClient(tracking_uri=c.tracking_uri)
    ex = first.examples[1]
    (a, a_spans), (b, b_spans) = (build_trace(ex, ctx, random.Random(seed)) for seed in (1, 2))
    assert start_traces_in_one_transaction(tracing.store, ctx.experiment_id, [a])
    tracing.start_trace(b)
    tracing.log_spans(ctx.experiment_id, [*a_spans, *b_spans])

    def stored(trace_id: str) -> dict[str, Any]:
        t = c.get_trace(trace_id)
        info = t.info.to_dict()
        for key in ("trace_id", "assessments"):
            info.pop(key)
        info["tags"].pop("mlflow.artifactLocation")
        assessments = sorted((x.name, x.value, x.source.source_type, x.source.source_id) for x in t.info.assessments)
        return {"info": info, "assessments": assessments, "spans": [s.name for s in t.data.spans]}

    assert stored(a.trace_id) == stored(b.trace_id)


def test_each_trace_shows_the_harness_cost_of_its_call_not_a_catalogue_price(store: Path, first: Any) -> None:
    """A Gemini model span carries the harness's cost (configured prices, cached tokens, compute time).

    Without it MLflow prices the span itself from its catalogue by the model name (list prices,
    no cached-token rate, no compute time): the UI and the harness's reports would disagree.
    """
    import dataclasses
    import random

    from mlflow.tracing.client import TracingClient

    from harness.config.schema import PriceConfig
    from harness.core.cost import cost_usd
    from harness.tracking.traces import TraceContext, build_trace

    c = client(store)
    run_info = c.get_run(first.mlflow_run_id).info
    prices = PriceConfig(input_per_mtok=0.5, output_per_mtok=4.0, cached_per_mtok=0.05, per_hour_usd=3.6)
    resp = dataclasses.replace(first.examples[0].response, prompt_tokens=1000, cached_tokens=400, output_tokens=200,
                               latency_s=2.0)
    ex = dataclasses.replace(first.examples[0], response=resp, cost_usd=cost_usd(resp, prices))
    # by hand: 600 x 0.5e-6 + 400 x 0.05e-6 = 0.00032 input; 200 x 4e-6 = 0.0008 output; 2 s x 3.6 $/h = 0.002
    assert ex.cost_usd == pytest.approx(0.00312)
    tracing = TracingClient(tracking_uri=c.tracking_uri)
    costs = {}
    for label, ctx_prices in (("harness", prices), ("mlflow", None)):
        ctx = TraceContext(run_info.run_id, run_info.experiment_id, "classification", "gemini", "gemini-2.5-flash",
                           "label_match", "x.jsonl", 1_700_000_000_000_000_000, 1_000_000, ctx_prices)
        info, spans = build_trace(ex, ctx, random.Random(5 if label == "harness" else 6))
        tracing.start_trace(info)
        tracing.log_spans(ctx.experiment_id, spans)
        model = next(s for s in c.get_trace(info.trace_id).data.spans if s.name == "model")
        costs[label] = model.get_attribute("mlflow.llm.cost")
    assert costs["harness"] == pytest.approx({"input_cost": 0.00032, "output_cost": 0.0008, "total_cost": 0.00312})
    assert costs["mlflow"] is not None and costs["mlflow"]["total_cost"] != pytest.approx(0.00312)  # its own price
