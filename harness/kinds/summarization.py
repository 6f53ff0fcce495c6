"""The `summarization` kind: plain generation, every sample needs a reference summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.core.errors import DataError
from harness.core.records import Sample
from harness.kinds.base import KINDS, TaskKind
from harness.scorers.base import ScoreInput


def _check(task: Any, samples: Sequence[Sample], assets: Path) -> None:
    for sample in samples:
        if not any(ref.strip() for ref in sample.references):
            raise DataError(f"task {task.name}: sample {sample.id!r} has no reference summary (task.data.target_field)")


def _run_params(items: Sequence[ScoreInput], task: Any) -> dict[str, str]:
    from harness.scorers.summarization import metric_signatures

    sigs = metric_signatures(items)
    return {"rouge.use_stemmer": str(task.use_stemmer), **{f"{k}.signature": v for k, v in sigs.items()}}


KINDS.register("summarization")(TaskKind(check=_check, run_params=_run_params))
