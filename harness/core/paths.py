"""Where the project's own folders are, independent of the working directory.

`ROOT` is the folder that holds `conf/` and `tasks/`: the repository root in a
clone (and an editable install), `harness/_data/` in an installed wheel
(setup.py copies both folders there at build time). `${hroot:}` in the YAMLs
resolves to it, so shipped data paths work in both.

Users add their own configs without editing either: `$HARNESS_CONFIG_PATH`
lists folders laid out like `conf/` (`task/`, `model/`, ...) that Hydra
searches after `conf/`; task templates are then also looked up in a `tasks/`
folder inside or beside each of them.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # harness/
_PACKAGED = PACKAGE / "_data"  # only in a built wheel


def _data_root() -> Path:
    # a clone has no harness/_data (the build copies into its build tree, never into the sources)
    return _PACKAGED if (_PACKAGED / "conf" / "config.yaml").is_file() else PACKAGE.parent


ROOT = _data_root()
CONFIG_PATH_ENV = "HARNESS_CONFIG_PATH"


def tasks_dir() -> Path:
    """Task assets (templates, shipped data): $HARNESS_TASKS_DIR or <ROOT>/tasks."""
    return Path(os.environ.get("HARNESS_TASKS_DIR", ROOT / "tasks"))


def conf_dir() -> Path:
    """The shipped Hydra config folder (<ROOT>/conf)."""
    return ROOT / "conf"


def user_config_dirs() -> list[Path]:
    """The user's config folders from $HARNESS_CONFIG_PATH (separated by os.pathsep), absolute, in order."""
    raw = os.environ.get(CONFIG_PATH_ENV, "")
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]


def config_dirs() -> list[Path]:
    """Every folder Hydra searches for configs: conf/ first, then the user's folders."""
    return [conf_dir(), *user_config_dirs()]


def asset_dirs() -> list[Path]:
    """Where a task's `assets` folder is looked up: tasks_dir(), then tasks/ inside or beside each user folder."""
    found: list[Path] = [tasks_dir()]
    for folder in user_config_dirs():
        for candidate in (folder / "tasks", folder.parent / "tasks"):
            if candidate not in found:
                found.append(candidate)
    return found


def group_options(group: str, root: Path | None = None) -> list[str]:
    """Config names in <folder>/<group>/ of every config folder (plain listing: `--help` must not import Hydra)."""
    folders = [root] if root is not None else config_dirs()
    names = {p.stem for f in folders if (f / group).is_dir() for p in (f / group).glob("*.yaml")}
    return sorted(names)


def shared_data_dir() -> Path:
    """Benchmark copies beside the project (CI has them; a user's clone does not)."""
    return Path(os.environ.get("HARNESS_SHARED_DATA", PACKAGE.parent.parent / "shared" / "data"))
