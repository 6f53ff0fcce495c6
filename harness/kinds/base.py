"""The task-kind contract.

A kind knows how to turn a rendered prompt into a Request (a choice
request for log-likelihood classification, n candidates for pass@k, a
response schema for constrained JSON), how to check a task's config and
data before any model loads, and which artifacts to draw after scoring.
Scoring itself lives in registered scorers (harness.scorers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.records import ExampleResult, GenerationParams, Request, Sample
from harness.core.registry import Registry
from harness.scorers.base import ScoreInput


def no_check(task: Any, samples: Sequence[Sample], assets: Path) -> None:
    """Default validation: nothing beyond the data loader's checks."""


def no_artifacts(examples: Sequence[ExampleResult], task: Any, out_dir: Path) -> list[Path]:
    return []


def no_run_params(items: Sequence[ScoreInput], task: Any) -> dict[str, str]:
    return {}


def plain_request(sample: Sample, prompt: str, system: str | None, params: GenerationParams, task: Any) -> Request:
    return Request(sample_id=sample.id, prompt=prompt, system=system, params=params)


@dataclass(frozen=True)
class TaskKind:
    """How one kind of task plugs into the runner.

    - `request(sample, prompt, system, params, task)` -> Request
    - `check(task, samples, assets_dir)` raises ConfigError/DataError on bad
      config or data (unknown label, invalid schema, unknown language).
    - `artifacts(examples, task, out_dir)` writes files (PNG, ...) and
      returns their paths, for results/ and MLflow.
    - `needs_code_execution(task)` says whether the double opt-in applies.
    - `run_params(items, task)` -> scoring facts to record (library signatures).
    """

    request: Callable[[Sample, str, str | None, GenerationParams, Any], Request] = plain_request
    check: Callable[[Any, Sequence[Sample], Path], None] = no_check
    artifacts: Callable[[Sequence[ExampleResult], Any, Path], list[Path]] = no_artifacts
    needs_code_execution: Callable[[Any], bool] = field(default=lambda task: False)
    # facts about how the scores were computed, recorded as MLflow tags (e.g. sacrebleu signatures)
    run_params: Callable[[Sequence[ScoreInput], Any], dict[str, str]] = no_run_params


KINDS: Registry[TaskKind] = Registry("task kind")
