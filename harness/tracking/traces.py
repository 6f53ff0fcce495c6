"""Per-example MLflow traces with assessments, written in one batch per run.

Each scored example becomes one trace linked to the run (metadata
`mlflow.sourceRun`): a root span with the sample's fields and the rendered
prompt as inputs and the model's output(s) as outputs, a `model` span (LLM:
latency, token usage, finish reason, whether the answer came from the cache)
and a `score` span (EVALUATOR: values and details). Every per-example score
value is a feedback assessment and the reference is an expectation
(`expected_response`), which is what MLflow's evaluation views compare.

Why not `mlflow.start_span`: the fluent tracer exports to the process-global
tracking URI and writes each trace (and each assessment) in its own store
round trips. Here the trace records are built in memory from results the run
already has and written with one `start_trace` per trace (assessments
included) plus one `log_spans` for all spans, on the run's own store. Replayed
and cached runs have the same results, so they write the same traces.

Span times: a backend serves a whole batch at once, so no example has a start
time of its own; every trace starts when generation started, the model span
lasts the example's measured latency and the score span an equal share of the
run's scoring time (attribute `harness.scoring_share=true`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.core.cost import Prices, cost_parts
from harness.core.records import ExampleResult

_PREVIEW = 1000  # characters of the request/response previews the trace list shows
EXPECTATION = "expected_response"  # the name MLflow's correctness judges read the reference from


@dataclass(frozen=True)
class TraceContext:
    """What every trace of one run shares."""

    run_id: str
    experiment_id: str
    task: str
    model: str
    model_id: str  # the backend's model identity (weights, endpoint)
    scorers: str  # assessment source id: the task's scorer names
    data_source: str  # where the references come from (the expectation's source)
    start_ns: int  # wall-clock time generation started
    score_share_ns: int  # the run's scoring time divided by its number of examples
    # the model's prices: each model span carries the harness's own cost of its call, so MLflow
    # shows that figure and does not price the model from its own catalogue (list prices, no
    # compute time, ~2.5 ms a span); None leaves the pricing to MLflow
    prices: Prices | None = None


def log_traces(client: Any, examples: Sequence[ExampleResult], ctx: TraceContext) -> list[str]:
    """Write one trace per example; returns the trace ids. Raises whatever the store raises."""
    write = TracesWrite.of(examples, ctx)
    write.apply(client, ctx.run_id, False)
    return write.trace_ids()


@dataclass(frozen=True)
class TracesWrite:
    """A run's traces as one write: the trace infos (assessments included) and their spans.

    Built once, so a replay writes the very trace ids the run made; on a
    replay, traces already in the store (an earlier attempt got that far) are
    not started again, and spans are upserted by MLflow, so nothing doubles.
    """

    experiment_id: str
    traces: tuple[tuple[Any, tuple[Any, ...]], ...]  # (TraceInfo, its spans)
    kind: str = "traces"

    @classmethod
    def of(cls, examples: Sequence[ExampleResult], ctx: TraceContext) -> TracesWrite:
        rng = random.Random()  # ids only need to be unique; not seeded, two runs must not collide
        built = (build_trace(ex, ctx, rng) for ex in examples)
        return cls(ctx.experiment_id, tuple((info, tuple(spans)) for info, spans in built))

    def trace_ids(self) -> list[str]:
        return [info.trace_id for info, _ in self.traces]

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        from mlflow.tracing.client import TracingClient

        tracing = TracingClient(tracking_uri=client.tracking_uri)
        infos = [info for info, _ in self.traces]
        if replay:
            have = stored_trace_ids(client, self.experiment_id, run_id)
            infos = [info for info in infos if info.trace_id not in have]
        if not start_traces_in_one_transaction(tracing.store, self.experiment_id, infos):
            for info in infos:
                tracing.start_trace(info)
        spans = [span for _, trace_spans in self.traces for span in trace_spans]
        for start in range(0, len(spans), 3000):  # bounded request size for a tracking server
            tracing.log_spans(self.experiment_id, spans[start : start + 3000])
        return {}

    def encode(self, files: Path) -> dict[str, Any]:
        return {"experiment_id": self.experiment_id,
                "traces": [{"info": info.to_dict(), "spans": [s.to_dict() for s in spans]}
                           for info, spans in self.traces]}

    @classmethod
    def decode(cls, data: Mapping[str, Any], files: Path) -> TracesWrite:
        from mlflow.entities import Span, TraceInfo

        return cls(str(data["experiment_id"]), tuple(
            (TraceInfo.from_dict(t["info"]), tuple(Span.from_dict(s) for s in t["spans"])) for t in data["traces"]
        ))


def stored_trace_ids(client: Any, experiment_id: str, run_id: str) -> set[str]:
    """Ids of the run's traces already in the store."""
    ids: set[str] = set()
    token = None
    while True:
        page = client.search_traces(locations=[experiment_id], run_id=run_id, include_spans=False,
                                    max_results=500, page_token=token)
        ids.update(t.info.trace_id for t in page)
        token = page.token
        if not token:
            return ids


