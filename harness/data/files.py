"""Reads local data files (.jsonl/.json/.csv/.tsv, optionally .gz) into rows, exactly as written.

No `datasets`, `pandas` or `pyarrow` here: they cost about a second of imports and
their type inference rewrites data quietly (ids "007" -> 7, ISO dates -> timestamps,
the words "NA", "null", "None", "nan" -> missing). Every CSV/TSV cell is text; only an
empty cell is missing. JSON values stay as parsed.

Quoting (`task.data.quoting`): "standard" reads CSV quoting (a quoted cell may hold the
delimiter, a doubled quote or a line break); "none" reads every quote as text. The
default is "standard" for .csv and "none" for .tsv, because tab-separated files rarely
quote and one stray `"` at the start of a cell would otherwise swallow the rows after it.
When the rows read and the lines in the file disagree, a warning says so, unless a .csv
sets `quoting: standard` explicitly (its cells are known to span lines).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from pathlib import Path
from typing import Any, Literal

from harness.core.errors import ConfigError, DataError

log = logging.getLogger("harness.data.samples")  # the loader's logger: one name for the user to filter

QUOTING: dict[str, Literal[0, 3]] = {"standard": csv.QUOTE_MINIMAL, "none": csv.QUOTE_NONE}


def read_rows(file: Path, suffix: str, quoting: str | None = None) -> list[dict[str, Any]]:
    """Rows of a local file whose format is `suffix` (.jsonl/.json/.csv/.tsv); DataError names file and row."""
    text = _text(file)
    if suffix in (".csv", ".tsv"):
        # set explicitly, standard quoting says "my cells span lines": no warning for a CSV then
        expected = quoting == "standard" and suffix == ".csv"
        return _delimited(text, file, "\t" if suffix == ".tsv" else ",", _quoting(quoting, suffix), expected)
    if suffix == ".json" and text.lstrip().startswith("["):
        return _json_array(text, file)
    return _json_lines(text, file)


def _quoting(quoting: str | None, suffix: str) -> str:
    if quoting is None:
        return "none" if suffix == ".tsv" else "standard"
    if quoting not in QUOTING:
        raise ConfigError(f"task.data.quoting must be one of {', '.join(QUOTING)} (or null), got {quoting!r}")
    return quoting


def _text(file: Path) -> str:
    opener = gzip.open if file.suffix == ".gz" else open
    try:
        with opener(file, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{file}: cannot read file: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{file}:{bad_line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    text = text.removeprefix("\ufeff")  # a byte-order mark is not part of the first column's name
    if not text.strip():
        raise DataError(f"{file}: the data set is empty")
    return text


def _json_lines(text: str, file: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{file}:{lineno}: malformed JSON row: {exc.msg}") from None
        if not isinstance(row, dict):
            raise DataError(f"{file}:{lineno}: a row must be a JSON object, got {type(row).__name__}")
        rows.append(row)
    return rows


def _json_array(text: str, file: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{file}:{exc.lineno}: malformed JSON: {exc.msg}") from None
    for index, row in enumerate(data, 1):
        if not isinstance(row, dict):
            raise DataError(f"{file}: item {index} of the array must be a JSON object, got {type(row).__name__}")
    return list(data)


def _delimited(text: str, file: Path, delimiter: str, quoting: str, spans_expected: bool) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=QUOTING[quoting])
    try:
        header = next(reader, [])
        rows: list[dict[str, Any]] = []
        for rowno, cells in enumerate(reader, 1):
            if not cells:
                continue  # a blank line
            if len(cells) != len(header):
                raise DataError(
                    f"{file}: row {rowno} (line {reader.line_num}) has {len(cells)} columns, header has {len(header)}"
                )
            # an empty cell is the only missing value: every other cell is the text written
            rows.append({name: (cell if cell != "" else None) for name, cell in zip(header, cells, strict=True)})
    except csv.Error as exc:
        raise DataError(f"{file}: line {reader.line_num}: cannot be read as CSV: {exc}") from None
    lines = sum(1 for line in text.splitlines()[1:] if line.strip())
    if len(rows) != lines and not spans_expected:
        log.warning(
            "%s: %d rows from %d lines: quoted cells span lines (task.data.quoting=%s); "
            "if quotes in this file are text, set task.data.quoting=none",
            file, len(rows), lines, quoting,
        )
    return rows
