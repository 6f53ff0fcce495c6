"""Writes the golden case files in this folder: one JSON file per metric.

Expected values come from one of two places, recorded per case in `source`:

- "hand": worked out on paper; the arithmetic is in the case's `why`.
- "rouge_score" / "sacrebleu": computed here by calling the reference
  library *directly* (`RougeScorer(...).score(target=..., prediction=...)`,
  `sacrebleu.corpus_bleu`, `sacrebleu.corpus_chrf`), never through the
  harness, so a wrapper bug (swapped arguments, wrong reference layout)
  cannot hide in its own expected values.

Run from the repo root after changing a case, and commit the JSON:

    .venv/bin/python tests/scorers/cases/make_cases.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOL = 1e-6


def rouge_lib(prediction: str, reference: str, use_stemmer: bool = True) -> dict[str, float]:
    """rouge1/2/L of one pair, straight from rouge_score (reference is the target)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=use_stemmer)
    scores = scorer.score(target=reference, prediction=prediction)
    out: dict[str, float] = {}
    for rtype, s in scores.items():
        out[f"{rtype}.precision"], out[f"{rtype}.recall"], out[f"{rtype}.f1"] = s.precision, s.recall, s.fmeasure
    return out


def rouge_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = [
        {
            "name": "argument_order_trap",
            "source": "hand",
            "why": "prediction 'the cat sat' (3 tokens) is a prefix of the 6-token reference: every predicted "
            "unigram is in the reference, so precision=3/3=1 and recall=3/6=0.5. Swapping target and "
            "prediction would report precision 0.5. rouge2: 2 of 2 predicted bigrams match, 5 reference "
            "bigrams -> P=1, R=0.4, F=0.8/1.4. LCS=3 -> rougeL P=1, R=0.5.",
            "input": {"references": ["the cat sat on the mat"], "use_stemmer": True},
            "output": "the cat sat",
            "expected": {
                "rouge1.precision": 1.0,
                "rouge1.recall": 0.5,
                "rouge1.f1": 2 / 3,
                "rouge2.precision": 1.0,
                "rouge2.recall": 0.4,
                "rouge2.f1": 0.8 / 1.4,
                "rougeL.precision": 1.0,
                "rougeL.recall": 0.5,
                "rougeL.f1": 2 / 3,
                "rougeLsum.precision": 1.0,
                "rougeLsum.recall": 0.5,
                "output_length": 3.0,
                "length_ratio": 0.5,
            },
        },
        {
            "name": "stemmer_on",
            "source": "hand",
            "why": "Porter stems: dogs->dog, running->run, runs->run, quickly->quickli (tokens of <=3 chars "
            "are not stemmed). Reference dog/were/run/quickli vs prediction the/dog/run/quick: 2 of 4 "
            "match each way.",
            "input": {"references": ["Dogs were running quickly"], "use_stemmer": True},
            "output": "The dog runs quick",
            "expected": {"rouge1.precision": 0.5, "rouge1.recall": 0.5, "rouge1.f1": 0.5},
        },
        {
            "name": "stemmer_off",
            "source": "hand",
            "why": "without stemming no token is shared (dogs/dog, running/runs, quickly/quick differ).",
            "input": {"references": ["Dogs were running quickly"], "use_stemmer": False},
            "output": "The dog runs quick",
            "expected": {"rouge1.precision": 0.0, "rouge1.recall": 0.0, "rouge1.f1": 0.0, "rougeL.f1": 0.0},
        },
        {
            "name": "best_reference_by_f1",
            "source": "hand",
            "why": "the first reference shares nothing; the second gives the argument_order_trap numbers, "
            "and the best-F1 reference is the one reported.",
            "input": {"references": ["completely different words here", "the cat sat on the mat"]},
            "output": "the cat sat",
            "expected": {"rouge1.precision": 1.0, "rouge1.recall": 0.5, "rougeL.recall": 0.5},
        },
        {
            "name": "rougeLsum_uses_sentences",
            "source": "hand",
            "why": "sentences swapped. Stemmed tokens ref: rain fell all night | river rose fast. Plain LCS over "
            "the whole text is 4 ('rain fell all night') of 7 -> rougeL 4/7. Summary-level LCS matches each "
            "reference sentence with its twin -> 7/7 -> rougeLsum 1. rouge2: 5 of 6 bigrams shared "
            "(night-river vs fast-rain differ).",
            "input": {"references": ["Rain fell all night. Rivers rose fast."]},
            "output": "Rivers rose fast. Rain fell all night.",
            "expected": {
                "rouge1.f1": 1.0,
                "rouge2.precision": 5 / 6,
                "rouge2.recall": 5 / 6,
                "rougeL.precision": 4 / 7,
                "rougeL.recall": 4 / 7,
                "rougeLsum.precision": 1.0,
                "rougeLsum.recall": 1.0,
                "rougeLsum.f1": 1.0,
            },
        },
        {
            "name": "empty_output",
            "source": "hand",
            "why": "nothing predicted: all scores 0, length 0.",
            "input": {"references": ["A short reference."]},
            "output": "",
            "expected": {"rouge1.f1": 0.0, "rougeL.precision": 0.0, "output_length": 0.0, "length_ratio": 0.0},
        },
    ]
    generated = [
        (
            "longer_summary",
            "Apply lotion to your forearms. Rub your forearms up and down your back.",
            "Squeeze lotion onto both forearms, then rub them against your back like windshield wipers.",
        ),
        (
            "recall_heavy",
            "The council voted to build a footbridge over the river, with work due to start in March.",
            "The council voted for a footbridge.",
        ),
    ]
    for name, reference, prediction in generated:
        cases.append(
            {
                "name": name,
                "source": "rouge_score",
                "why": "RougeScorer(['rouge1','rouge2','rougeL'], use_stemmer=True).score(target=reference, "
                "prediction=output)",
                "input": {"references": [reference], "use_stemmer": True},
                "output": prediction,
                "expected": rouge_lib(prediction, reference),
            }
        )
    return cases


