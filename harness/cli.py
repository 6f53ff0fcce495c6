"""`python -m harness task=... model=...`: parse config, call `runner.evaluate`.

Configuration mistakes are caught before Hydra starts a job (every cell of
a multirun sweep is composed and validated first), so they cost no model
load and print one line with exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from harness.errors import UserError

EXIT_FAILED, EXIT_USAGE = 1, 2

HELP = """usage: python -m harness [-m] [task=NAME] [model=NAME] [key=value ...]

Evaluate a model on a task and record the run in MLflow and results/.

  task=NAME          a config in conf/task/      (default: classification)
  model=NAME         a config in conf/model/     (default: gemma3_270m)
  key=value          any config value, e.g. task.limit=20 task.shots=5
  -m / --multirun    sweep: task=a,b model=x,y runs every cell
  allow_code_execution=true   needed (with the task's flag) to run model-written code

tasks:  {tasks}
models: {models}
Docs: README.md and docs/.  Show the composed config: python -m harness --cfg job
"""


def split_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(Hydra flags, config overrides); overrides of hydra.* are Hydra's own."""
    flags: list[str] = []
    overrides: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg.startswith("-"):
            flags.append(arg)
            if arg in ("--cfg", "-c", "--package", "-p", "--config-name", "-cn", "--config-path", "-cp"):
                flags.append(next(it, ""))
        elif arg.startswith(("hydra.", "hydra/", "+hydra", "~hydra")):
            flags.append(arg)
        else:
            overrides.append(arg)
    return flags, overrides


def expand_sweep(overrides: Sequence[str]) -> list[list[str]]:
    """Every cell of a sweep as its own override list (one list when nothing sweeps)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from harness.config.load import explain

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except Exception as exc:
        raise UserError(explain(exc)) from None
    batches = BasicSweeper.split_arguments(parsed, max_batch_size=None)
    return [list(cell) for batch in batches for cell in batch] or [list(overrides)]


def preflight(argv: Sequence[str], config_name: str = "config") -> int:
    """Compose and validate every cell; returns the number of cells."""
    from harness.config.load import compose_run

    _, overrides = split_args(argv)
    cells = expand_sweep(overrides)
    for cell in cells:
        cfg = compose_run(cell, config_name)
        _check_names(cfg)
    return len(cells)


def _check_names(cfg: object) -> None:
    from harness.backends.base import BACKENDS
    from harness.kinds.base import KINDS
    from harness.plugins import load_plugins
    from harness.runner import resolve_scorers

    load_plugins()
    task, model = cfg.task, cfg.model  # type: ignore[attr-defined]
    KINDS.get(task.kind, "task.kind")
    BACKENDS.get(model.backend, "model.backend")
    resolve_scorers(task.scorers)


def print_help() -> None:
    from harness.paths import group_options

    print(HELP.format(tasks=", ".join(group_options("task")), models=", ".join(group_options("model"))))


def fail(message: str, code: int) -> None:
    print(f"harness: error: {message}", file=sys.stderr)
    sys.exit(code)


def main() -> None:
    argv = sys.argv[1:]
    if any(a in ("-h", "--help") for a in argv):
        print_help()
        return
    try:
        preflight(argv)
    except UserError as exc:
        fail(str(exc), EXIT_USAGE)
    from harness.hydra_app import hydra_main

    hydra_main()
