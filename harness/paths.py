"""Where the project's own folders are, independent of the working directory."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tasks_dir() -> Path:
    """Task assets (templates, shipped data): $HARNESS_TASKS_DIR or <repo>/tasks."""
    return Path(os.environ.get("HARNESS_TASKS_DIR", ROOT / "tasks"))


def conf_dir() -> Path:
    return ROOT / "conf"


def shared_data_dir() -> Path:
    """Benchmark copies beside the project (CI has them; a user's clone does not)."""
    return Path(os.environ.get("HARNESS_SHARED_DATA", ROOT.parent / "shared" / "data"))
