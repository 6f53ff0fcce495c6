"""Command line of the comparison: compose the config, call `run_compare`, print one line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from harness.errors import UserError

EXIT_OK, EXIT_USAGE = 0, 2


def main(argv: Sequence[str]) -> int:
    """Exit code 0 with the verdict on stdout; 2 with one line on stderr for a user mistake."""
    from harness.compare.api import run_compare
    from harness.compare.config import load_config

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        cfg = load_config(list(argv))
        outcome = run_compare(cfg)
    except UserError as exc:
        print(f"harness.compare: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(outcome.comparison.headline())
    print(f"reports: {outcome.markdown} {outcome.html}", file=sys.stderr)
    return EXIT_OK
