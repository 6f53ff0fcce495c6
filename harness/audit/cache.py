"""The audit's result cache: one JSON file per (test data, training sources, settings).

A re-run of the same cell finds its flags here instead of re-indexing the
training side. The key is made of fingerprints, so changed data or settings
never reuse stale flags.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness.audit.audit import AuditSettings, ItemFlags, SourceInfo

FORMAT = 2  # bump when a method changes what it flags


def cache_key(test_fingerprint: str, sources: Sequence[SourceInfo], settings: AuditSettings) -> str:
    payload = {
        "format": FORMAT,
        "test": test_fingerprint,
        "sources": [[s.name, s.fingerprint, s.status] for s in sources],
        "settings": dataclasses.asdict(settings),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def load(folder: Path, key: str) -> list[ItemFlags] | None:
    try:
        rows = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        return [ItemFlags.from_json(r) for r in rows]
    except (OSError, ValueError, TypeError, KeyError):
        return None  # absent or damaged: audit again


def store(folder: Path, key: str, items: Sequence[ItemFlags]) -> None:
    text = json.dumps([dataclasses.asdict(f) for f in items], ensure_ascii=False)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{key}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, folder / f"{key}.json")  # a reader never sees half a file
    except OSError:
        pass  # a cache that cannot be written only costs the next run the audit again
