"""JSON-output scorers: is it JSON, does it fit the schema, are the fields right.

Per example (all 0/1 or fractions, averaged by the runner):

- `json.valid`: a JSON value could be extracted (strict or lenient, per task).
- `json.schema_valid`: it validates against the task's JSON Schema (only
  when the task names a schema).
- `json.exact_match`: same leaf fields as the gold, every value equal after
  the task's per-field normalization.
- `json.field_precision` / `json.field_recall` / `json.field_f1`: over
  flattened leaf fields (see harness.scorers.jsonx.compare_fields).

With several gold answers, the one with the best field F1 counts. Output
that is not JSON scores 0 on everything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from harness.core.records import Response, Sample, Score
from harness.kinds.json_output import load_schema, schema_path
from harness.scorers.base import PRELOAD, SCORERS, ScoreInput, ScoringContext
from harness.scorers.jsonx import FieldMatch, compare_fields, extract

MAX_SCHEMA_ERRORS = 5


def _validator(task: Any) -> Any:
    """A jsonschema validator for the task's schema, or None when it has none."""
    if not getattr(task, "schema", None):
        return None
    import jsonschema

    from harness.data.prompts import assets_dir

    path = schema_path(task, assets_dir(task))
    assert path is not None
    schema = load_schema(path)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _gold_values(sample: Sample) -> list[Any]:
    golds = []
    for ref in sample.references:
        try:
            golds.append(json.loads(ref))
        except json.JSONDecodeError:
            golds.append(ref)  # a bare string gold; check() normally rejects this first
    return golds


def score_json(sample: Sample, response: Response, task: Any, validator: Any) -> Score:
    """Score one output; `validator` is a jsonschema validator or None."""
    rules = dict(getattr(task, "field_normalization", {}) or {})
    got = extract(response.text, getattr(task, "extraction", "lenient"))
    values: dict[str, float] = {}
    details: dict[str, Any] = {"extraction": got.method or None, "extracted": got.value if got.ok else None}
    errors: list[str] = [] if got.ok else [got.error]
    values["json.valid"] = float(got.ok)
    if validator is not None:
        if got.ok:
            problems = sorted(validator.iter_errors(got.value), key=lambda e: list(e.path))
            errors += [f"schema: {'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in problems][
                :MAX_SCHEMA_ERRORS
            ]
            values["json.schema_valid"] = float(not problems)
        else:
            values["json.schema_valid"] = 0.0
    best: FieldMatch | None = None
    if got.ok:
        for gold in _gold_values(sample):
            match = compare_fields(got.value, gold, rules)
            if best is None or match.f1 > best.f1:
                best = match
    if best is None:
        values.update({"json.exact_match": 0.0, "json.field_precision": 0.0, "json.field_recall": 0.0})
        values["json.field_f1"] = 0.0
    else:
        values["json.exact_match"] = float(best.exact)
        values["json.field_precision"] = best.precision
        values["json.field_recall"] = best.recall
        values["json.field_f1"] = best.f1
        details.update(missing=list(best.missing), wrong=list(best.wrong), extra=list(best.extra))
    details["errors"] = errors
    return Score(values=values, details=details)


PRELOAD["json"] = ("jsonschema",)


@SCORERS.register("json")
def json_output(items: Sequence[ScoreInput], task: Any, ctx: ScoringContext) -> list[Score]:
    """Validity, schema validity, exact match and field-level P/R/F1 of JSON outputs."""
    validator = _validator(task)  # loaded once per batch
    return [score_json(it.sample, it.response, task, validator) for it in items]
