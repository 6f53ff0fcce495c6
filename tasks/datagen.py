"""Shared helpers of the `tasks/*/make_data.py` generators of the shipped data sets.

Every generator is a standalone script (`python tasks/<task>/make_data.py` from
anywhere rewrites the same files byte for byte). They share three things kept
here once: where the files go, how rows are written, and the rule that keeps a
split honest: train and test are built from *disjoint* sentence frames, so a
tuned model cannot score by memorising the templates of the test items (the old
synthetic classification split did exactly that; tests/fixtures/leaky_classification/).

A generator imports this module after putting `tasks/` on sys.path:

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from datagen import split_frames, write_jsonl
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def split_frames(frames: Sequence[T], n_test: int, seed: int) -> tuple[list[T], list[T]]:
    """(train_frames, test_frames): a seeded split of the frames into two disjoint sets.

    Test items are then composed only from the test frames and train items only
    from the train frames, so no frame fills both splits.
    """
    if not 0 < n_test < len(frames):
        raise ValueError(f"n_test must be in 1..{len(frames) - 1}, got {n_test}")
    order = list(range(len(frames)))
    random.Random(seed).shuffle(order)
    test = sorted(order[:n_test])
    train = sorted(order[n_test:])
    return [frames[i] for i in train], [frames[i] for i in test]


def normalise(text: str) -> str:
    """Case, whitespace, punctuation and Unicode (NFKC) folded: the 'exact duplicate' key."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def assert_disjoint(train: Iterable[str], test: Iterable[str], what: str = "text") -> None:
    """Raise if any test text equals a train text after `normalise` (the generator's own check)."""
    seen = {normalise(t) for t in train}
    shared = [t for t in test if normalise(t) in seen]
    if shared:
        raise AssertionError(f"{len(shared)} test {what}s also in train, e.g. {shared[0]!r}")


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    """One JSON object per line, UTF-8 kept as is, '\\n' line ends (byte-stable across platforms)."""
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(dict(row), ensure_ascii=False) + "\n")
