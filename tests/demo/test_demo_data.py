"""The demonstration's shipped data (tasks/banking77_demo/): real, from the right official split, no overlap.

Every row is checked against the official Banking77 copy in ../shared/data/banking77
(read here with the csv module, independently of the generator and of the harness's loader).
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from harness.config.load import compose_run
from harness.data.samples import load_task_data

ROOT = Path(__file__).resolve().parents[2]
TASK = ROOT / "tasks" / "banking77_demo"


def _rows(split: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (TASK / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]


def _fold(text: str) -> str:  # case, punctuation, whitespace, NFKC
    return " ".join(re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFKC", text).casefold()).split())


def _official(folder: Path, split: str) -> dict[int, tuple[str, str]]:
    """line number in the official file -> (text, category); the header is line 1."""
    with (folder / "banking77" / f"{split}.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = {}
        for text, cat in reader:
            rows[reader.line_num] = (text, cat)
        return rows


def test_no_id_or_text_in_both_splits() -> None:
    train, test = _rows("train"), _rows("test")
    assert (len(train), len(test)) == (160, 80)
    assert not {r["id"] for r in train} & {r["id"] for r in test}
    assert not {_fold(r["text"]) for r in train} & {_fold(r["text"]) for r in test}
    assert len({_fold(r["text"]) for r in test}) == len(test) and len({_fold(r["text"]) for r in train}) == len(train)


def test_the_task_config_reads_the_files_with_eight_balanced_labels() -> None:
    cfg = compose_run(["task=banking77_demo", "model=replay", "model.path=unused"])
    data = load_task_data(cfg.task)
    assert (len(data.test), len(data.train)) == (80, 160)
    labels = cfg.task.labels
    assert len(labels) == 8
    for split, n in ((data.test, 10), (data.train, 20)):
        assert {lab: sum(s.target == lab for s in split) for lab in labels} == dict.fromkeys(labels, n)


@pytest.mark.shared_data
def test_every_row_is_the_official_row_of_its_own_split(shared_data: Path) -> None:
    official = {split: _official(shared_data, split) for split in ("train", "test")}
    for split in ("train", "test"):
        for row in _rows(split):
            file, line = row["source"].split(":")
            assert file == f"{split}.csv", row  # test items only from the official test split, and so on
            assert official[split][int(line)] == (row["text"], row["label"]), row
    # and no text of ours has a (folded) twin anywhere in the other official split
    other_train = {_fold(t) for t, _ in official["train"].values()}
    other_test = {_fold(t) for t, _ in official["test"].values()}
    assert not [r for r in _rows("test") if _fold(r["text"]) in other_train]
    assert not [r for r in _rows("train") if _fold(r["text"]) in other_test]


@pytest.mark.shared_data
def test_the_generator_reproduces_the_files(shared_data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tasks"
    (copy / "banking77_demo").mkdir(parents=True)
    (copy / "datagen.py").write_bytes((ROOT / "tasks" / "datagen.py").read_bytes())
    script = copy / "banking77_demo" / "make_data.py"
    script.write_bytes((TASK / "make_data.py").read_bytes())
    subprocess.run([sys.executable, str(script), "--source", str(shared_data / "banking77")], check=True)
    for split in ("train", "test"):
        assert (copy / "banking77_demo" / f"{split}.jsonl").read_bytes() == (TASK / f"{split}.jsonl").read_bytes()
