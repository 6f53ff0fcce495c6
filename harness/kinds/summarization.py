"""The `summarization` kind: plain generation, every sample needs a reference summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.kinds.base import KINDS, TaskKind
from harness.records import Sample


def _check(task: Any, samples: Sequence[Sample], assets: Path) -> None:
    for sample in samples:
        if not any(ref.strip() for ref in sample.references):
            raise DataError(f"task {task.name}: sample {sample.id!r} has no reference summary (task.data.target_field)")


KINDS.register("summarization")(TaskKind(check=_check))
