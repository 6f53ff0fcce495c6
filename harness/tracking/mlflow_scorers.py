"""The harness's per-example scorers as MLflow GenAI scorers, for `mlflow.genai.evaluate` on any data.

    import mlflow
    from harness.tracking.mlflow_scorers import harness_scorer

    mlflow.genai.evaluate(data=frame, scorers=[
        harness_scorer("label_match", task="classification", overrides=["task.labels=[yes,no]"]),
        harness_scorer("rouge", task="summarization"),
    ])

A row's `outputs` is the model's text (a list of texts: several candidates,
for pass@k), `expectations["expected_response"]` the reference (a list:
several references), and `inputs` the source row (code tasks read `prompt`,
`declaration` and `test` from it). Each per-example value the harness scorer
gives becomes one MLflow feedback (`accuracy`, `rouge1.f1`, `json.valid`,
`pass_at_1`, ...: MLflow's metric alphabet, as a run logs them), with the
scorer's details as its rationale; MLflow takes the mean of each over the
rows. The scorer sees the task config named by `task` (composed from
conf/task/ with `overrides`), exactly as in a harness run.

Corpus metrics (BLEU, chrF, macro-F1) are not per example and are not
offered here. `code_exec` runs model-written code in the harness sandbox and,
as in a run, only with both opt-ins: a task with `execute: true` and
`allow_code_execution=True` here.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from typing import Any

from harness.core.records import Response, Sample
from harness.tracking.traces import EXPECTATION
from harness.tracking.writes import mlflow_metric_name

SCORER_MODULES = tuple(f"harness.scorers.{m}" for m in ("classification", "summarization", "json_output", "code"))


def harness_scorer(
    name: str, task: str, overrides: Sequence[str] = (), allow_code_execution: bool = False
) -> Any:
    """An `mlflow.genai.scorers.Scorer` running harness scorer `name` with task config `task`."""
    from mlflow.entities import AssessmentSource, AssessmentSourceType, Feedback
    from mlflow.genai.scorers import scorer

    from harness.config.load import compose_run
    from harness.scorers.base import SCORERS, ScoreInput, ScoringContext

    for module in SCORER_MODULES:  # registration happens at import
        importlib.import_module(module)
    fn = SCORERS.get(name, "scorer")  # unknown names fail here, with close matches
    cfg = compose_run([f"task={task}", *overrides]).task
    ctx = ScoringContext(allow_code_execution=allow_code_execution)
    source = AssessmentSource(source_type=AssessmentSourceType.CODE, source_id=f"harness:{name}")

    def score(inputs: Any, outputs: Any, expectations: Any) -> list[Any]:
        sample = to_sample(inputs, expectations, cfg.data.input_field)
        texts = tuple(str(o) for o in outputs) if isinstance(outputs, (list, tuple)) else (_text(outputs),)
        [result] = fn([ScoreInput(sample, Response(texts=texts))], cfg, ctx)
        rationale = json.dumps(dict(result.details), ensure_ascii=False, default=str) if result.details else None
        return [Feedback(name=mlflow_metric_name(k), value=float(v), source=source, rationale=rationale)
                for k, v in sorted(result.values.items())]

    return scorer(score, name=name)


def to_sample(inputs: Any, expectations: Any, input_field: str) -> Sample:
    """A harness Sample from one MLflow evaluation row."""
    fields = dict(inputs) if isinstance(inputs, dict) else {input_field: inputs}
    expected = (expectations or {}).get(EXPECTATION) if isinstance(expectations, dict) else expectations
    if expected is None:
        refs: tuple[str, ...] = ()
    elif isinstance(expected, (list, tuple)):
        refs = tuple(_text(e) for e in expected)
    else:
        refs = (_text(expected),)
    text = fields.get(input_field, "")
    sid = str(fields.get("id", fields.get("task_id", "")))
    return Sample(id=sid, input=_text(text), references=refs, fields=fields)


def _text(value: Any) -> str:
    """Strings as they are; anything else (a JSON document, a number) as JSON text."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
