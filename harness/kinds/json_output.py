"""The `json` task kind: structured output checked against a JSON Schema.

With `task.constrained`, the schema text travels in the request
(`GenerationParams.json_schema`) to backends that declare the JSON_SCHEMA
capability. `check` fails before any model loads when the schema file is
missing, is not JSON, or is not a valid JSON Schema, or when a gold answer
is not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError, DataError
from harness.core.records import GenerationParams, Request, Sample
from harness.kinds.base import KINDS, TaskKind
from harness.scorers.jsonx import NORMALIZERS


def schema_path(task: Any, assets: Path) -> Path | None:
    """The task's schema file (relative to its assets folder), or None when it has none."""
    return assets / task.schema if getattr(task, "schema", None) else None


def load_schema(path: Path) -> dict[str, Any]:
    """Read and check a JSON Schema file; ConfigError naming the file on any problem."""
    import jsonschema

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"JSON schema file not found: {path} (task.schema)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read JSON schema {path}: {exc}") from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: JSON schema is not valid JSON: {exc.msg}") from None
    if not isinstance(schema, dict | bool):
        raise ConfigError(f"{path}: a JSON schema must be an object, got {type(schema).__name__}")
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise ConfigError(f"{path}: invalid JSON Schema at {where}: {exc.message}") from None
    return schema if isinstance(schema, dict) else {}


def _check(task: Any, samples: Sequence[Sample], assets: Path) -> None:
    if task.extraction not in ("strict", "lenient"):
        raise ConfigError(f"task.extraction must be strict or lenient, got {task.extraction!r}")
    for field, how in task.field_normalization.items():
        if how not in NORMALIZERS:
            raise ConfigError(
                f"task.field_normalization.{field}: unknown normalizer {how!r}; known: {', '.join(NORMALIZERS)}"
            )
    path = schema_path(task, assets)
    if path is not None:
        load_schema(path)
    elif task.constrained:
        raise ConfigError(f"task {task.name}: constrained=true needs task.schema")
    for sample in samples:
        for ref in sample.references:
            try:
                json.loads(ref)
            except json.JSONDecodeError as exc:
                raise DataError(f"task {task.name}: sample {sample.id!r}: gold answer is not JSON: {exc.msg}") from None


def _request(sample: Sample, prompt: str, system: str | None, params: GenerationParams, task: Any) -> Request:
    if task.constrained:
        from harness.data.prompts import assets_dir

        path = schema_path(task, assets_dir(task))
        if path is not None:
            schema = load_schema(path)
            params = replace(params, json_schema=json.dumps(schema, sort_keys=True))
    return Request(sample_id=sample.id, prompt=prompt, system=system, params=params)


KINDS.register("json")(TaskKind(request=_request, check=_check))
