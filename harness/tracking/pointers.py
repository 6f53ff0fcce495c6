"""Artifacts that point at something too big to copy into the store: a tuned adapter.

An adapter folder is tens of MB and already has a content hash (the
`harness.adapter` tag); the tuning run logs `adapter/pointer.json` (where it
is, its hash, its files and sizes) rather than a second copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

POINTER = "adapter/pointer.json"


def adapter_pointer(folder: Path, adapter_hash: str) -> dict[str, Any]:
    """Where the adapter lives and what it is: path, content hash, file sizes."""
    files = {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}
    return {"path": str(folder.resolve()), "hash": adapter_hash, "files": files}


def log_adapter_pointer(tracker: Any, folder: Path, adapter_hash: str) -> None:
    """Log `adapter/pointer.json` on the tracker's run."""
    tracker.client.log_dict(tracker.run_id, adapter_pointer(folder, adapter_hash), POINTER)
