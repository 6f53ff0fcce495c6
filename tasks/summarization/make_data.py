"""Writes train.jsonl and test.jsonl: short local-news paragraphs with one-sentence summaries.

Deterministic (fixed seed): running it again reproduces the committed files
byte for byte. Each of twelve hand-written story frames is filled from small
hand-written slot lists; the summary for each frame was written by hand to
say what the paragraph says in one sentence. Train and test use disjoint
frames (tasks/datagen.py): four story frames fill only the test split, the
other eight only the train split, so no test paragraph shares its sentence
template (or its summary pattern) with a train paragraph. Run from anywhere:

    .venv/bin/python tasks/summarization/make_data.py
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from datagen import assert_disjoint, split_frames, write_jsonl

HERE = Path(__file__).resolve().parent
SEED = 20240611
N_TRAIN, N_TEST = 200, 60
TEST_FRAMES = 4  # of the 12 story frames

TOWNS = [
    "Millbrook",
    "Ashford",
    "Kelso",
    "Brampton",
    "Dunmore",
    "Harwich",
    "Linton",
    "Oakridge",
    "Redhill",
    "Stanway",
    "Thornbury",
    "Wexley",
    "Coldwater",
    "Fairhaven",
    "Glenmoor",
]
NAMES = [
    "Maria Lopez",
    "Aisha Khan",
    "Helen Park",
    "Sofia Rossi",
    "Grace Obi",
    "Nina Berg",
    "Laura Chen",
    "Ruth Adams",
    "Emma Novak",
    "Priya Nair",
    "Clara Weiss",
    "Jane Murphy",
]
MEN = [
    "Tom Baker",
    "Ravi Patel",
    "Lukas Meyer",
    "Daniel Okoro",
    "Sam Hughes",
    "Marco Silva",
    "Ben Carter",
    "Ivan Petrov",
    "Omar Haddad",
    "Leo Martin",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]


def council(r: random.Random) -> tuple[str, str]:
    town = r.choice(TOWNS)
    project, benefit = r.choice(
        [
            ("build a new footbridge over the river", "cut the walk to the station by ten minutes"),
            ("turn the old market hall into a library", "give students a quiet place to work"),
            ("add cycle lanes to the high street", "make the centre safer for children"),
            ("plant two hundred trees along the main road", "cool the streets in summer"),
            ("repair the leaking roof of the swimming pool", "let the pool stay open all winter"),
            ("open a second car park near the hospital", "ease the queues at the entrance"),
        ]
    )
    yes, no = r.randint(6, 11), r.randint(1, 5)
    month = r.choice(MONTHS)
    cost = r.choice(["£1.2 million", "£450,000", "£800,000", "£2 million", "£300,000"])
    text = (
        f"On {r.choice(DAYS)}, the {town} town council voted {yes} to {no} to {project}. "
        f"Supporters said the plan would {benefit}. Work is expected to begin in {month} and cost about {cost}."
    )
    summary = f"{town}'s council voted to {project}, with work due to start in {month}."
    return text, summary


def shop(r: random.Random) -> tuple[str, str]:
    name, town = r.choice(NAMES), r.choice(TOWNS)
    kind = r.choice(["bakery", "bookshop", "flower shop", "café", "bicycle repair shop", "toy shop"])
    months, year, queue = r.randint(3, 18), r.randint(1990, 2019), r.randint(20, 90)
    street = r.choice(["Mill Lane", "Church Street", "the market square", "Station Road", "Bridge Street"])
    text = (
        f"{name} opened a small {kind} on {street} in {town} last {r.choice(DAYS)}. "
        f"She spent {months} months restoring the old building, which had been empty since {year}. "
        f"On the first morning, {queue} customers queued before the doors opened."
    )
    summary = f"{name} opened a {kind} in a restored building in {town}, and customers queued on the first morning."
    return text, summary


def match(r: random.Random) -> tuple[str, str]:
    teams = ["Rovers", "United", "Athletic", "Wanderers", "City", "Rangers", "Albion", "Town"]
    home, away = r.sample(teams, 2)
    a = r.randint(2, 4)
    b = r.randint(0, a - 1)
    player, minute = r.choice(MEN), r.randint(60, 89)
    place = r.choice(["second", "third", "fourth", "fifth", "first"])
    text = (
        f"{home} beat {away} {a}-{b} on {r.choice(DAYS)} night. "
        f"{player} scored twice in the second half, including the winner in the {minute}th minute. "
        f"The result moves {home} up to {place} place in the league."
    )
    summary = f"{home} beat {away} {a}-{b} thanks to two goals from {player}, moving up to {place} place."
    return text, summary


def weather(r: random.Random) -> tuple[str, str]:
    kind = r.choice(["snow", "rain", "fog", "wind"])
    region = r.choice(["the north of the county", "the coast", "the valley", "the hills around " + r.choice(TOWNS)])
    roads = r.randint(3, 25)
    later = r.choice(["Wednesday morning", "the weekend", "Friday", "tomorrow evening"])
    text = (
        f"Heavy {kind} hit {region} on {r.choice(DAYS)}, closing {roads} roads and delaying trains for hours. "
        f"Forecasters expect conditions to ease by {later}. Residents have been asked to avoid unnecessary travel."
    )
    summary = f"Heavy {kind} closed {roads} roads and delayed trains in {region}, but should ease by {later}."
    return text, summary


def science(r: random.Random) -> tuple[str, str]:
    uni = r.choice(["Bristol", "Leeds", "Utrecht", "Uppsala", "Otago", "McGill", "Kyoto", "Cape Town"])
    animal, ability = r.choice(
        [
            ("crows", "recognise individual human faces"),
            ("honeybees", "count up to four"),
            ("goats", "tell happy voices from angry ones"),
            ("octopuses", "solve simple puzzles to reach food"),
            ("sheep", "remember dozens of faces for years"),
            ("dolphins", "call each other by name-like whistles"),
            ("rats", "play hide and seek with people"),
            ("pigeons", "sort pictures into categories"),
        ]
    )
    n, period = r.randint(12, 200), r.choice(["two years", "six months", "three summers", "a year"])
    text = (
        f"Researchers at the University of {uni} have found that {animal} can {ability}. "
        f"The team watched {n} animals over {period} and saw the behaviour in most of them. "
        f"They say the finding could change how animal memory is studied."
    )
    summary = f"A University of {uni} study found that {animal} can {ability}."
    return text, summary


def company(r: random.Random) -> tuple[str, str]:
    firm, product = r.choice(
        [
            ("Northwind", "garden tools"),
            ("Bluepeak", "hiking boots"),
            ("Larkspur", "kitchen scales"),
            ("Orbitek", "bicycle lights"),
            ("Fenwick & Daughters", "wool blankets"),
            ("Copperleaf", "tea kettles"),
        ]
    )
    amount = r.choice(["£4 million", "£12 million", "£850,000", "£2.5 million", "£30 million"])
    pct, staff = r.randint(3, 40), r.choice([10, 25, 40, 60, 120])
    market = r.choice(["Germany", "the United States", "Japan", "Scotland", "online"])
    text = (
        f"{firm}, a maker of {product}, reported sales of {amount} for the last quarter, "
        f"up {pct} percent from a year earlier. The company said demand was strongest in {market}. "
        f"It plans to hire {staff} more staff this year."
    )
    summary = f"{firm}'s quarterly sales rose {pct} percent to {amount}, and it plans to hire {staff} more staff."
    return text, summary


def school(r: random.Random) -> tuple[str, str]:
    school_name = r.choice(TOWNS) + r.choice([" Primary School", " Academy", " High School"])
    amount = r.choice(["£1,200", "£3,400", "£760", "£5,000", "£2,150"])
    cause = r.choice(["the local food bank", "a children's hospice", "flood victims", "the town's animal shelter"])
    event = r.choice(["sponsored walk", "bake sale", "charity concert", "sponsored swim", "book fair"])
    pupils = r.randint(40, 300)
    text = (
        f"Pupils at {school_name} raised {amount} for {cause} by holding a {event}. "
        f"More than {pupils} children took part, and teachers joined in on the final day. "
        f"The money will be handed over at a ceremony next {r.choice(MONTHS)}."
    )
    summary = f"Pupils at {school_name} raised {amount} for {cause} with a {event}."
    return text, summary


def bus(r: random.Random) -> tuple[str, str]:
    a, b = r.sample(TOWNS, 2)
    date = f"{r.randint(1, 28)} {r.choice(MONTHS)}"
    every, years = r.choice([10, 15, 20, 30]), r.choice(["two", "three", "five"])
    text = (
        f"A new bus route linking {a} and {b} will start on {date}. "
        f"Buses will run every {every} minutes during the day and every hour in the evening. "
        f"The service is funded for {years} years as a trial."
    )
    summary = f"A trial bus route between {a} and {b} starts on {date}, with buses every {every} minutes by day."
    return text, summary


def pet(r: random.Random) -> tuple[str, str]:
    animal, name = r.choice(
        [
            ("cat", "Biscuit"),
            ("dog", "Rolo"),
            ("tortoise", "Speedy"),
            ("parrot", "Kiwi"),
            ("cat", "Pepper"),
            ("dog", "Bramble"),
            ("rabbit", "Clover"),
        ]
    )
    town, weeks, km = r.choice(TOWNS), r.randint(2, 12), r.randint(5, 60)
    landmark = r.choice(["a farm shop", "the old quarry", "a petrol station", "the canal bridge", "a golf course"])
    text = (
        f"A {animal} named {name} that went missing from {town} {weeks} weeks ago has been found {km} kilometres "
        f"away. A walker spotted the animal near {landmark} and called the number on its collar. "
        f"Its owners said they had almost given up hope."
    )
    summary = f"{name}, a {animal} missing from {town} for {weeks} weeks, was found {km} kilometres away."
    return text, summary


def festival(r: random.Random) -> tuple[str, str]:
    town = r.choice(TOWNS)
    fest = r.choice(["music festival", "food fair", "kite festival", "lantern parade", "cheese festival"])
    visitors = r.choice(["5,000", "12,000", "3,500", "20,000", "8,000"])
    extra = r.choice(["climbing wall", "silent disco", "cookery tent", "puppet theatre", "children's trail"])
    text = (
        f"The annual {fest} in {town} attracted about {visitors} visitors over the weekend. "
        f"Organisers added a {extra} this year, which proved popular with families. "
        f"Next year's event is planned for {r.choice(MONTHS)}."
    )
    summary = f"About {visitors} people visited {town}'s {fest}, which added a popular {extra} this year."
    return text, summary


def clinic(r: random.Random) -> tuple[str, str]:
    hospital = r.choice(TOWNS) + r.choice([" General Hospital", " Community Hospital", " Royal Infirmary"])
    unit = r.choice(["kidney dialysis unit", "eye clinic", "children's ward", "stroke unit", "minor injuries unit"])
    n, city = r.choice([20, 35, 50, 80]), r.choice(["the city", "Manchester", "Glasgow", "Cardiff", "Leeds"])
    text = (
        f"{hospital} has opened a new {unit} that can treat up to {n} patients a day. "
        f"Until now, people in the area had to travel to {city} for the same care. "
        f"Staff for the unit were recruited over the past {r.randint(3, 12)} months."
    )
    summary = f"{hospital} opened a {unit}, so local patients no longer have to travel to {city}."
    return text, summary


def recall(r: random.Random) -> tuple[str, str]:
    firm = r.choice(["Homestead", "Brightway", "Kettleby", "Nordic Living", "Sunvale"])
    product, defect = r.choice(
        [
            ("electric heaters", "a faulty switch can overheat"),
            ("baby monitors", "the battery cover can come loose"),
            ("folding chairs", "a hinge can snap under weight"),
            ("phone chargers", "the plug pins can break off"),
            ("glass jars", "the lids may not seal properly"),
            ("kettles", "the handle can crack when hot"),
        ]
    )
    n = r.choice(["2,000", "15,000", "800", "40,000", "6,500"])
    text = (
        f"{firm} is recalling {n} {product} because {defect}. "
        f"Customers are asked to stop using the item and return it to the shop for a full refund. "
        f"No injuries have been reported so far."
    )
    summary = f"{firm} is recalling {n} {product} because {defect} and is offering full refunds."
    return text, summary


FRAMES: list[Callable[[random.Random], tuple[str, str]]] = [
    council,
    shop,
    match,
    weather,
    science,
    company,
    school,
    bus,
    pet,
    festival,
    clinic,
    recall,
]


def fill(frames: list[Callable[[random.Random], tuple[str, str]]], n: int, rng: random.Random,
         seen: set[str]) -> list[dict[str, str]]:
    """n unique rows from the frames in turn (a text or summary seen before is drawn again)."""
    rows: list[dict[str, str]] = []
    while len(rows) < n:
        text, summary = frames[len(rows) % len(frames)](rng)
        if text in seen or summary in seen:
            continue
        seen.update((text, summary))
        rows.append({"text": text, "summary": summary})
    rng.shuffle(rows)
    return rows


def generate() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(train, test); ids s000..s199 for train and s200..s259 for test."""
    rng = random.Random(SEED)
    train_frames, test_frames = split_frames(FRAMES, TEST_FRAMES, SEED)
    seen: set[str] = set()
    train = fill(train_frames, N_TRAIN, rng, seen)
    test = fill(test_frames, N_TEST, rng, seen)
    assert_disjoint([r["text"] for r in train], [r["text"] for r in test])
    rows = [{"id": f"s{i:03d}", **row} for i, row in enumerate(train + test)]
    return rows[:N_TRAIN], rows[N_TRAIN:]


def main() -> None:
    train, test = generate()
    write_jsonl(HERE / "train.jsonl", train)
    write_jsonl(HERE / "test.jsonl", test)


if __name__ == "__main__":
    main()
