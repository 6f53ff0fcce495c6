"""Classification: as generation (parse the label from text) or as choice log-likelihood."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.config.schema import ClassificationTask
from harness.core.errors import ConfigError, DataError, suggest
from harness.core.records import ExampleResult, GenerationParams, Request, RequestKind, Sample
from harness.kinds.base import KINDS, TaskKind, plain_request

MODES = ("generate", "loglikelihood")
INVALID = "<invalid>"


def request(sample: Sample, prompt: str, system: str | None, params: GenerationParams, task: Any) -> Request:
    if task.mode == "loglikelihood":
        choices = tuple(f"{task.choice_prefix}{label}" for label in task.labels)
        return Request(sample.id, prompt, params, system, RequestKind.CHOICES, choices)
    return plain_request(sample, prompt, system, params, task)


def check(task: ClassificationTask, samples: Sequence[Sample], assets: Path) -> None:
    if task.mode not in MODES:
        raise ConfigError(f"task.mode={task.mode!r}{suggest(task.mode, MODES)}; choose one of {', '.join(MODES)}")
    if not task.labels:
        raise ConfigError("task.labels is empty: list the class labels, e.g. 'task.labels=[negative,positive]'")
    if len(set(task.labels)) != len(task.labels):
        raise ConfigError(f"task.labels has duplicates: {task.labels}")
    labels = set(task.labels)
    for s in samples:
        if s.target not in labels:
            raise DataError(
                f"{task.data.path}: sample {s.id!r}: label {s.target!r} is not in task.labels"
                f"{suggest(s.target, task.labels)} ({', '.join(task.labels)})"
            )


_FIGURE_FORMAT = 1  # bump when the drawing changes, so kept figures are redrawn


def confusion_png(examples: Sequence[ExampleResult], task: Any, out_dir: Path) -> list[Path]:
    """A confusion matrix (rows: gold, columns: predicted, plus an 'invalid' column).

    The drawing is kept by content in <results_dir>/.cache/figures/ (out_dir is
    <results_dir>/<task>/<model>/<timestamp>/): a re-run with the same counts copies it,
    so a cached re-run does not import matplotlib (about half a second) to draw it again.
    """
    labels = list(task.labels)
    matrix = confusion_counts(examples, labels)
    path = out_dir / "confusion_matrix.png"
    key = json.dumps([_FIGURE_FORMAT, task.name, labels, matrix.tolist()], ensure_ascii=False)
    kept = out_dir.parents[2] / ".cache" / "figures" / f"confusion-{hashlib.sha256(key.encode()).hexdigest()[:32]}.png"
    if kept.is_file():
        shutil.copyfile(kept, path)
        return [path]
    _draw_confusion(matrix, labels, task.name, path)
    kept.parent.mkdir(parents=True, exist_ok=True)
    partial = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
    shutil.copyfile(path, partial)
    os.replace(partial, kept)  # atomic: a concurrent cell sees the whole file or none
    return [path]


def _draw_confusion(matrix: Any, labels: list[str], title: str, path: Path) -> None:
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global figure registry

    cols = [*labels, INVALID]
    size = max(4.0, 0.45 * len(cols) + 2)
    fig = Figure(figsize=(size, size * 0.8))
    ax = fig.subplots()
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(cols)), cols, rotation=90 if len(cols) > 8 else 0, fontsize=7 if len(cols) > 20 else 9)
    ax.set_yticks(range(len(labels)), labels, fontsize=7 if len(labels) > 20 else 9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"{title}: confusion matrix")
    if len(cols) <= 20:
        for (r, c), v in np.ndenumerate(matrix):
            ax.text(
                c, r, str(v), ha="center", va="center", fontsize=8, color="black" if v < matrix.max() / 2 else "white"
            )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def confusion_counts(examples: Sequence[ExampleResult], labels: Sequence[str]) -> Any:
    """Rows: gold label; columns: predicted label, then `invalid` (anything not a label)."""
    import numpy as np

    col = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels) + 1), dtype=int)
    for e in examples:
        if e.sample.target in col:  # the kind's check guarantees it; a stray row is not drawn
            matrix[col[e.sample.target], col.get(str(e.score.details.get("predicted", INVALID)), len(labels))] += 1
    return matrix


KINDS.register("classification")(TaskKind(request=request, check=check, artifacts=confusion_png))
