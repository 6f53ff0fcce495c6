"""Loads a task's data into Samples: local files, Hub data sets, MLflow evaluation datasets.

Local files (.jsonl/.json/.csv/.tsv, optionally .gz) are read by `harness.data.files`,
exactly as written (every CSV/TSV cell is text); Hub ids go through
`datasets.load_dataset`, imported only then.

Rows in Gemini's tuning format (`{"contents": [user turn, model turn]}`)
map the user text to the input and the model text to the target, so the
tutorial's train files serve as few-shot / train data as they are.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config.schema import DataConfig, TaskConfig
from harness.core.errors import DataError, suggest
from harness.core.records import Sample
from harness.data import files, mlflow_dataset

log = logging.getLogger(__name__)

_FORMATS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".tsv": "csv"}


@dataclass(frozen=True)
class TaskData:
    """The samples a run scores (`test`) and may draw examples from (`train`)."""

    test: tuple[Sample, ...]
    train: tuple[Sample, ...]
    fingerprint: str  # of the scored samples, after `limit`


def load_task_data(task: TaskConfig, tracking_uri: str | None = None) -> TaskData:
    """Load, map, validate and subset a task's data. Raises DataError on bad data.

    `tracking_uri` is the MLflow store a `mlflow-dataset:<name>` path is read from (else MLflow's default).
    """
    cfg = task.data
    if mlflow_dataset.is_mlflow_dataset(cfg.path):
        test_rows, test_where = mlflow_dataset.read_rows(cfg.path, tracking_uri)
    else:
        test_rows, test_where = _load_split(cfg, cfg.path, cfg.test_split)
    test = map_labels(_to_samples(test_rows, cfg, test_where), task.label_map, test_where)
    if not test:
        raise DataError(f"{test_where}: the data set is empty")
    test = _subset(test, task.limit, task.seed)
    train: tuple[Sample, ...] = ()
    if cfg.train_path or (cfg.train_split and _is_hub(cfg.path)) or task.shots > 0:
        train = _load_train(task)
    if task.shots > len(train):
        where = cfg.train_path or f"{cfg.path} [{cfg.train_split}]"
        raise DataError(f"task.shots={task.shots} but the train split ({where}) has {len(train)} examples")
    return TaskData(test=test, train=train, fingerprint=fingerprint(test))


def _load_train(task: TaskConfig) -> tuple[Sample, ...]:
    cfg = task.data
    if cfg.train_path:
        rows, where = _load_split(cfg, cfg.train_path, cfg.train_split or "train")
    elif cfg.train_split and _is_hub(cfg.path):
        rows, where = _load_split(cfg, cfg.path, cfg.train_split)
    else:
        return ()
    return map_labels(_to_samples(rows, cfg, where), task.label_map, where)


def fingerprint(samples: Sequence[Sample]) -> str:
    """A hash of what is scored: ids, inputs and references, in order."""
    digest = hashlib.sha256()
    for s in samples:
        digest.update(json.dumps([s.id, s.input, list(s.references)], ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def _is_hub(path: str) -> bool:
    return not Path(path).exists() and "/" in path and not path.startswith((".", "/")) and _suffix(path) == ""


def _suffix(path: str) -> str:
    p = Path(path)
    suffixes = [s for s in p.suffixes if s != ".gz"]
    return suffixes[-1].lower() if suffixes else ""


# ------------------------------------------------------------------ loading


def _load_split(cfg: DataConfig, path: str, split: str) -> tuple[list[dict[str, Any]], str]:
    """Rows of one split and a human-readable 'where' for error messages."""
    if _is_hub(path):
        return _load_hub(cfg, path, split), f"{path} [{split}]"
    file = Path(path)
    if not file.exists():
        raise DataError(f"data file not found: {path} (task.data.path / task.data.train_path)")
    fmt = _FORMATS.get(_suffix(path))
    if fmt is None:
        raise DataError(f"{path}: unsupported data file type; use .jsonl, .json, .csv or .tsv (optionally .gz)")
    return _load_local(file, cfg), str(path)


def _load_hub(cfg: DataConfig, path: str, split: str) -> list[dict[str, Any]]:
    import datasets

    try:
        ds = datasets.load_dataset(path, cfg.name, split=split, revision=cfg.revision)
    except Exception as exc:  # the library raises many types; all mean "cannot load"
        raise DataError(f"cannot load Hub data set {path!r} split {split!r}: {_first_line(exc)}") from None
    return list(ds.to_list())


def _load_local(file: Path, cfg: DataConfig) -> list[dict[str, Any]]:
    # not through `datasets`: its type inference rewrites values ("007" -> 7, "NA" -> missing,
    # ISO dates -> timestamps) and its import costs about a second
    return files.read_rows(file, _suffix(str(file)), cfg.quoting)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


# ------------------------------------------------------------------ mapping


def _gemini_turns(row: Mapping[str, Any]) -> tuple[str, str] | None:
    """(user text, model text) of a Gemini tuning row, or None for other rows."""
    contents = row.get("contents")
    if not isinstance(contents, list):
        return None
    texts: dict[str, str] = {}
    for turn in contents:
        if isinstance(turn, dict):
            parts = turn.get("parts") or []
            texts[str(turn.get("role"))] = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
    if "user" not in texts or "model" not in texts:
        return None
    return texts["user"], texts["model"]


def _to_samples(rows: Sequence[Mapping[str, Any]], cfg: DataConfig, where: str) -> tuple[Sample, ...]:
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    columns = list(rows[0].keys()) if rows else []
    for index, row in enumerate(rows):
        rowno = index + 1
        turns = _gemini_turns(row) if cfg.input_field not in row else None
        if turns is not None:
            text, target = turns
            refs: tuple[str, ...] = (target,)
        else:
            text = _field(row, cfg.input_field, where, rowno, columns, "input_field")
            refs = _references(row, cfg, where, rowno, columns)
        sid = str(row[cfg.id_field]) if cfg.id_field and row.get(cfg.id_field) is not None else None
        if cfg.id_field and sid is None:
            _field(row, cfg.id_field, where, rowno, columns, "id_field")
        sid = sid if sid is not None else str(index)
        if sid in seen:
            raise DataError(f"{where}: row {rowno}: duplicate id {sid!r} (first seen in row {seen[sid]})")
        seen[sid] = rowno
        samples.append(Sample(id=sid, input=text, references=refs, fields=dict(row)))
    return tuple(samples)


def _field(row: Mapping[str, Any], name: str, where: str, rowno: int, columns: list[str], key: str) -> str:
    value = row.get(name)
    if value is None:
        hint = suggest(name, columns)
        raise DataError(
            f"{where}: row {rowno}: missing field {name!r} (task.data.{key}){hint}; columns: {', '.join(columns)}"
        )
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _references(
    row: Mapping[str, Any], cfg: DataConfig, where: str, rowno: int, columns: list[str]
) -> tuple[str, ...]:
    if not cfg.target_field:
        return ()
    value = row.get(cfg.target_field)
    if value is None:
        _field(row, cfg.target_field, where, rowno, columns, "target_field")
    if isinstance(value, list):  # several references
        return tuple(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in value)
    return (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True),)


def map_labels(samples: tuple[Sample, ...], label_map: Mapping[Any, str], where: str) -> tuple[Sample, ...]:
    """task.label_map: each reference (a raw label as read: 0 in JSON and "0" in a CSV both read "0") -> its name.

    A value the map does not name is a DataError: a half-mapped data set would score as wrong answers.
    """
    if not label_map:
        return samples
    # YAML keys come typed (0, true, 1.5); the references hold them as text, as JSON writes them
    names = {k if isinstance(k, str) else json.dumps(k): str(v) for k, v in label_map.items()}
    mapped: list[Sample] = []
    for rowno, sample in enumerate(samples, start=1):
        unknown = [r for r in sample.references if r not in names]
        if unknown:
            raise DataError(
                f"{where}: row {rowno}: label {unknown[0]!r} is not a key of task.label_map "
                f"(keys: {', '.join(sorted(names))})"
            )
        mapped.append(dataclasses.replace(sample, references=tuple(names[r] for r in sample.references)))
    return tuple(mapped)


def _subset(samples: tuple[Sample, ...], limit: int | None, seed: int) -> tuple[Sample, ...]:
    """A deterministic subset of `limit` samples, kept in file order."""
    if limit is None or limit >= len(samples):
        return samples
    if limit <= 0:
        raise DataError(f"task.limit must be positive, got {limit}")
    keep = sorted(random.Random(seed).sample(range(len(samples)), limit))
    return tuple(samples[i] for i in keep)


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a small JSONL file we wrote ourselves (predictions, replay files)."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
