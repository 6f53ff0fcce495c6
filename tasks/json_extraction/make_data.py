"""Writes train.jsonl and test.jsonl: short event notices and the JSON record each describes.

Deterministic (fixed seed). Every notice is built from hand-written sentence
frames and slot lists; the gold record is filled from the same slot values,
so it is right by construction. Dates and prices are written in several
everyday spellings ("March 14, 2024", "14/03/2024", "$25", "25 dollars",
"free") while the gold always holds an ISO date and a number, which is what
the task's per-field normalization (date, number) is for. Run from anywhere:

    .venv/bin/python tasks/json_extraction/make_data.py
"""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 7321
N_TRAIN, N_TEST = 150, 50

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


def notice(r: random.Random) -> dict[str, object]:
    organizer, event, city = r.choice(ORGANIZERS), r.choice(EVENTS), r.choice(CITIES)
    when = date.fromordinal(date(2024, 1, 1).toordinal() + r.randrange(700))
    price = r.choice([0.0, 5.0, 8.5, 10.0, 12.0, 15.0, 20.0, 25.0, 7.5, 30.0])
    d, p = spell_date(when, r), spell_price(price, r)
    cost = "Entry is free." if price == 0 else f"Tickets cost {p}."
    frame = r.randrange(4)
    if frame == 0:
        text = f"Join {organizer} for a {event} in {city} on {d}. {cost}"
    elif frame == 1:
        text = f"{organizer[0].upper() + organizer[1:]} will host a {event} on {d} in {city}. {cost}"
    elif frame == 2:
        text = f"Save the date: {d}. A {event} organised by {organizer} comes to {city}. {cost}"
    else:
        text = f"{cost} The {event} in {city}, run by {organizer}, takes place on {d}."
    gold = {"organizer": organizer, "event": event, "city": city, "date": when.isoformat(), "price": price}
    # the gold record is stored as JSON text: Arrow-based loaders would
    # otherwise turn the ISO date string into a timestamp
    return {"text": text, "gold": json.dumps(gold, ensure_ascii=False)}


def main() -> None:
    rng = random.Random(SEED)
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    while len(rows) < N_TRAIN + N_TEST:
        row = notice(rng)
        if str(row["text"]) in seen:
            continue
        seen.add(str(row["text"]))
        rows.append({"id": f"j{len(rows):03d}", **row})
    for name, part in (("train", rows[:N_TRAIN]), ("test", rows[N_TRAIN:])):
        with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for row in part:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
