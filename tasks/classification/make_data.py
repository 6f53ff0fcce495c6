"""Writes train.jsonl and test.jsonl for the shipped `classification` task (a fast smoke task).

Short customer reviews with three labels (positive, negative, neutral),
composed from hand-written sentence frames and items, so the set is small,
license-free and reproducible: `python tasks/classification/make_data.py`
rewrites the same files byte for byte (seeded).

Train and test use disjoint frames: of the ten frames per label, three fill
only the test split and seven only the train split (tasks/datagen.py), so a
tuned model cannot pass the test by recognising a train template. (The old
split drew both from the same 30 frames: tests/fixtures/leaky_classification/.)
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datagen import assert_disjoint, split_frames, write_jsonl

SEED = 7
N_TEST, N_TRAIN = 33, 120  # per label: 99 test rows, 360 train rows
TEST_FRAMES = 3  # of the 10 frames per label

ITEMS = [
    "the coffee maker", "this backpack", "the hotel room", "the delivery", "this phone case", "the pizza",
    "the customer service", "this laptop stand", "the running shoes", "the hair dryer", "this novel",
    "the train ride", "the headphones", "the museum tour", "this desk lamp", "the pasta", "the yoga class",
    "the rental car", "this blender", "the concert", "the umbrella", "the app update", "the haircut",
    "this board game", "the winter jacket", "the dentist visit", "the sushi", "this vacuum cleaner",
]
POSITIVE = [
    "{item} was excellent and I would buy it again.", "I love {item}; it works perfectly.",
    "{item} exceeded my expectations.", "Really happy with {item}, great value for the money.",
    "{item} was fantastic from start to finish.", "Five stars: {item} is wonderful.",
    "{item} made my day, highly recommended.", "Everything about {item} was great.",
    "{item} is the best I have tried in years.", "Impressed by {item}, it was a delight.",
]
NEGATIVE = [
    "{item} broke after two days, very disappointed.", "I hate {item}; it was a waste of money.",
    "{item} was terrible and I want a refund.", "Awful experience with {item}, never again.",
    "{item} was rude, slow and frustrating.", "One star: {item} is useless.",
    "{item} arrived damaged and nobody helped.", "Do not buy {item}, it is poorly made.",
    "{item} was the worst I have seen.", "Really unhappy with {item}, it failed completely.",
]
NEUTRAL = [
    "{item} arrived on Tuesday.", "{item} is available in three colours.",
    "I used {item} twice this week.", "{item} comes in a cardboard box.",
    "{item} is similar to the previous model.", "My sister also bought {item}.",
    "{item} was picked up at the front desk.", "{item} is what I ordered last month.",
    "The manual for {item} has twelve pages.", "{item} lasted about an hour.",
]


def make(seed: int = SEED) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(train, test) rows, each label balanced, no frame in both splits."""
    train: list[dict[str, str]] = []
    test: list[dict[str, str]] = []
    for k, (label, frames) in enumerate((("positive", POSITIVE), ("negative", NEGATIVE), ("neutral", NEUTRAL))):
        train_frames, test_frames = split_frames(frames, TEST_FRAMES, seed + k)
        for part, chosen, n in ((train, train_frames, N_TRAIN), (test, test_frames, N_TEST)):
            texts = [_sentence(f, item) for f in chosen for item in ITEMS]
            part += [{"text": t, "label": label} for t in random.Random(f"{seed}:{label}:{n}").sample(texts, n)]
    rng = random.Random(seed)
    rng.shuffle(test)
    rng.shuffle(train)
    assert_disjoint([r["text"] for r in train], [r["text"] for r in test])
    test = [{"id": f"test-{i:03d}", **row} for i, row in enumerate(test)]
    train = [{"id": f"train-{i:03d}", **row} for i, row in enumerate(train)]
    return train, test


def _sentence(frame: str, item: str) -> str:
    text = frame.format(item=item)
    return text[0].upper() + text[1:]


def main() -> None:
    here = Path(__file__).resolve().parent
    train, test = make()
    write_jsonl(here / "train.jsonl", train)
    write_jsonl(here / "test.jsonl", test)


if __name__ == "__main__":
    main()
