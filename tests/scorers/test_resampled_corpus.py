"""The vectorized bootstrap of corpus BLEU and chrF equals the plain corpus score on every resample."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.records import Response, Sample
from harness.scorers import summarization  # noqa: F401 - registers bleu and chrf
from harness.scorers.base import CORPUS_METRICS, CORPUS_RESAMPLED, ScoreInput

REFS = [
    ("The council approved a new bus route to the hospital.",),
    ("Heavy rain closed ten roads in the valley on Thursday.", "Rain shut ten valley roads."),
    ("A bakery opened on the market square.",),
    ("The festival drew about 5,000 visitors.",),
    ("Students planted two hundred trees near the school.",),
]
OUTPUTS = [
    "The council approved a bus route to the hospital.",
    "Rain closed roads in the valley.",
    "",  # an empty output counts with zero matches
    "About 5,000 people visited the festival.",
    "Students planted trees.",
]


@pytest.mark.parametrize("name", ["bleu", "chrf"])
def test_resampled_equals_corpus_score_per_row(name: str) -> None:
    pairs = enumerate(zip(REFS, OUTPUTS, strict=True))
    items = [ScoreInput(Sample(str(i), "x", r), Response(texts=(o,))) for i, (r, o) in pairs]
    idx = np.random.default_rng(2).integers(0, len(items), size=(25, len(items)))
    idx[0] = 2  # only the empty output: score 0, no division error
    fast = CORPUS_RESAMPLED.get(name)(items, [], None, idx)[name]
    slow = [CORPUS_METRICS.get(name)([items[i] for i in row], [], None)[name] for row in idx]
    assert fast == pytest.approx(slow, abs=1e-9)
    assert fast[0] == 0.0 and len(set(np.round(fast, 6))) > 5  # the rows really differ
