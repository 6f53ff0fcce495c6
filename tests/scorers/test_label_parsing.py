"""Classification label parsing in any script, whole labels only (issue 16, item 2). Expected values by hand."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.core.records import Response, Sample
from harness.scorers.classification import label_match, normalize, parse_label

RU = ["положительный", "отрицательный", "нейтральный"]
LANGS = ["C", "C++", "C#", "Java"]
SIGN = ["positive", "negative"]


@pytest.mark.parametrize(
    ("output", "labels", "expected"),
    [
        ("положительный", RU, "положительный"),  # used to normalize to "" and never match
        ("Ответ: Отрицательный.", RU, "отрицательный"),
        ("НЕЙТРАЛЬНЫЙ", RU, "нейтральный"),
        ("ΘΕΤΙΚΌΣ", ["θετικός", "αρνητικός"], "θετικός"),  # casefold: final sigma, accent kept on Greek
        ("情感：积极", ["积极", "消极"], "积极"),  # fullwidth colon (NFKC) and no spaces in Chinese
        ("这条评论是消极的", ["积极", "消极"], "消极"),  # unspaced script: neighbours are not word joiners
        ("ＰＯＳＩＴＩＶＥ", SIGN, "positive"),  # fullwidth Latin, NFKC
        ("C++", LANGS, "C++"),  # used to parse as "C"
        ("It is written in C++.", LANGS, "C++"),
        ("C#", LANGS, "C#"),
        ("The answer is C.", LANGS, "C"),
        ("C#", ["C", "Java"], None),  # not "C"
        ("C++ code", ["C", "Java"], None),
        ("non-positive", SIGN, None),  # used to parse as "positive"
        ("non\u2010positive", SIGN, None),  # Unicode hyphen
        ("non-positive", ["positive", "non-positive"], "non-positive"),
        ("**Positive**", SIGN, "positive"),
        ("'negative'", SIGN, "negative"),
        ("Négative", SIGN, "negative"),  # Latin accents still ignored
        ("positively great", SIGN, None),
        ("positive1", SIGN, None),
        ("very positive", ["positive", "very_positive"], "very_positive"),  # '_' reads as a space
        ("Intent: automatic top-up", ["automatic_top_up", "top_up_failed"], "automatic_top_up"),  # - as a space
        ("non positive", ["positive", "non-positive"], "non-positive"),
        ("Score: -1", ["1", "-1", "0"], "-1"),
        ("Score: 1", ["1", "-1", "0"], "1"),
    ],
)
def test_parse_label_whole_labels_any_script(output: str, labels: list[str], expected: str | None) -> None:
    assert parse_label(output, labels) == expected


def test_normalize_keeps_non_ascii_and_punctuation() -> None:
    assert normalize("  Положительный_Ответ ") == "положительный ответ"
    assert normalize("C++") == "c++"
    assert normalize("Straße") == "strasse"
    assert normalize("Ｃ＋＋") == "c++"
    assert normalize("й") == "й"  # a Cyrillic letter with its breve, not "и"


def test_non_ascii_labels_score_perfect_outputs_as_correct() -> None:
    task = SimpleNamespace(labels=RU)
    for label in RU:
        score = label_match(Sample("1", "x", (label,)), Response(texts=(f" {label.capitalize()}\n",)), task)
        assert score.values == {"accuracy": 1.0, "invalid": 0.0}
