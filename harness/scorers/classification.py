"""Classification scorers: label parsing, accuracy, invalid rate; macro-F1 and per-class P/R/F1."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from harness.core.records import Response, Sample, Score
from harness.kinds.classification import INVALID
from harness.scorers.base import CORPUS_METRICS, CORPUS_RESAMPLED, PRELOAD, SCORERS, ScoreInput, per_example


def normalize(text: str) -> str:
    """Unicode-aware caseless form: NFKC, casefold, accents on Latin letters dropped, '_' as a space.

    Every script survives ("положительный" stays itself; "й" is not "и"):
    only combining marks on ASCII letters go, so "Négative" reads "negative".
    Punctuation is kept, so "C++" is not "C".
    """
    kept: list[str] = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(ch) and kept and kept[-1].isascii() and kept[-1].isalpha():
            continue
        kept.append(ch)
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", "".join(kept)).casefold())
    return " ".join(text.replace("_", " ").split())


# Characters that glue a neighbouring label into a longer token: "C++", "C#", "non-positive".
_JOINERS = frozenset("-+#\u2010\u2011")
# Scripts written without spaces between words: a letter next to a label there does not extend it.
_UNSPACED = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HIRAGANA", "KATAKANA", "THAI", "LAO",
             "KHMER", "MYANMAR")  # fmt: skip


def _ends_label(ch: str) -> bool:
    """May a label stop next to `ch` (the character before or after it in the output)?"""
    if ch in _JOINERS or unicodedata.category(ch).startswith("M"):
        return False
    if ch.isalnum():
        return unicodedata.name(ch, "").startswith(_UNSPACED)
    return True


_SEPARATOR_CHARS = " -\u2010\u2011"
_SEPARATOR = r"[ \-\u2010\u2011]+"  # spaces and hyphens between the words of a label


@functools.lru_cache(maxsize=4096)  # the same few labels for every example
def _label_pattern(label: str) -> re.Pattern[str]:
    """The normalized label, where a space or hyphen between two words matches any run of them.

    So the label `automatic_top_up` is found in "automatic top-up", and
    `non-positive` in "non positive".
    """
    norm = normalize(label)
    core = norm.strip(_SEPARATOR_CHARS)  # a hyphen at either end ("-1") is kept as it is
    if not core:
        return re.compile(re.escape(norm))
    start = norm.index(core)
    inner = _SEPARATOR.join(re.escape(word) for word in re.split(_SEPARATOR, core))
    return re.compile(re.escape(norm[:start]) + inner + re.escape(norm[start + len(core) :]))


def _find_whole(text: str, label: str) -> tuple[int, int]:
    """(start, length) of the first occurrence of `label` in `text` that is a whole label, else (-1, 0)."""
    for m in _label_pattern(label).finditer(text):
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        if _ends_label(before) and _ends_label(after):
            return m.start(), m.end() - m.start()
    return -1, 0


def parse_label(output: str, labels: Sequence[str]) -> str | None:
    """The label whose normalized form occurs first, as a whole label, in the normalized output.

    Whole label: not next to a letter or digit (except in scripts written
    without spaces, such as Chinese), nor to one of `- + #`, so "positively",
    "non-positive" and "C++" do not contain "positive" or "C". When two labels
    match at the same position the longer one wins, so 'very positive' beats
    'positive'. None when no label occurs.
    """
    text = normalize(output)
    best: tuple[int, int, str] | None = None
    for label in labels:
        if not _label_pattern(label).pattern:  # a label that normalizes to nothing never matches
            continue
        pos, length = _find_whole(text, label)
        if pos >= 0 and (best is None or (pos, -length) < (best[0], best[1])):
            best = (pos, -length, label)
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


# matplotlib: the kind draws the confusion matrix next (figure + Agg only: no GUI backend is chosen here)
PRELOAD["classification_report"] = ("matplotlib.figure", "matplotlib.backends.backend_agg")


@CORPUS_METRICS.register("classification_report")
def classification_report(items: Sequence[ScoreInput], scores: Sequence[Score], task: Any) -> dict[str, float]:
    """macro_f1 over the task labels present, and precision/recall/f1 per present class (sklearn).

    An invalid prediction counts as a wrong answer for its gold class; it is
    not a class of its own in the average. A task label that is neither a
    reference nor a prediction here has no F1 (0/0): it is left out of the
    average and gets no per-class keys, rather than counting as F1 = 0. That
    matters most in the bootstrap, where a rare class is missing from many
    resamples: counted as 0 it pulled the CI of perfect predictions to
    [0.67, 1] instead of [1, 1].
    """
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    gold = [it.sample.target for it in items]
    pred = [str(s.details.get("predicted", INVALID)) for s in scores]
    seen = set(gold) | set(pred)
    labels = [label for label in task.labels if label in seen]
    out = {"macro_f1": float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0))}
    p, r, f, _ = precision_recall_fscore_support(gold, pred, labels=labels, average=None, zero_division=0)
    for i, label in enumerate(labels):
        out[f"class.{_key(label)}.precision"] = float(p[i])
        out[f"class.{_key(label)}.recall"] = float(r[i])
        out[f"class.{_key(label)}.f1"] = float(f[i])
    return out


@CORPUS_RESAMPLED.register("classification_report")
def classification_report_resampled(
    items: Sequence[ScoreInput], scores: Sequence[Score], task: Any, idx: Any
) -> dict[str, Any]:
    """classification_report for every row of `idx` (resamples x n) at once, from confusion counts.

    Calling sklearn once per bootstrap resample cost ~15 ms x 200 resamples
    per run, most of it input validation; counting gold, predicted and
    correct labels per resample with one bincount gives the same numbers
    (tests/foundation/test_scoring.py checks them against sklearn per row)
    with sklearn's zero_division=0 convention. A class absent from a
    resample's references and predictions is NaN there (the runner leaves
    NaN out of the CI) and out of that row's macro average.
    """
    import numpy as np

    labels = list(task.labels)
    n_labels = len(labels)
    code = {label: i for i, label in enumerate(labels)}  # anything else (invalid) -> n_labels
    gold = np.array([code.get(it.sample.target, n_labels) for it in items])[idx]
    pred = np.array([code.get(str(s.details.get("predicted", INVALID)), n_labels) for s in scores])[idx]
    offset = np.arange(idx.shape[0])[:, None] * (n_labels + 1)

    def per_class(values: Any, weights: Any = None) -> Any:
        counts = np.bincount((offset + values).ravel(), weights=None if weights is None else weights.ravel(),
                             minlength=idx.shape[0] * (n_labels + 1))
        return counts.reshape(idx.shape[0], n_labels + 1)[:, :n_labels].astype(float)

    gold_n, pred_n, tp = per_class(gold), per_class(pred), per_class(gold, gold == pred)
    present = gold_n + pred_n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(present, np.where(pred_n > 0, tp / pred_n, 0.0), np.nan)
        recall = np.where(present, np.where(gold_n > 0, tp / gold_n, 0.0), np.nan)
        f1 = np.where(present, 2 * tp / (gold_n + pred_n), np.nan)
    # every row has a present class (each example's gold label is a task label)
    out: dict[str, Any] = {"macro_f1": np.nanmean(f1, axis=1)}
    for i, label in enumerate(labels):
        out[f"class.{_key(label)}.precision"] = precision[:, i]
        out[f"class.{_key(label)}.recall"] = recall[:, i]
        out[f"class.{_key(label)}.f1"] = f1[:, i]
    return out


def _key(label: str) -> str:
    return re.sub(r"[^\w\-.]", "_", label)
