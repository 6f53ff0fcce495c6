"""Writes train.jsonl and test.jsonl for the shipped `classification` task.

Short customer reviews with three labels (positive, negative, neutral),
composed from hand-written fragments so the set is small, license-free and
reproducible: `python tasks/classification/make_data.py` rewrites the same
files byte for byte (seeded). Train and test share no text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

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


def make(seed: int = 7) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    rows = []
    for label, frames in (("positive", POSITIVE), ("negative", NEGATIVE), ("neutral", NEUTRAL)):
        for frame in frames:
            for item in ITEMS:
                text = frame.format(item=item)
                rows.append({"text": text[0].upper() + text[1:], "label": label})
    rng = random.Random(seed)
    rng.shuffle(rows)
    test, train = rows[:99], rows[99:99 + 360]
    for i, row in enumerate(test):
        row["id"] = f"test-{i:03d}"
    for i, row in enumerate(train):
        row["id"] = f"train-{i:03d}"
    return train, test


def main() -> None:
    here = Path(__file__).parent
    train, test = make()
    for name, rows in (("train.jsonl", train), ("test.jsonl", test)):
        with (here / name).open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps({"id": row["id"], "text": row["text"], "label": row["label"]}) + "\n")


if __name__ == "__main__":
    main()
