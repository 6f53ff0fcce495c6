"""Writes train.jsonl and test.jsonl of `banking77_demo` from the official Banking77 split.

A seeded subset of eight intents: train rows come only from the official
train.csv, test rows only from the official test.csv. Rows whose text (after
case/whitespace/punctuation folding) occurs in the other official split are
dropped first (25 official test queries have such a twin in train), so no text is in
both of ours. Each row keeps its line in the official file (`source`), which
tests/demo/test_demo_data.py checks against the copy.

    .venv/bin/python tasks/banking77_demo/make_data.py [--source ../shared/data/banking77]

Banking77: Casanueva et al. 2020, PolyAI, CC BY 4.0 (README.md).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datagen import assert_disjoint, normalise, write_jsonl

HERE = Path(__file__).resolve().parent
SEED = 77
# eight intents of everyday card and account questions, two of them close neighbours
# (card_arrival / card_delivery_estimate) so that the labels are not all trivially apart
INTENTS = [
    "card_arrival",
    "card_delivery_estimate",
    "lost_or_stolen_card",
    "exchange_rate",
    "cash_withdrawal_charge",
    "change_pin",
    "terminate_account",
    "request_refund",
]
# per intent: 160 train rows, 80 test rows. Sized so that the whole demonstration (three
# evaluations, each choice scored by log-likelihood, plus a CPU LoRA tune) fits in minutes
N_TRAIN, N_TEST = 20, 10


def read_split(path: Path) -> list[tuple[int, str, str]]:
    """(line number in the file, text, category) of every data row; the header is line 1."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header != ["text", "category"]:
            raise SystemExit(f"{path}: expected header text,category, got {header}")
        return [(reader.line_num, text, cat) for text, cat in reader]


def pick(rows: list[tuple[int, str, str]], avoid: set[str], per_intent: int, seed: int) -> list[tuple[int, str, str]]:
    """A seeded sample of `per_intent` rows per intent, none whose text is in `avoid`, no repeats."""
    out = []
    for intent in INTENTS:
        seen: set[str] = set()
        pool = []
        for row in rows:
            key = normalise(row[1])
            if row[2] == intent and key not in avoid and key not in seen:
                seen.add(key)
                pool.append(row)
        out += random.Random(f"{seed}:{intent}").sample(pool, per_intent)
    random.Random(seed).shuffle(out)
    return out


def main() -> None:
    default = Path(os.environ.get("HARNESS_SHARED_DATA", HERE.parents[1] / ".." / "shared" / "data")) / "banking77"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=default, help="folder with the official train.csv, test.csv")
    args = parser.parse_args()
    train_all = read_split(args.source / "train.csv")
    test_all = read_split(args.source / "test.csv")
    train = pick(train_all, {normalise(t) for _, t, _ in test_all}, N_TRAIN, SEED)
    test = pick(test_all, {normalise(t) for _, t, _ in train_all}, N_TEST, SEED)
    assert_disjoint([t for _, t, _ in train], [t for _, t, _ in test])
    for name, part in (("train", train), ("test", test)):
        write_jsonl(
            HERE / f"{name}.jsonl",
            (
                {"id": f"{name}-{i:03d}", "text": text, "label": cat, "source": f"{name}.csv:{line}"}
                for i, (line, text, cat) in enumerate(part)
            ),
        )


if __name__ == "__main__":
    main()
