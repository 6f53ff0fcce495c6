"""CSV/TSV values are read as the text written; quoting is a setting; merged rows are reported.

Reproductions (issue 16, item 6): "NA", "N/A", "null", "nan", "None" became missing values
with a misleading "missing field" error, and a TSV with one unmatched `"` silently merged
four rows into one.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.errors import ConfigError, DataError
from harness.core.paths import ROOT
from harness.data.samples import load_task_data
from tests.foundation.test_data import byo as byo_task

NULLISH = ["NA", "N/A", "null", "nan", "None", "NaN", "NULL", "#N/A", "n/a"]


def byo(path: Path, *extra: str):
    """test_data's bring-your-own task (uid, text, label columns), with labels that are null-like words."""
    return byo_task(path, f"task.labels=[{','.join(json.dumps(v) for v in [*NULLISH, 'pos'])}]", *extra)


@pytest.mark.parametrize("sep", [",", "\t"], ids=["csv", "tsv"])
def test_nullish_words_stay_text(tmp_path: Path, sep: str) -> None:
    path = tmp_path / ("d.csv" if sep == "," else "d.tsv")
    lines = [sep.join(["uid", "text", "label"])] + [sep.join([f"u{i}", v, v]) for i, v in enumerate(NULLISH)]
    path.write_text("\n".join(lines) + "\n")
    samples = load_task_data(byo(path)).test
    assert [(s.input, s.target) for s in samples] == [(v, v) for v in NULLISH]


def test_empty_cell_is_still_a_missing_field(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("uid,text,label\nu0,fine,NA\nu1,,NA\n")
    with pytest.raises(DataError, match=r"row 2: missing field 'text'"):
        load_task_data(byo(path))


# row u1's text starts with an unmatched quote: CSV quoting reads on to the next quote, rows later
TSV_WITH_QUOTE = (
    'uid\ttext\tlabel\nu0\ta 5" screen\tpos\nu1\t"best\tpos\nu2\tthird "quoted" word\tpos\nu3\tfourth\tpos\n'
)


def test_tsv_reads_quotes_as_text_by_default(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "d.tsv"
    path.write_text(TSV_WITH_QUOTE)
    with caplog.at_level(logging.WARNING, logger="harness.data.samples"):
        samples = load_task_data(byo(path)).test
    assert [s.input for s in samples] == ['a 5" screen', '"best', 'third "quoted" word', "fourth"]
    assert not caplog.records


def test_quoted_rows_spanning_lines_are_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """With CSV quoting a TSV's unmatched quote swallows the rows after it: say so, do not stay quiet."""
    path = tmp_path / "d.tsv"
    path.write_text(TSV_WITH_QUOTE)
    with caplog.at_level(logging.WARNING, logger="harness.data.samples"):
        samples = load_task_data(byo(path, "task.data.quoting=standard")).test
    assert len(samples) < 4
    message = " ".join(r.getMessage() for r in caplog.records)
    assert f"{path}: {len(samples)} rows from 4 lines" in message and "task.data.quoting" in message


def test_csv_keeps_standard_quoting(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "d.csv"
    path.write_text('uid,text,label\nu0,"a, b",NA\nu1,"say ""hi""",None\n')
    with caplog.at_level(logging.WARNING, logger="harness.data.samples"):
        samples = load_task_data(byo(path)).test
    assert [(s.input, s.target) for s in samples] == [("a, b", "NA"), ('say "hi"', "None")]
    assert not caplog.records
    with pytest.raises(DataError, match=r"row 1 .* has 4 columns, header has 3"):  # quotes as text: 4 cells
        load_task_data(byo(path, "task.data.quoting=none"))


def test_unknown_quoting_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("uid,text,label\nu0,x,NA\n")
    with pytest.raises(ConfigError, match=r"task\.data\.quoting"):
        load_task_data(byo(path, "task.data.quoting=double"))


def test_json_array_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    rows = [{"uid": "007", "text": "NA", "label": "null"}, {"uid": "8", "text": "y", "label": "NA"}]
    path.write_text(json.dumps(rows, indent=1))
    samples = load_task_data(byo(path)).test
    assert [(s.id, s.input, s.target) for s in samples] == [("007", "NA", "null"), ("8", "y", "NA")]


def test_local_files_load_without_the_datasets_library(tmp_path: Path) -> None:
    path = tmp_path / "d.tsv"
    path.write_text(TSV_WITH_QUOTE)
    code = (
        "import sys; from harness.config.load import compose_run; from harness.data.samples import load_task_data\n"
        f"task = compose_run(['task.data.path={path}', 'task.data.input_field=text', 'task.data.target_field=label',"
        " 'task.data.id_field=uid', 'task.data.train_path=null', 'task.labels=[pos]']).task\n"
        "assert len(load_task_data(task).test) == 4\n"
        "print(sorted(m for m in ('datasets', 'pandas', 'pyarrow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_multiline_csv_cells_warn_until_quoting_is_set(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "d.csv"
    path.write_text('uid,text,label\nu0,"first line\nsecond line",NA\nu1,plain,None\n')
    with caplog.at_level(logging.WARNING, logger="harness.data.samples"):
        samples = load_task_data(byo(path)).test
        assert [s.input for s in samples] == ["first line\nsecond line", "plain"]
        assert f"{path}: 2 rows from 3 lines" in caplog.text
        caplog.clear()
        load_task_data(byo(path, "task.data.quoting=standard"))  # said explicitly: the cells span lines
    assert not caplog.records
