"""Classification scorers: label parsing, accuracy, invalid rate; macro-F1 and per-class P/R/F1."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from harness.kinds.classification import INVALID
from harness.records import Response, Sample, Score
from harness.scorers.base import CORPUS_METRICS, SCORERS, ScoreInput, per_example


def normalize(text: str) -> str:
    """Casefold, strip accents and punctuation, collapse whitespace."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text.replace("_", " ")).split())


def parse_label(output: str, labels: Sequence[str]) -> str | None:
    """The label whose normalized form occurs first (as whole words) in the output.

    When two labels match at the same position the longer one wins, so
    'very positive' beats 'positive'. None when no label occurs.
    """
    text = f" {normalize(output)} "
    best: tuple[int, int, str] | None = None
    for label in labels:
        norm = normalize(label)
        if not norm:
            continue
        pos = text.find(f" {norm} ")
        if pos >= 0 and (best is None or (pos, -len(norm)) < (best[0], best[1])):
            best = (pos, -len(norm), label)
    return best[2] if best else None


def label_match(sample: Sample, response: Response, task: Any) -> Score:
    """accuracy (1/0) and invalid (1/0: no label found in the output)."""
    if response.choice_logprobs:
        lps = response.choice_logprobs
        predicted: str | None = task.labels[max(range(len(lps)), key=lambda i: lps[i])]
    else:
        predicted = parse_label(response.text, task.labels) if response.ok else None
    return Score(
        values={"accuracy": float(predicted == sample.target), "invalid": float(predicted is None)},
        details={"predicted": predicted if predicted is not None else INVALID},
    )


SCORERS.register("label_match")(per_example(label_match))


@CORPUS_METRICS.register("classification_report")
def classification_report(items: Sequence[ScoreInput], scores: Sequence[Score], task: Any) -> dict[str, float]:
    """macro_f1 over task.labels, and precision/recall/f1 per class (sklearn).

    An invalid prediction counts as a wrong answer for its gold class; it is
    not a class of its own in the average.
    """
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    gold = [it.sample.target for it in items]
    pred = [str(s.details.get("predicted", INVALID)) for s in scores]
    labels = list(task.labels)
    out = {"macro_f1": float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0))}
    p, r, f, _ = precision_recall_fscore_support(gold, pred, labels=labels, average=None, zero_division=0)
    for i, label in enumerate(labels):
        key = re.sub(r"[^\w\-.]", "_", label)
        out[f"class.{key}.precision"] = float(p[i])
        out[f"class.{key}.recall"] = float(r[i])
        out[f"class.{key}.f1"] = float(f[i])
    return out
