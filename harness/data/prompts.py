"""Renders prompts from Jinja2 templates in tasks/<assets>/ (or a user folder: see `assets_dir`).

A template sees `sample` (the Sample being asked about), `examples` (the
few-shot Samples, empty for zero-shot) and `task` (the task config). The
same k examples are used for every sample of a run: a shared prefix is what
lets backends reuse it (KV cache, Gemini context caching) and keeps the
comparison between samples fair.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import jinja2

from harness.config.schema import TaskConfig
from harness.core.errors import ConfigError, suggest
from harness.core.paths import asset_dirs
from harness.core.records import Sample


def assets_dir(task: TaskConfig) -> Path:
    """The task's templates folder: `task.assets` (default: the task's name) as an absolute path, or a folder
    of that name in tasks/ or in a tasks/ folder inside or beside a $HARNESS_CONFIG_PATH folder, first found."""
    name = task.assets or task.name
    roots = asset_dirs()
    for root in roots:
        folder = root / name  # an absolute `assets` stays itself
        if folder.is_dir():
            return folder
    known = sorted({p.name for r in roots if r.is_dir() for p in r.iterdir() if p.is_dir()})
    where = ", ".join(str(r) for r in roots if r.is_dir())
    raise ConfigError(
        f"task assets folder not found: {name} (task.assets) in {where}{suggest(Path(name).name, known)}"
    )


class PromptBuilder:
    """Renders one task's prompts; built once per run."""

    def __init__(self, task: TaskConfig, train: Sequence[Sample]) -> None:
        folder = assets_dir(task)
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            autoescape=False,
        )
        try:
            self._template = env.get_template(task.template)
        except jinja2.TemplateNotFound:
            known = sorted(p.name for p in folder.glob("*.jinja"))
            raise ConfigError(
                f"prompt template not found: {folder / task.template} (task.template)"
                f"{suggest(task.template, known)}"
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"{folder / task.template}:{exc.lineno}: template syntax error: {exc.message}") from None
        self._task = task
        self.examples = select_examples(train, task.shots, task.seed)

    def render(self, sample: Sample) -> str:
        try:
            return self._template.render(sample=sample, examples=self.examples, task=self._task).strip()
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"template {self._task.template} of task {self._task.name}: {exc.message}") from None

    @property
    def system(self) -> str | None:
        return self._task.system or None


def select_examples(train: Sequence[Sample], shots: int, seed: int) -> tuple[Sample, ...]:
    """k examples from the train split, seeded; never from the test split."""
    if shots <= 0:
        return ()
    rng = random.Random(f"fewshot:{seed}")
    return tuple(train[i] for i in sorted(rng.sample(range(len(train)), shots)))


