"""Command-line overrides: Hydra's flags apart from config values, and sweeps cell by cell.

Every entry point validates each cell of a `-m` sweep before Hydra starts a
job, so a mistake in the fifth cell costs no model load in the first.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.core.errors import UserError

_FLAGS_WITH_VALUE = ("--cfg", "-c", "--package", "-p", "--config-name", "-cn", "--config-path", "-cp")


def split_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(Hydra flags, config overrides); overrides of hydra.* are Hydra's own."""
    flags: list[str] = []
    overrides: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg.startswith("-"):
            flags.append(arg)
            if arg in _FLAGS_WITH_VALUE:
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