def build_trace(ex: ExampleResult, ctx: TraceContext, rng: random.Random) -> tuple[Any, list[Any]]:
    """(TraceInfo with assessments, [root, model, score] spans) for one example."""
    from mlflow.entities import SpanType, TraceInfo, TraceLocation, TraceState
    from mlflow.tracing.constant import TraceMetadataKey, TraceTagKey
    from mlflow.tracing.utils import encode_trace_id

    otel_trace = rng.getrandbits(128) or 1
    trace_id = "tr-" + encode_trace_id(otel_trace)
    resp, sample = ex.response, ex.sample
    latency_ns = int(max(resp.latency_s, 0.0) * 1e9)
    t0 = ctx.start_ns
    t_model_end = t0 + latency_ns
    t_end = t_model_end + ctx.score_share_ns
    inputs = root_inputs(ex)
    outputs = root_outputs(ex)
    usage = {
        "input_tokens": resp.prompt_tokens,
        "output_tokens": resp.output_tokens,
        "total_tokens": resp.prompt_tokens + resp.output_tokens,
    }
    status = "ERROR" if resp.error is not None else "OK"
    root_id, model_id, score_id = (rng.getrandbits(64) or 1 for _ in range(3))
    root = _span(trace_id, otel_trace, root_id, None, f"{ctx.task}/{sample.id}", t0, t_end, status, {
        "mlflow.spanType": SpanType.CHAIN, "mlflow.spanInputs": inputs, "mlflow.spanOutputs": outputs,
    })
    model = _span(trace_id, otel_trace, model_id, root_id, "model", t0, t_model_end, status, {
        "mlflow.spanType": SpanType.LLM,
        "mlflow.spanInputs": {"prompt": ex.request.prompt, "system": ex.request.system,
                              "choices": list(ex.request.choices)},
        "mlflow.spanOutputs": {"texts": list(resp.texts), "finish_reason": resp.finish_reason,
                               "error": None if resp.error is None else resp.error.message},
        "mlflow.chat.tokenUsage": usage,
        "mlflow.llm.model": ctx.model_id,
        "harness.model": ctx.model,
        "harness.latency_s": resp.latency_s,
        "harness.cached_tokens": resp.cached_tokens,
        "harness.from_cache": resp.from_cache,
        "harness.cost_usd": ex.cost_usd,
        **({} if ctx.prices is None else _cost_attributes(ex, ctx.prices)),
    })
    score = _span(trace_id, otel_trace, score_id, root_id, "score", t_model_end, t_end, "OK", {
        "mlflow.spanType": SpanType.EVALUATOR,
        "mlflow.spanInputs": {"output": resp.text, "references": list(sample.references)},
        "mlflow.spanOutputs": {"values": dict(ex.score.values), "details": _jsonable(ex.score.details)},
        "harness.scorers": ctx.scorers,
        "harness.scoring_share": True,
    })
    info = TraceInfo(
        trace_id=trace_id,
        trace_location=TraceLocation.from_experiment_id(ctx.experiment_id),
        request_time=t0 // 1_000_000,
        execution_duration=(t_end - t0) // 1_000_000,
        state=TraceState.ERROR if resp.error is not None else TraceState.OK,
        # the example without its rendered prompt: MLflow's evaluation-run comparison pairs the
        # two runs' traces by request preview, and a k-shot or reworded prompt is the same example
        request_preview=_preview({k: v for k, v in inputs.items() if k != "prompt"}),
        response_preview=_preview(outputs),
        trace_metadata={
            TraceMetadataKey.SOURCE_RUN: ctx.run_id,
            TraceMetadataKey.TOKEN_USAGE: json.dumps(usage),
            "mlflow.trace_schema.version": "3",
            "harness.sample_id": sample.id,
        },
        tags={TraceTagKey.TRACE_NAME: f"{ctx.task}/{sample.id}", "harness.task": ctx.task,
              "harness.model": ctx.model, "harness.sample_id": sample.id},
        assessments=assessments(ex, ctx, trace_id),
    )
    return info, [root, model, score]


