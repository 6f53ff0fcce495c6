"""`export=path.jsonl`: the candidate's failures as tuning data (the data flywheel).

A failure is a test item on which the candidate's primary score is below
`export_below` (default 1.0: for 0/1 metrics the wrong answers, for
continuous ones every item short of perfect; an errored item scores 0).
They are written in the format the candidate is tuned from, so that they can
become the next round's tuning data:

- a Gemini variant (run tag `harness.backend=gemini`): Gemini supervised-tuning
  JSONL (`harness.backends.gemini.tuning.sft_row`), the user turn being the
  zero-shot prompt the candidate saw (the task's template is rendered again
  when the candidate ran k-shot), the model turn the reference;
- any other variant (local PEFT, `python -m harness.tune`): rows of the task's
  own train file, `{id_field, input_field, target_field}`, or Gemini rows when
  the task's train file is in that format (wikilingua), read back by the
  task's loader with `task.data.train_path=path.jsonl`.

Mind the split: these items come from the *test* split. Tuning on them and
then evaluating on the same test split measures memorisation, not skill
(the leakage audit flags it); evaluate on fresh data after such a round.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.compare.runs import ExampleRow, RunData
from harness.config.schema import TaskConfig
from harness.core.errors import ConfigError
from harness.core.records import Sample


def failures(run: RunData, metric: str, below: float) -> list[ExampleRow]:
    """The run's examples whose `metric` is below `below` (missing or NaN counts as 0), in id order."""

    def score(row: ExampleRow) -> float:
        value = row.scores.get(metric, 0.0)
        return 0.0 if math.isnan(value) else value

    return sorted((r for r in run.rows if score(r) < below), key=lambda r: r.id)


def _gemini_train_file(task: TaskConfig) -> bool:
    """True when the task's own train file holds Gemini tuning rows ({"contents": [...]})."""
    path = task.data.train_path
    if not path or not str(path).endswith(".jsonl") or not Path(path).is_file():
        return False
    with Path(path).open(encoding="utf-8") as fh:
        first = fh.readline()
    try:
        row = json.loads(first)
    except json.JSONDecodeError:
        return False
    return isinstance(row, dict) and "contents" in row and task.data.input_field not in row


def _zero_shot_render(task: TaskConfig) -> Callable[[Sample], str]:
    from harness.data.prompts import PromptBuilder

    builder = PromptBuilder(dataclasses.replace(task, shots=0), ())
    return builder.render


def rows_for(run: RunData, items: Sequence[ExampleRow], task: TaskConfig) -> list[dict[str, Any]]:
    """The failures as rows of the candidate's tuning format (see the module docstring)."""
    from harness.backends.gemini.tuning import sft_row

    if run.tag("backend") == "gemini":
        render = None if run.tag("shots") in ("", "0") else _zero_shot_render(task)
        return [
            sft_row(render(Sample(r.id, r.input, (r.reference,))) if render else (r.prompt or r.input), r.reference)
            for r in items
        ]
    if _gemini_train_file(task):
        return [sft_row(r.input, r.reference) for r in items]
    d = task.data
    return [{(d.id_field or "id"): r.id, d.input_field: r.input, (d.target_field or "target"): r.reference}
            for r in items]


def export_failures(run: RunData, metric: str, below: float, task: TaskConfig, path: Path) -> int:
    """Write the run's failures to `path` as tuning JSONL; returns the number of rows."""
    items = failures(run, metric, below)
    missing = [r.id for r in items if not r.reference]
    if missing:
        raise ConfigError(f"export: example {missing[0]} of run {run.run_id} has no reference to tune on")
    rows = rows_for(run, items, task)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


def export_paths(path: str, n_candidates: int) -> list[Path]:
    """One path per candidate: `path` itself for one, `<stem>.c<i><suffix>` for several."""
    p = Path(path)
    if n_candidates == 1:
        return [p]
    return [p.with_name(f"{p.stem}.c{i}{p.suffix}") for i in range(n_candidates)]
