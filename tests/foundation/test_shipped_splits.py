"""The synthetic shipped tasks are honest smoke tasks: train and test share no sentence frame.

The old classification split filled both splits from the same 30 frames (64 of its 99
test items share a 5-word sequence with train: tests/fixtures/leaky_classification/).
The regenerated splits draw train and test from disjoint frames (tasks/datagen.py);
checked here with a plain word n-gram overlap, independent of the generators, and by
re-running each generator into a temporary copy (same bytes as committed).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# (task, text field, n): no test item may share an n-word sequence with any train item. json_extraction's
# notices share the price/date phrases ("tickets cost 30 dollars") by design, hence 8 words there
CASES = [("classification", "text", 5), ("summarization", "text", 5), ("json_extraction", "text", 8),
         ("code_mini", "prompt", 8)]  # fmt: skip


def _texts(folder: Path, split: str, field: str) -> list[str]:
    lines = (folder / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [str(json.loads(line)[field]) for line in lines]


def _grams(text: str, n: int) -> set[tuple[str, ...]]:
    w = re.findall(r"\w+", text.lower())
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}


def _sharing(train: list[str], test: list[str], n: int) -> int:
    seen = set().union(*(_grams(t, n) for t in train))
    return sum(bool(_grams(t, n) & seen) for t in test)


@pytest.mark.parametrize(("task", "field", "n"), CASES)
def test_no_test_item_shares_a_frame_with_train(task: str, field: str, n: int) -> None:
    folder = ROOT / "tasks" / task
    assert _sharing(_texts(folder, "train", field), _texts(folder, "test", field), n) == 0


def test_the_check_sees_the_old_leaky_split() -> None:
    old = ROOT / "tests" / "fixtures" / "leaky_classification"
    assert _sharing(_texts(old, "train", "text"), _texts(old, "test", "text"), 5) == 64


def test_sizes_ids_and_labels_kept() -> None:
    cls = ROOT / "tasks" / "classification"
    test = [json.loads(x) for x in (cls / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    train = [json.loads(x) for x in (cls / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in test] == [f"test-{i:03d}" for i in range(99)]
    assert [r["id"] for r in train] == [f"train-{i:03d}" for i in range(360)]
    assert {r["label"] for r in test} == {r["label"] for r in train} == {"positive", "negative", "neutral"}
    for task, n_train, n_test in (("summarization", 200, 60), ("json_extraction", 150, 50), ("code_mini", 4, 16)):
        folder, key = ROOT / "tasks" / task, "task_id" if task == "code_mini" else "id"
        assert (len(_texts(folder, "train", key)), len(_texts(folder, "test", key))) == (n_train, n_test)


@pytest.mark.parametrize("task", ["classification", "summarization", "json_extraction", "code_mini"])
def test_generator_reproduces_the_committed_files(task: str, tmp_path: Path) -> None:
    copy = tmp_path / "tasks"
    (copy / task).mkdir(parents=True)
    (copy / "datagen.py").write_bytes((ROOT / "tasks" / "datagen.py").read_bytes())
    (copy / task / "make_data.py").write_bytes((ROOT / "tasks" / task / "make_data.py").read_bytes())
    subprocess.run([sys.executable, str(copy / task / "make_data.py")], check=True)
    for split in ("train", "test"):
        assert (copy / task / f"{split}.jsonl").read_bytes() == (ROOT / "tasks" / task / f"{split}.jsonl").read_bytes()
