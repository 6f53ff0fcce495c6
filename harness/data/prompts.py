"""Renders prompts from Jinja2 templates in tasks/<assets>/.

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
from harness.core.paths import tasks_dir
from harness.core.records import Sample


def assets_dir(task: TaskConfig) -> Path:
    folder = tasks_dir() / (task.assets or task.name)
    if not folder.is_dir():
        known = sorted(p.name for p in tasks_dir().iterdir() if p.is_dir())
        raise ConfigError(f"task assets folder not found: {folder} (task.assets){suggest(folder.name, known)}")
    return folder


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


