"""Writes train.jsonl and test.jsonl: short event notices and the JSON record each describes.

Deterministic (fixed seed). Every notice is built from hand-written sentence
frames and slot lists; the gold record is filled from the same slot values,
so it is right by construction. Dates and prices are written in several
everyday spellings ("March 14, 2024", "14/03/2024", "$25", "25 dollars",
"free") while the gold always holds an ISO date and a number, which is what
the task's per-field normalization (date, number) is for. Of the six
sentence frames, two fill only the test split and four only the train split
(tasks/datagen.py), so no test notice shares its template with a train one.
Run from anywhere:

    .venv/bin/python tasks/json_extraction/make_data.py
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datagen import assert_disjoint, split_frames, write_jsonl

HERE = Path(__file__).resolve().parent
SEED = 7321
N_TRAIN, N_TEST = 150, 50
N_FRAMES, TEST_FRAMES = 6, 2

ORGANIZERS = [
    "Maria Lopez",
    "Tom Baker",
    "Aisha Khan",
    "Ravi Patel",
    "Helen Park",
    "Lukas Meyer",
    "Grace Obi",
    "Daniel Okoro",
    "Sofia Rossi",
    "Ben Carter",
    "the Riverside Choir",
    "the Green Street Library",
    "the Oakridge Rotary Club",
    "the city museum",
]
EVENTS = [
    "pottery workshop",
    "book reading",
    "jazz concert",
    "beginner yoga class",
    "charity quiz night",
    "photography walk",
    "bread baking class",
    "chess tournament",
    "film screening",
    "plant swap",
]
CITIES = [
    "Leeds",
    "Bristol",
    "Dublin",
    "Toronto",
    "Austin",
    "Melbourne",
    "Lyon",
    "Porto",
    "Oslo",
    "Denver",
    "Cork",
    "Halifax",
]


def spell_date(d: date, r: random.Random) -> str:
    style = r.randrange(4)
    if style == 0:
        return f"{d.strftime('%B')} {d.day}, {d.year}"
    if style == 1:
        return f"{d.day} {d.strftime('%B')} {d.year}"
    if style == 2:
        return d.strftime("%d/%m/%Y")
    return d.isoformat()


def spell_price(price: float, r: random.Random) -> str:
    if price == 0:
        return "free"
    whole = price == int(price)
    style = r.randrange(3)
    if style == 0:
        return f"${price:.0f}" if whole else f"${price:.2f}"
    if style == 1:
        return f"{price:.0f} dollars" if whole else f"{price:.2f} dollars"
    return f"USD {price:.2f}"


def notice(r: random.Random, frames: list[int]) -> dict[str, object]:
    organizer, event, city = r.choice(ORGANIZERS), r.choice(EVENTS), r.choice(CITIES)
    when = date.fromordinal(date(2024, 1, 1).toordinal() + r.randrange(700))
    price = r.choice([0.0, 5.0, 8.5, 10.0, 12.0, 15.0, 20.0, 25.0, 7.5, 30.0])
    d, p = spell_date(when, r), spell_price(price, r)
    cost = "Entry is free." if price == 0 else f"Tickets cost {p}."
    frame = r.choice(frames)
    if frame == 0:
        text = f"Join {organizer} for a {event} in {city} on {d}. {cost}"
    elif frame == 1:
        text = f"{organizer[0].upper() + organizer[1:]} will host a {event} on {d} in {city}. {cost}"
    elif frame == 2:
        text = f"Save the date: {d}. A {event} organised by {organizer} comes to {city}. {cost}"
    elif frame == 3:
        text = f"{cost} The {event} in {city}, run by {organizer}, takes place on {d}."
    elif frame == 4:
        text = f"Coming up in {city}: {organizer} presents a {event}. Date: {d}. {cost}"
    else:
        text = f"{city} listings - {event} ({d}), hosted by {organizer}. {cost}"
    gold = {"organizer": organizer, "event": event, "city": city, "date": when.isoformat(), "price": price}
    # the gold record is stored as JSON text: Arrow-based loaders would
    # otherwise turn the ISO date string into a timestamp
    return {"text": text, "gold": json.dumps(gold, ensure_ascii=False)}


def main() -> None:
    rng = random.Random(SEED)
    train_frames, test_frames = split_frames(list(range(N_FRAMES)), TEST_FRAMES, SEED)
    seen: set[str] = set()
    parts: dict[str, list[dict[str, object]]] = {"train": [], "test": []}
    for name, frames, n in (("train", train_frames, N_TRAIN), ("test", test_frames, N_TEST)):
        while len(parts[name]) < n:
            row = notice(rng, frames)
            if str(row["text"]) in seen:
                continue
            seen.add(str(row["text"]))
            parts[name].append(row)
    assert_disjoint([str(r["text"]) for r in parts["train"]], [str(r["text"]) for r in parts["test"]])
    rows = [{"id": f"j{i:03d}", **row} for i, row in enumerate(parts["train"] + parts["test"])]
    write_jsonl(HERE / "train.jsonl", rows[:N_TRAIN])
    write_jsonl(HERE / "test.jsonl", rows[N_TRAIN:])


if __name__ == "__main__":
    main()
