"""A tiny store shaped like the demonstration's: base 0-shot, base k-shot and tuned runs.

The same task (`banking77_demo`), model names, variants and shots as `./dev run`, but the
outputs are replayed from files written here (no model), on the first `N` test items, so
the store is built in seconds through the normal pipeline: runs, traces with assessments,
dataset input and prompt version are all written by the harness itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.run.runner import evaluate
from tests.helpers import ROOT, run_config

N = 8
BASE, TUNED = "gemma3_270m", "gemma3_270m_banking77_lora"


@dataclass(frozen=True)
class DemoRun:
    """One of the three evaluations: its model config name, shots, and how many items in N it gets right."""

    label: str
    model: str
    shots: int
    correct: int
    variant: str = "base"


RUNS = (
    DemoRun("base 0-shot", BASE, 0, 2),
    DemoRun("base 3-shot", BASE, 3, 4),
    DemoRun("tuned 0-shot", TUNED, 0, 7, "lora"),
)


def rows() -> list[dict[str, str]]:
    """The demonstration's test items (`task.limit` picks N of them)."""
    lines = (ROOT / "tasks/banking77_demo/test.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines]


def wrong_label(label: str) -> str:
    # a fixed, plausible wrong intent: the first item's wrong answer is what the view must show
    return "exchange_rate" if label != "exchange_rate" else "change_pin"


def build(tmp: Path) -> tuple[Path, dict[str, str]]:
    """Writes the three runs into tmp/mlflow.db; returns the store and label -> run id."""
    ids: dict[str, str] = {}
    items = rows()
    for run in RUNS:
        replay = tmp / f"{run.label.replace(' ', '_')}.jsonl"
        answers = (r["label"] if i % N < run.correct else wrong_label(r["label"]) for i, r in enumerate(items))
        lines = (json.dumps({"id": r["id"], "output": " " + a}) + "\n" for r, a in zip(items, answers, strict=True))
        replay.write_text("".join(lines), encoding="utf-8")
        result = evaluate(run_config(
            tmp, "task=banking77_demo", f"task.limit={N}", f"task.shots={run.shots}", "task.mode=generate",
            "model=replay", f"model.path={replay}", f"model.name={run.model}", f"model.variant={run.variant}",
            *([f"model.base_model={BASE}"] if run.variant != "base" else []),
        ), quiet=True)  # fmt: skip
        assert result.mlflow_run_id
        ids[run.label] = result.mlflow_run_id
    return tmp / "mlflow.db", ids
