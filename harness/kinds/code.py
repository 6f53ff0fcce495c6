"""The `code` kind: n candidates per problem, checked before any model loads.

`check` rejects an unknown language (with close matches), a language whose
toolchain is missing, a bad mode, k < 1, and rows without the fields the
assembly needs. `needs_code_execution` is the task's half of the double
opt-in; the runner refuses such a task unless `allow_code_execution=true`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.code import languages
from harness.core.errors import ConfigError, DataError
from harness.core.records import GenerationParams, Request, Sample
from harness.kinds.base import KINDS, TaskKind

MODES = ("completion", "instruction")
_REQUIRED = {"completion": ("prompt", "test"), "instruction": ("declaration", "test")}


def _request(sample: Sample, prompt: str, system: str | None, params: GenerationParams, task: Any) -> Request:
    return Request(sample_id=sample.id, prompt=prompt, system=system, params=replace(params, n=task.n_samples))


def _check(task: Any, samples: Sequence[Sample], assets: Path) -> None:
    if task.execute:
        languages.get_language(task.language)  # unknown or not installed: ConfigError
    else:
        languages.known_language(task.language)
    if task.mode not in MODES:
        raise ConfigError(f"unknown task.mode {task.mode!r}; known: {', '.join(MODES)}")
    if task.n_samples < 1:
        raise ConfigError(f"task.n_samples must be >= 1, got {task.n_samples}")
    if any(k < 1 for k in task.k):
        raise ConfigError(f"task.k values must be >= 1, got {list(task.k)}")
    for sample in samples:
        missing = [f for f in _REQUIRED[task.mode] if not sample.fields.get(f)]
        if task.language == "go" and not sample.fields.get("test_setup"):
            missing.append("test_setup")
        if missing:
            raise DataError(f"task {task.name}: sample {sample.id!r} lacks field(s) {', '.join(missing)}")


KINDS.register("code")(TaskKind(request=_request, check=_check, needs_code_execution=lambda task: bool(task.execute)))
