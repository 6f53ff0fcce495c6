"""Classification: as generation (parse the label from text) or as choice log-likelihood."""

from __future__ import annotations

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


def confusion_png(examples: Sequence[ExampleResult], task: Any, out_dir: Path) -> list[Path]:
    """A confusion matrix (rows: gold, columns: predicted, plus an 'invalid' column)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = list(task.labels)
    cols = [*labels, INVALID]
    gold = [e.sample.target for e in examples]
    pred = [str(e.score.details.get("predicted", INVALID)) for e in examples]
    matrix = confusion_matrix(gold, pred, labels=cols)[: len(labels)]
    size = max(4.0, 0.45 * len(cols) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.8))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(cols)), cols, rotation=90 if len(cols) > 8 else 0, fontsize=7 if len(cols) > 20 else 9)
    ax.set_yticks(range(len(labels)), labels, fontsize=7 if len(labels) > 20 else 9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"{task.name}: confusion matrix")
    if len(cols) <= 20:
        for (r, c), v in __import__("numpy").ndenumerate(matrix):
            ax.text(
                c, r, str(v), ha="center", va="center", fontsize=8, color="black" if v < matrix.max() / 2 else "white"
            )
    fig.tight_layout()
    path = out_dir / "confusion_matrix.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


KINDS.register("classification")(TaskKind(request=request, check=check, artifacts=confusion_png))
