"""Data loading through `datasets`: bring-your-own files, subsets, and a clear error per bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from harness.config.load import compose_run
from harness.core.errors import DataError
from harness.data.prompts import PromptBuilder
from harness.data.samples import load_task_data

ROWS = [{"uid": f"u{i}", "text": f"review number {i}", "label": ["negative", "positive"][i % 2]} for i in range(12)]


def write(path: Path, rows: list[dict], fmt: str) -> Path:
    if fmt in ("csv", "tsv"):
        sep = "," if fmt == "csv" else "\t"
        text = sep.join(rows[0]) + "\n" + "".join(sep.join(str(v) for v in r.values()) + "\n" for r in rows)
    else:
        text = "".join(json.dumps(r) + "\n" for r in rows)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def byo(path: Path, *extra: str):
    return compose_run(
        [
            f"task.data.path={path}",
            "task.data.input_field=text",
            "task.data.target_field=label",
            "task.data.id_field=uid",
            "task.data.train_path=null",
            "task.labels=[negative,positive]",
            *extra,
        ]
    ).task


@pytest.mark.parametrize("name", ["mine.jsonl", "mine.csv", "mine.tsv", "mine.jsonl.gz", "mine.csv.gz"])
def test_bring_your_own_data_with_overrides_only(tmp_path: Path, name: str) -> None:
    fmt = name.split(".")[1]
    task = byo(write(tmp_path / name, ROWS, fmt))
    data = load_task_data(task)
    assert [s.id for s in data.test] == [r["uid"] for r in ROWS]
    assert data.test[3].input == "review number 3" and data.test[3].references == ("positive",)
    assert data.test[3].fields["uid"] == "u3"


def test_limit_is_a_seeded_deterministic_subset_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", ROWS, "jsonl")
    a = load_task_data(byo(path, "task.limit=5", "task.seed=1"))
    b = load_task_data(byo(path, "task.limit=5", "task.seed=1"))
    c = load_task_data(byo(path, "task.limit=5", "task.seed=2"))
    assert [s.id for s in a.test] == [s.id for s in b.test]
    assert a.fingerprint == b.fingerprint != c.fingerprint
    ids = [s.id for s in a.test]
    assert len(ids) == 5 and ids == sorted(ids, key=lambda x: int(x[1:]))


def test_few_shot_examples_come_from_train_never_test() -> None:
    task = compose_run(["task.shots=4"]).task
    data = load_task_data(task)
    builder = PromptBuilder(task, data.train)
    test_ids = {s.id for s in data.test}
    assert len(builder.examples) == 4
    assert all(e.id.startswith("train-") and e.id not in test_ids for e in builder.examples)
    prompt = builder.render(data.test[0])
    assert all(e.input in prompt for e in builder.examples)
    assert prompt.endswith(f"Review: {data.test[0].input}\nSentiment:")


def test_gemini_contents_rows_load_as_input_and_target(tmp_path: Path) -> None:
    row = {
        "contents": [
            {"role": "user", "parts": [{"text": "Article text"}]},
            {"role": "model", "parts": [{"text": "Summary"}]},
        ]
    }
    path = tmp_path / "sft.jsonl"
    path.write_text(json.dumps(row) + "\n")
    data = load_task_data(
        compose_run(
            [f"task.data.path={path}", "task.data.id_field=null", "task.data.train_path=null", "task.labels=[Summary]"]
        ).task
    )
    assert (data.test[0].input, data.test[0].references) == ("Article text", ("Summary",))


BAD = [
    ("missing file", None, "data file not found"),
    ("empty", b"", "empty"),
    ("non-utf8", b'{"uid": "a", "text": "caf\xe9", "label": "positive"}\n', ":1: not valid UTF-8"),
    ("malformed row", b'{"uid": "a", "text": "x", "label": "positive"}\n{"uid": "b", "text": \n', ":2: malformed JSON"),
    (
        "missing input",
        b'{"uid": "a", "text": "x", "label": "positive"}\n{"uid": "b", "txt": "y", "label": "positive"}\n',
        "row 2: missing field 'text'",
    ),
    (
        "duplicate id",
        b'{"uid": "a", "text": "x", "label": "positive"}\n{"uid": "a", "text": "y", "label": "negative"}\n',
        "row 2: duplicate id 'a'",
    ),
]


@pytest.mark.parametrize(("case", "content", "needle"), BAD, ids=[b[0] for b in BAD])
def test_bad_data_is_a_clear_error_naming_file_and_row(
    tmp_path: Path, case: str, content: bytes | None, needle: str
) -> None:
    path = tmp_path / "bad.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_task_data(byo(path))
    assert needle in str(err.value) and str(path) in str(err.value)


def test_csv_row_with_wrong_column_count_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("uid,text,label\na,hello,positive\nb,extra,positive,oops\n")
    with pytest.raises(DataError, match=r"row 2 .* has 4 columns, header has 3"):
        load_task_data(byo(path))


def test_shots_beyond_train_size_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", ROWS, "jsonl")
    with pytest.raises(DataError, match=r"task\.shots=3"):
        load_task_data(byo(path, "task.shots=3"))


def test_values_are_loaded_exactly_as_written(tmp_path: Path) -> None:
    """No type inference rewrites data: ISO dates stay strings, ids keep leading zeros."""
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text('{"uid": "007", "text": "on 2024-03-05", "label": {"date": "2024-03-05", "n": "0012"}}\n')
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("uid,text,label\n007,on 2024-03-05,0012\n")
    for path in (jsonl, csv_path):
        sample = load_task_data(byo(path)).test[0]
        assert sample.id == "007" and sample.input == "on 2024-03-05"
    assert json.loads(load_task_data(byo(jsonl)).test[0].target) == {"date": "2024-03-05", "n": "0012"}
    assert load_task_data(byo(csv_path)).test[0].target == "0012"
