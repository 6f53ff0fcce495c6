"""Planted leakage (issue 11, Done means): 30% exact copies, 20% template variants, 50% unrelated text.

The train side is templated records (ten frames filled with names, numbers,
money and dates). The unrelated half is real customer text: Banking77 test
questions shipped in tasks/banking77_demo/ (a different source, not this generator).
"""

from __future__ import annotations

import json
import random

import pytest

from harness.audit.audit import AuditResult, AuditSettings, TrainItem, run_audit
from harness.core.paths import ROOT

FIRST = ["Anna", "Tom", "Maria", "Kenji", "Olga", "Pierre", "Fatima", "Lukas", "Ines", "Ravi", "Chloe", "Diego"]
LAST = ["Lopez", "Schmidt", "Okafor", "Tanaka", "Novak", "Dubois", "Haddad", "Berg", "Costa", "Iyer"]
CITIES = ["Berlin", "Lisbon", "Osaka", "Nairobi", "Quito", "Oslo", "Perth", "Austin"]
FRAMES = [
    "Invoice {n} for {name} lists {k} units of the standard kit, payable by {date}.",
    "Dear {name}, your parcel {n} left our {city} depot on {date} and should arrive within {k} days.",
    "The account of {name} was charged {money} on {date} for the annual premium membership plan.",
    "Please note that {name} moved the team meeting about the quarterly budget to room {k} on {date}.",
    "Our records show that {name} returned {k} items to the {city} store and received a refund of {money}.",
    "Flight {n} from {city} with {name} on board landed {k} minutes late because of strong head winds.",
    "The warranty claim filed by {name} for the washing machine bought on {date} was approved for {money}.",
    "A reminder that the library book borrowed by {name} is {k} days overdue, and the fine is now {money}.",
    "At the {city} branch, {name} opened a savings account with an initial deposit of {money} on {date}.",
    "The inspection report from {date} notes that {name} found {k} faulty valves in the {city} plant.",
]


def _fill(frame: str, rng: random.Random) -> str:
    return frame.format(
        name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        n=rng.randrange(1000, 99999),
        k=rng.randrange(2, 60),
        money=f"${rng.randrange(5, 5000)}.{rng.randrange(10, 99)}",
        date=f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        city=rng.choice(CITIES),
    )


def _case_and_punctuation(text: str, i: int) -> str:
    """The same words with other case and punctuation (still an exact copy after normalisation)."""
    stripped = text.replace(",", "").replace(".", "")
    return (stripped.upper(), text.lower() + "!!", "  " + stripped.replace(" ", "  ") + " ?")[i % 3]


@pytest.fixture(scope="module")
def planted() -> tuple[list[tuple[str, str]], list[TrainItem], dict[str, str]]:
    rng = random.Random(11)
    train = [TrainItem("train", f"tr{i}", _fill(FRAMES[i % len(FRAMES)], rng)) for i in range(200)]
    test: list[tuple[str, str]] = []
    kind: dict[str, str] = {}
    for i in range(30):
        test.append((f"copy{i}", _case_and_punctuation(train[i * 5].text, i)))
        kind[f"copy{i}"] = "copy"
    for i in range(20):
        test.append((f"tmpl{i}", _fill(FRAMES[i % len(FRAMES)], rng)))  # same frame, other names and numbers
        kind[f"tmpl{i}"] = "template"
    rows = [json.loads(line) for line in (ROOT / "tasks/banking77_demo/test.jsonl").read_text().splitlines()]
    for row in rows[:50]:
        test.append((f"real-{row['id']}", row["text"]))
        kind[f"real-{row['id']}"] = "unrelated"
    assert len(test) == 100 and len({t for _, t in test}) == 100
    return test, train, kind


def test_planted_leakage_is_measured(planted: tuple[list[tuple[str, str]], list[TrainItem], dict[str, str]]) -> None:
    test, train, kind = planted
    items = run_audit(test, train, AuditSettings())
    summary = AuditResult(tuple(items)).summary()
    assert summary["leakage.exact"] == pytest.approx(0.30, abs=0.02)
    assert summary["leakage.any"] == pytest.approx(0.50, abs=0.02)
    by_kind = {k: [f for f in items if kind[f.id] == k] for k in ("copy", "template", "unrelated")}
    assert all(f.exact for f in by_kind["copy"])
    assert all(f.template and not f.exact for f in by_kind["template"])
    flagged_unrelated = [f.id for f in by_kind["unrelated"] if f.any]
    assert flagged_unrelated == []
