"""The training side of a run: the task's train split (and few-shot pool) and the data a tuned variant saw.

`model.tuning_data` names the file a variant was tuned on (`python -m harness.tune`
writes it into the variant's config). Its rows may be the task's own format
(its input field), Gemini tuning JSONL (`contents`: the user turn is the text),
or any JSONL/CSV with a `text`, `input` or `prompt` column. A tuned variant
(`model.variant` other than `base`) without it is audited against what is known
and its tuning source is reported `unknown`, not an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.audit.audit import SourceInfo, TrainItem
from harness.config.schema import TaskConfig
from harness.core.errors import ConfigError, DataError
from harness.core.records import Sample
from harness.data import files
from harness.data.samples import fingerprint

_TEXT_FIELDS = ("text", "input", "prompt", "question")


def check_model(model: Any) -> None:
    """model.tuning_data must name a file (checked at start-up, before any data or model loads)."""
    tuning = getattr(model, "tuning_data", None)
    if tuning and not Path(tuning).is_file():
        raise ConfigError(f"model.tuning_data={tuning}: file not found")


def training_side(
    task: TaskConfig, model: Any, train: Sequence[Sample]
) -> tuple[list[TrainItem], list[SourceInfo]]:
    """All training-side items of a run and one SourceInfo per source (none: nothing to audit against)."""
    items: list[TrainItem] = []
    infos: list[SourceInfo] = []
    if train:
        where = task.data.train_path or f"{task.data.path} [{task.data.train_split}]"
        items += [TrainItem("train", s.id, s.input) for s in train]
        infos.append(SourceInfo("train", str(where), fingerprint(train), len(train)))
    tuning = getattr(model, "tuning_data", None)
    if tuning:
        check_model(model)
        path = Path(tuning)
        same = task.data.train_path and Path(task.data.train_path).resolve() == path.resolve()
        texts = [] if same else tuning_texts(path, task.data.input_field)
        items += [TrainItem("tuning", i, t) for i, t in texts]
        infos.append(SourceInfo("tuning", str(path), file_fingerprint(path), len(train) if same else len(texts)))
    elif getattr(model, "variant", "base") != "base":
        infos.append(SourceInfo("tuning", "", status="unknown"))
    return items, infos


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise DataError(f"model.tuning_data={path}: cannot read: {exc.strerror or exc}") from None
    return digest.hexdigest()[:16]


def tuning_texts(path: Path, input_field: str) -> list[tuple[str, str]]:
    """(id, text) of every row of a tuning file; DataError (naming model.tuning_data) when unreadable."""
    suffixes = [s for s in path.suffixes if s != ".gz"]
    suffix = suffixes[-1].lower() if suffixes else ".jsonl"
    if suffix not in (".jsonl", ".json", ".csv", ".tsv"):
        raise DataError(f"model.tuning_data={path}: unsupported file type; use .jsonl, .json, .csv or .tsv")
    try:
        rows = files.read_rows(path, suffix)
    except DataError as exc:
        raise DataError(f"model.tuning_data: {exc}") from None
    out: list[tuple[str, str]] = []
    for n, row in enumerate(rows):
        text = row_text(row, input_field)
        if text is None:
            raise DataError(
                f"model.tuning_data={path}: row {n + 1} has no text (no {input_field!r}, 'contents', "
                f"or {', '.join(_TEXT_FIELDS)} field)"
            )
        out.append((str(row.get("id", n)), text))
    return out


def row_text(row: Mapping[str, Any], input_field: str) -> str | None:
    """The training text of one row: the task's input field, a Gemini user turn, or a common text column."""
    contents = row.get("contents")
    if input_field not in row and isinstance(contents, list):
        user = [
            "".join(str(p.get("text", "")) for p in (turn.get("parts") or []) if isinstance(p, dict))
            for turn in contents
            if isinstance(turn, dict) and turn.get("role") == "user"
        ]
        return "\n".join(user) if user else None
    for key in (input_field, *_TEXT_FIELDS):
        value = row.get(key)
        if isinstance(value, str):
            return value
    return None
