"""Plugins from other installed packages, found through `importlib.metadata` entry points.

A package extends the harness without editing it by naming, in its metadata,
modules whose import registers something with the usual decorators:

    [project.entry-points."harness.scorers"]
    my_scorers = "my_pkg.scorers"        # @SCORERS.register("my_metric") inside

Groups: `harness.configs` (structured-config schemas stored in Hydra's
ConfigStore; imported before any config is composed), `harness.kinds`,
`harness.scorers` and `harness.backends` (imported after the built-in
modules, by `harness.run.plugins`). A plugin that fails to import, or
registers a name that is taken, is one line naming the entry point.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points
from typing import Any

from harness.core.errors import ConfigError

CONFIGS, KINDS, SCORERS, BACKENDS = "harness.configs", "harness.kinds", "harness.scorers", "harness.backends"
GROUPS = (CONFIGS, KINDS, SCORERS, BACKENDS)


@functools.cache
def _installed() -> Any:
    # one scan of every installed package's metadata (~12 ms here) serves all four groups;
    # Python 3.11 returns SelectableGroups, 3.12+ EntryPoints: both answer .select(group=...)
    return entry_points()


@functools.cache  # a module registers at its first import only; once per process is the contract
def load_group(group: str) -> tuple[str, ...]:
    """Import every entry point of `group`, in name order; returns their names."""
    loaded: list[str] = []
    for ep in sorted(_installed().select(group=group), key=lambda e: e.name):
        try:
            ep.load()
        except Exception as exc:  # any failure of third-party code at import is the user's environment
            dist = f" (package {ep.dist.name})" if ep.dist else ""
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            raise ConfigError(
                f"plugin {ep.name} = {ep.value} in entry-point group {group}{dist} failed to load: "
                f"{type(exc).__name__}: {first}"
            ) from None
        loaded.append(ep.name)
    return tuple(loaded)
