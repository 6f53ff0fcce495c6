"""How every entry point starts: `--help`, one-line errors, the same exit codes.

`python -m harness`, `harness.compare`, `harness.gate`, `harness.tune`,
`harness.tune.gemini` and `harness.demo` all call `run_entry` with their own
body: help is printed without importing anything heavy, a user mistake
(`UserError`) is one line `<prog>: error: ...` with exit code 2, a failed run
(`RunFailed`) one line with exit code 1, and nothing prints a traceback for
either.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from harness.core.errors import RunFailed, UserError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def fail(prog: str, message: str, code: int) -> NoReturn:
    """Print `<prog>: error: <message>` on stderr and exit with `code`."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    sys.exit(code)


def wants_help(argv: Sequence[str]) -> bool:
    return any(a in ("-h", "--help") for a in argv)


def _print_help(text: str) -> None:
    # `--help | head` closes the pipe early: that is the reader's choice, not an error
    try:
        print(text.rstrip(), flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run_entry(prog: str, help_text: str, body: Callable[[list[str]], int], argv: Sequence[str] | None = None) -> int:
    """`--help` prints `help_text`; otherwise the body's exit code, user mistakes as one line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if wants_help(args):
        _print_help(help_text)
        return EXIT_OK
    # MLflow draws a progress bar for every artifact it reads back (a run's predictions, a
    # dataset): dozens of one-line bars between our own output; a user may still set it to true
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        return body(args)
    except UserError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RunFailed as exc:
        print(f"{prog}: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