def root_inputs(ex: ExampleResult) -> dict[str, Any]:
    """The trace's request: the sample's fields and the rendered prompt."""
    return {"id": ex.sample.id, "input": ex.sample.input, "prompt": ex.request.prompt,
            "fields": _jsonable(ex.sample.fields)}


def root_outputs(ex: ExampleResult) -> Any:
    """The trace's response: the output text, or every candidate when there are several."""
    texts = ex.response.texts
    return list(texts) if len(texts) > 1 else ex.response.text


def assessments(ex: ExampleResult, ctx: TraceContext, trace_id: str) -> list[Any]:
    """One feedback per per-example score value, and the reference(s) as an expectation."""
    from mlflow.entities import AssessmentSource, AssessmentSourceType, Expectation, Feedback

    code = AssessmentSource(source_type=AssessmentSourceType.CODE, source_id=f"harness:{ctx.scorers}")
    rationale = ex.score.details.get("rationale")  # judges give one; rule-based scorers do not
    out: list[Any] = [
        Feedback(name=name, value=float(value), source=code, trace_id=trace_id,
                 rationale=str(rationale) if rationale is not None else None)
        for name, value in sorted(ex.score.values.items())
    ]
    refs = ex.sample.references
    if refs:
        human = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=ctx.data_source[:200])
        value: Any = refs[0] if len(refs) == 1 else list(refs)
        out.append(Expectation(name=EXPECTATION, value=value, source=human, trace_id=trace_id))
    return out


def _span(trace_id: str, otel_trace: int, span_id: int, parent: int | None, name: str, start: int, end: int,
          status: str, attributes: Mapping[str, Any]) -> Any:
    from mlflow.entities import Span
    from mlflow.tracing.utils import build_otel_context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import Status, StatusCode

    # MLflow stores every span attribute as JSON text
    attrs = {"mlflow.traceRequestId": json.dumps(trace_id)}
    attrs.update({k: json.dumps(v, ensure_ascii=False, default=str) for k, v in attributes.items()})
    otel = ReadableSpan(
        name=name,
        context=build_otel_context(otel_trace, span_id),
        parent=build_otel_context(otel_trace, parent) if parent is not None else None,
        start_time=start,
        end_time=end,
        attributes=attrs,
        status=Status(StatusCode.ERROR if status == "ERROR" else StatusCode.OK),
        resource=Resource.get_empty(),
    )
    return Span(otel)


