"""Where the project's own folders are, independent of the working directory."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # harness/core/paths.py -> the repository root


def tasks_dir() -> Path:
    """Task assets (templates, shipped data): $HARNESS_TASKS_DIR or <repo>/tasks."""
    return Path(os.environ.get("HARNESS_TASKS_DIR", ROOT / "tasks"))


def conf_dir() -> Path:
    return ROOT / "conf"


def group_options(group: str, root: Path | None = None) -> list[str]:
    """Config names in conf/<group>/ (plain file listing: `--help` must not import Hydra)."""
    folder = (root or conf_dir()) / group
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def shared_data_dir() -> Path:
    """Benchmark copies beside the project (CI has them; a user's clone does not)."""
    return Path(os.environ.get("HARNESS_SHARED_DATA", ROOT.parent / "shared" / "data"))
