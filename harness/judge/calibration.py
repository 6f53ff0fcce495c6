"""Human labels as a judge's calibration set: a JSONL of {id, output, grade} rows.

`id` is a test item of the task (its input and reference come from there),
`output` the text a person graded, `grade` their grade on the judge's scale
(`task.judge.grades`; case ignored, numbers may be JSON numbers). Any other
keys are kept out of the way (a rater name, a note). A row whose id the
task's test split does not have, a grade off the scale, a missing key or a
line that is not a JSON object is one line naming the file and line, exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import ConfigError, DataError, suggest


@dataclass(frozen=True)
class Label:
    """One human grade of one output."""

    id: str
    output: str
    grade: str  # spelled as on the scale
    line: int


def read_labels(path: str, grades: Sequence[str], known_ids: Collection[str], task: str) -> list[Label]:
    """The labels of `path`, checked against the scale and the task's test ids."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"calibration file not found: {path}")
    by_lower = {g.lower(): g for g in grades}
    out: list[Label] = []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"calibration file {path} cannot be read: {exc}") from None
    for no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"{path}:{no}"
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: a row must be a JSON object with id, output and grade")
        missing = [k for k in ("id", "output", "grade") if k not in row or row[k] is None]
        if missing:
            raise DataError(f"{where}: missing {', '.join(missing)} (a row is {{id, output, grade}})")
        item_id, grade = str(row["id"]), _text(row["grade"])
        if item_id not in known_ids:
            raise DataError(f"{where}: unknown item id {item_id!r}: not in the test split of task "
                            f"{task}{suggest(item_id, known_ids)}")
        if grade.lower() not in by_lower:
            raise DataError(f"{where}: grade {grade!r} is not on the judge's scale [{', '.join(grades)}] "
                            "(task.judge.grades)")
        if not isinstance(row["output"], str):
            raise DataError(f"{where}: output must be text")
        out.append(Label(item_id, row["output"], by_lower[grade.lower()], no))
    if not out:
        raise DataError(f"calibration file {path} has no rows")
    return out


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 4.0 -> '4' on a 1-5 scale
    return str(value).strip()