def _preview(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text[:_PREVIEW]


def _jsonable(value: Any) -> Any:
    """Sample fields and score details as JSON-safe values (dates and the like become text)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))



_STORE_HELPERS = ("SqlTraceInfo", "SqlTraceTag", "SqlTraceMetadata", "SqlAssessments", "RollupFamily",
                  "enqueue_rollup_rebuild_partitions", "PROMOTED_TRACE_METADATA_KEYS",
                  "analytics_columns_from_metadata", "validate_trace_name")


def start_traces_in_one_transaction(store: Any, experiment_id: str, infos: Sequence[Any]) -> bool:
    """A SQL store's `start_trace` for many traces in one transaction; False: use `start_trace` per trace.

    `SqlAlchemyStore.start_trace` opens a session, re-reads the experiment and
    commits once per trace: ~10 ms each on SQLite, most of what traces cost a
    run. This is its insert path (same rows, same rollup bookkeeping), done for
    all traces in one session. It reads the store module's own helpers, so a
    MLflow version that renames one falls back to the per-trace API instead of
    writing something different; one transaction means nothing is half written.
    """
    from mlflow.store.tracking import sqlalchemy_store as sa
    from mlflow.tracing.constant import TraceMetadataKey, TraceTagKey

    if not isinstance(store, sa.SqlAlchemyStore) or not all(hasattr(sa, name) for name in _STORE_HELPERS):
        return False
    if not infos:
        return True
    with store.ManagedSessionMaker(read_only=False) as session:
        experiment = store.get_experiment(experiment_id)
        store._check_experiment_is_active(experiment)
        times = [info.request_time for info in infos]
        sa.enqueue_rollup_rebuild_partitions(session, [
            (family, int(experiment_id), times)
            for family in (sa.RollupFamily.TRACE_METRIC, sa.RollupFamily.ASSESSMENT)
        ])
        for info in infos:
            trace_id = info.trace_id
            metadata = dict(info.trace_metadata.items())
            row = sa.SqlTraceInfo(
                request_id=trace_id,
                experiment_id=experiment_id,
                timestamp_ms=info.request_time,
                execution_time_ms=info.execution_duration,
                status=info.state.value,
                client_request_id=info.client_request_id,
                request_preview=info.request_preview,
                response_preview=info.response_preview,
                trace_name=sa.validate_trace_name(info.tags.get(TraceTagKey.TRACE_NAME)),
                **sa.analytics_columns_from_metadata(metadata),
            )
            row.tags = [
                sa.SqlTraceTag(request_id=trace_id, key=k, value=v)
                for k, v in info.tags.items()
                if k != TraceTagKey.TRACE_NAME
            ] + [store._get_trace_artifact_location_tag(experiment, trace_id)]
            for key in sa.PROMOTED_TRACE_METADATA_KEYS:
                metadata.pop(key, None)
            metadata[TraceMetadataKey.TRACE_INFO_FINALIZED] = "true"
            assessments = []
            for assessment in info.assessments:
                sql = sa.SqlAssessments.from_mlflow_entity(assessment)
                sql.trace_id = trace_id
                sql.experiment_id = int(experiment_id)
                sql.trace_timestamp_ms = info.request_time
                assessments.append(sql)
            row.assessments = assessments
            row.request_metadata = [
                sa.SqlTraceMetadata(request_id=trace_id, key=k, value=v) for k, v in sorted(metadata.items())
            ]
            session.add(row)
        session.flush()
    return True


def _cost_attributes(ex: ExampleResult, prices: Prices) -> dict[str, Any]:
    """MLflow's span cost (input, output, total) from the harness's own pricing of this call.

    MLflow's cost has no compute-time part: it is in the total (which is the example's
    `cost_usd`, the figure every report uses) and named on its own beside it.
    """
    from mlflow.tracing.constant import CostKey, SpanAttributeKey

    parts = cost_parts(ex.response, prices)
    return {
        SpanAttributeKey.LLM_COST: {CostKey.INPUT_COST: parts.input_usd, CostKey.OUTPUT_COST: parts.output_usd,
                                    CostKey.TOTAL_COST: ex.cost_usd},
        "harness.compute_cost_usd": parts.compute_usd,
    }
