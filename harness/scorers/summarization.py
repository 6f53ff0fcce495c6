"""Summarization scorers: ROUGE per example, BLEU and chrF over the corpus.

ROUGE comes from Google's `rouge_score` package, the implementation the
WikiLingua/Gemini tuning tutorial reports. Two choices matter for the numbers:

- `RougeScorer.score(target, prediction)` takes the *reference first*. One
  tuning toolkit swaps the arguments, which exchanges precision and recall;
  every call here passes them by keyword so the order cannot slip.
- With several references, each ROUGE type independently keeps the reference
  with the highest F1 (the rule of `RougeScorer.score_multi`), and reports
  that reference's precision, recall and F1 together, so the three numbers
  always describe one (prediction, reference) pair.

ROUGE-Lsum treats newlines as sentence boundaries; both texts are split into
sentences with a small regex (end punctuation followed by space, or an
existing newline) and joined with newlines before scoring. This avoids NLTK's
punkt model, which would need a download.

Corpus BLEU and chrF use `sacrebleu` with its default settings; their
signatures (tokenizer, smoothing, version, number of references) come from
`metric_signatures(items)` so a runner can log them beside the scores.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from harness.core.records import Response, Sample, Score
from harness.scorers.base import CORPUS_METRICS, CORPUS_RESAMPLED, PRELOAD, SCORERS, ScoreInput, per_example

ROUGE_TYPES: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum")

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`: breaks after . ! ? (plus closing quotes) and at newlines."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _lsum_text(text: str) -> str:
    return "\n".join(split_sentences(text))


def word_count(text: str) -> int:
    return len(text.split())


def rouge_values(prediction: str, references: Sequence[str], use_stemmer: bool = True) -> dict[str, float]:
    """`{type}.precision|recall|f1` for every ROUGE type, best reference by F1 per type.

    With no references all values are 0.
    """
    from rouge_score import rouge_scorer  # heavy-ish import (nltk); only when scoring

    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)
    best: dict[str, tuple[float, float, float]] = {t: (0.0, 0.0, 0.0) for t in ROUGE_TYPES}
    for i, ref in enumerate(references):
        plain = scorer.score(target=ref, prediction=prediction)
        lsum = scorer.score(target=_lsum_text(ref), prediction=_lsum_text(prediction))
        for rtype in ROUGE_TYPES:
            s = lsum[rtype] if rtype == "rougeLsum" else plain[rtype]
            if i == 0 or s.fmeasure > best[rtype][2]:  # ties keep the earlier reference
                best[rtype] = (s.precision, s.recall, s.fmeasure)
    values: dict[str, float] = {}
    for rtype, (p, r, f) in best.items():
        values[f"{rtype}.precision"] = p
        values[f"{rtype}.recall"] = r
        values[f"{rtype}.f1"] = f
    return values


PRELOAD.update({"rouge": ("rouge_score.rouge_scorer",), "bleu": ("sacrebleu",), "chrf": ("sacrebleu",)})


@SCORERS.register("rouge")
@per_example
def rouge(sample: Sample, response: Response, task: Any) -> Score:
    """ROUGE-1/2/L/Lsum precision, recall, F1 plus output length in words and its ratio to the reference."""
    use_stemmer = bool(getattr(task, "use_stemmer", True))
    prediction = response.text
    values = rouge_values(prediction, sample.references, use_stemmer=use_stemmer)
    out_len = word_count(prediction)
    ref_len = word_count(sample.target)
    values["output_length"] = float(out_len)
    # ratio to the first reference; 0 when the reference is empty
    values["length_ratio"] = out_len / ref_len if ref_len else 0.0
    details = {"use_stemmer": use_stemmer, "n_references": len(sample.references)}
    return Score(values=values, details=details)


# ------------------------------------------------------------ corpus metrics


def _reference_streams(items: Sequence[ScoreInput]) -> list[list[str | None]]:
    """sacrebleu's layout: one stream per reference slot; None pads samples with fewer."""
    n_refs = max((len(it.sample.references) for it in items), default=0)
    n_refs = max(n_refs, 1)
    streams: list[list[str | None]] = []
    for k in range(n_refs):
        stream: list[str | None] = []
        for it in items:
            refs = it.sample.references or ("",)
            stream.append(refs[k] if k < len(refs) else None)
        streams.append(stream)
    return streams


@CORPUS_METRICS.register("bleu")
def corpus_bleu(items: Sequence[ScoreInput], scores: Sequence[Score], task: Any) -> dict[str, float]:
    """Corpus BLEU (sacrebleu defaults: 13a tokenizer, exp smoothing), 0-100."""
    from sacrebleu.metrics import BLEU

    if not items:
        return {"bleu": 0.0}
    hyps = [it.response.text for it in items]
    return {"bleu": float(BLEU().corpus_score(hyps, _reference_streams(items)).score)}  # type: ignore[arg-type]


@CORPUS_METRICS.register("chrf")
def corpus_chrf(items: Sequence[ScoreInput], scores: Sequence[Score], task: Any) -> dict[str, float]:
    """Corpus chrF (sacrebleu defaults: character 6-grams, beta 2, no word n-grams), 0-100."""
    from sacrebleu.metrics import CHRF

    if not items:
        return {"chrf": 0.0}
    hyps = [it.response.text for it in items]
    return {"chrf": float(CHRF().corpus_score(hyps, _reference_streams(items)).score)}  # type: ignore[arg-type]


def _resampled(metric: Any, items: Sequence[ScoreInput], idx: Any) -> Any:
    """`metric`'s corpus score for every row of `idx` (resamples x n), as sacrebleu's own bootstrap does it.

    BLEU and chrF are functions of sentence statistics summed over the
    corpus, so each sentence is tokenized and counted once and a resample is
    a sum of rows (sacrebleu.significance uses the same two methods).
    """
    import numpy as np

    hyps = [it.response.text for it in items]
    stats = np.asarray(metric._extract_corpus_statistics(hyps, _reference_streams(items)), dtype=np.int64)
    return np.array([metric._compute_score_from_stats(list(row)).score for row in stats[idx].sum(axis=1)])


@CORPUS_RESAMPLED.register("bleu")
def corpus_bleu_resampled(items: Sequence[ScoreInput], scores: Sequence[Score], task: Any, idx: Any) -> dict[str, Any]:
    from sacrebleu.metrics import BLEU

    return {"bleu": _resampled(BLEU(), items, idx)}


@CORPUS_RESAMPLED.register("chrf")
def corpus_chrf_resampled(items: Sequence[ScoreInput], scores: Sequence[Score], task: Any, idx: Any) -> dict[str, Any]:
    from sacrebleu.metrics import CHRF

    return {"chrf": _resampled(CHRF(), items, idx)}


def metric_signatures(items: Sequence[ScoreInput]) -> dict[str, str]:
    """sacrebleu signatures of the corpus metrics for these examples, for logging.

    The signature records the tokenizer, smoothing, casing, sacrebleu version
    and the number of references (`nrefs:var` when counts differ), so it is
    taken from a real scoring of `items` rather than guessed.
    """
    from sacrebleu.metrics import BLEU, CHRF

    hyps = [it.response.text for it in items] or [""]
    streams = _reference_streams(items) if items else [[""]]
    sigs: dict[str, str] = {}
    for name, metric in (("bleu", BLEU()), ("chrf", CHRF())):
        metric.corpus_score(hyps, streams)  # type: ignore[arg-type]
        sigs[name] = str(metric.get_signature())
    return sigs
