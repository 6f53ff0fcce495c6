"""`python -m harness task=... model=...`: parse config, call `runner.evaluate`.

Configuration mistakes are caught before Hydra starts a job (every cell of
a multirun sweep is composed and validated first), so they cost no model
load and print one line with exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from harness.core.entry import run_entry

HELP = """usage: python -m harness [-m] [task=NAME] [model=NAME] [key=value ...]

Evaluate a model on a task and record the run in MLflow and results/.

  task=NAME          a config in conf/task/      (default: classification)
  model=NAME         a config in conf/model/     (default: gemma3_270m)
                     your own task/ and model/ YAMLs: HARNESS_CONFIG_PATH=<folder>[:<folder>...]
  key=value          any config value, e.g. task.limit=20 task.shots=5
  -m / --multirun    sweep: task=a,b model=x,y runs every cell
  allow_code_execution=true   needed (with the task's flag) to run model-written code

tasks:  {tasks}
models: {models}
Docs: README.md and docs/.  Show the composed config: python -m harness --cfg job
"""


def preflight(argv: Sequence[str], config_name: str = "config") -> int:
    """Compose and validate every cell; returns the number of cells."""
    from harness.config.load import compose_run
    from harness.config.overrides import expand_sweep, split_args

    flags, overrides = split_args(argv)
    search = [f for f in flags if f.startswith("hydra.searchpath=")]  # the user's folders, given on the line
    cells = expand_sweep(overrides)
    for cell in cells:
        cfg = compose_run([*cell, *search], config_name)
        _check_names(cfg)
    return len(cells)


def _check_names(cfg: object) -> None:
    from harness.backends.base import BACKENDS
    from harness.kinds.base import KINDS
    from harness.run.plugins import load_plugins
    from harness.run.runner import resolve_scorers

    load_plugins()
    task, model = cfg.task, cfg.model  # type: ignore[attr-defined]
    KINDS.get(task.kind, "task.kind")
    plugin = BACKENDS.get(model.backend, "model.backend")
    resolve_scorers(task.scorers)
    from harness.audit.api import preflight as audit_preflight

    audit_preflight(cfg.audit, model)  # type: ignore[attr-defined]
    if plugin.check_credentials:  # before Hydra starts a job, a sweep opens its parent run, or a request is sent
        plugin.check_credentials(model)


def help_text() -> str:
    from harness.core.paths import group_options

    return HELP.format(tasks=", ".join(group_options("task")), models=", ".join(group_options("model")))


def _body(argv: list[str]) -> int:
    n_cells = preflight(argv)
    from harness.config.load import user_search_path
    from harness.run.hydra_app import hydra_main
    from harness.run.sweep import sweep_parent

    # a multirun: one MLflow parent run, the cells its children; $HARNESS_CONFIG_PATH on Hydra's search path
    with sweep_parent(argv, n_cells), user_search_path(argv):
        hydra_main()
    return 0


def main() -> None:
    """Console script `harness` and `python -m harness`."""
    sys.exit(run_entry("harness", help_text(), _body))
