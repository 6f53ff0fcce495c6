"""The benchmark workloads as plain data (no torch, no harness imports).

Every tool (the floor script, this harness, lm-eval, inspect-ai) gets the
exact same prompt strings from here, so differences come from the tools.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMM = ROOT / "tasks" / "summarization"
CLS = ROOT / "tasks" / "classification"


@dataclass(frozen=True)
class GenWorkload:
    name: str
    prompts: tuple[str, ...]
    max_new_tokens: int
    stop: tuple[str, ...]


@dataclass(frozen=True)
class ChoiceWorkload:
    name: str
    prompts: tuple[str, ...]
    choices: tuple[str, ...]


def _rows(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summarization_prompts(n: int) -> tuple[str, ...]:
    """One-shot summarization prompts of about 115 Gemma tokens each."""
    train, test = _rows(SUMM / "train.jsonl"), _rows(SUMM / "test.jsonl")
    shot = min(train, key=lambda r: len(r["text"]) + len(r["summary"]))  # keeps prompts near 115 tokens
    pool = test + [r for r in train if r is not shot]
    head = f"Summarize the paragraph in one sentence.\n\nParagraph: {shot['text']}\nSummary: {shot['summary']}\n\n"
    return tuple(f"{head}Paragraph: {r['text']}\nSummary:" for r in pool[:n])


def sentiment_prompts(n: int) -> tuple[str, ...]:
    """Two-shot positive/negative review prompts (a shared few-shot prefix)."""
    rows = [r for r in _rows(CLS / "train.jsonl") + _rows(CLS / "test.jsonl") if r["label"] in ("positive", "negative")]
    shots, pool = rows[:2], rows[2:]
    head = "Classify the sentiment of each review as positive or negative.\n\n" + "".join(
        f"Review: {s['text']}\nSentiment: {s['label']}\n\n" for s in shots
    )
    if len(pool) < n:
        raise SystemExit(f"only {len(pool)} two-label sentiment rows, asked for {n}")
    return tuple(f"{head}Review: {r['text']}\nSentiment:" for r in pool[:n])


def workload(name: str, quick: bool) -> GenWorkload | ChoiceWorkload:
    """W1 / W1b / W2 at full size, or scaled down with --quick."""
    n_gen, n_cho, new = (8, 32, 8) if quick else (64, 200, 32)
    if name == "W1":
        return GenWorkload(name, summarization_prompts(n_gen), new, ("\n",))
    if name == "W1b":
        return GenWorkload(name, summarization_prompts(n_gen), new, ())
    if name == "W2":
        return ChoiceWorkload(name, sentiment_prompts(n_cho), (" positive", " negative"))
    raise SystemExit(f"unknown workload {name}")