def corpus_cases(metric: str) -> list[dict[str, Any]]:
    import sacrebleu

    fn = sacrebleu.corpus_bleu if metric == "bleu" else sacrebleu.corpus_chrf
    call = f"sacrebleu.corpus_{metric}(outputs, reference_streams)"
    corpora = [
        (
            "identical",
            ["the cat sat on the mat", "it is raining today"],
            [["the cat sat on the mat"], ["it is raining today"]],
        ),
        ("disjoint", ["xyz qqq"], [["the cat sat on the mat"]]),
        (
            "one_reference_each",
            ["the cat sat on a mat", "heavy rain closed ten roads in the valley"],
            [["the cat sat on the mat"], ["heavy rain closed roads and delayed trains in the valley"]],
        ),
        (
            "variable_reference_counts",
            ["the cat sat on a mat", "heavy rain closed ten roads in the valley"],
            [
                ["the cat sat on the mat", "a cat sat on a mat"],
                ["heavy rain closed roads and delayed trains in the valley"],
            ],
        ),
    ]
    cases = []
    for name, outputs, refs in corpora:
        n = max(len(r) for r in refs)
        streams = [[r[k] if k < len(r) else None for r in refs] for k in range(n)]
        score = fn(outputs, streams).score
        expected = {metric: score}
        source = "sacrebleu"
        why = f"{call}, streams padded with None where a sample has fewer references"
        if name == "identical":
            expected, source, why = {metric: 100.0}, "hand", "every output equals its reference"
        if name == "disjoint":
            expected, source, why = {metric: 0.0}, "hand", "no shared n-gram (BLEU) or character n-gram (chrF)"
        cases.append(
            {
                "name": name,
                "source": source,
                "why": why,
                "input": {"references": refs},
                "output": outputs,
                "expected": expected,
                "tolerance": 1e-4,
            }
        )
    return cases


def write(metric: str, about: str, cases: list[dict[str, Any]]) -> None:
    for case in cases:
        case.setdefault("tolerance", TOL)
    doc = {"metric": metric, "about": about, "cases": cases}
    (HERE / f"{metric}.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    write("rouge", "harness scorer 'rouge' (per example); keys not listed are not checked", rouge_cases())
    write(
        "bleu",
        "corpus metric 'bleu'; output is the list of outputs, input.references one list per example",
        corpus_cases("bleu"),
    )
    write("chrf", "corpus metric 'chrf'; layout as bleu.json", corpus_cases("chrf"))


if __name__ == "__main__":
    main()
