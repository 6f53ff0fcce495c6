"""How every entry point starts: `--help`, one-line errors, the same exit codes.

`python -m harness`, `harness.compare`, `harness.gate`, `harness.tune`,
`harness.tune.gemini` and `harness.demo` all call `run_entry` with their own
body: help is printed without importing anything heavy, a user mistake
(`UserError`) is one line `<prog>: error: ...` with exit code 2, a failed run
(`RunFailed`) one line with exit code 1, and nothing prints a traceback for
either.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from harness.core.errors import RunFailed, UserError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# CPython's cyclic GC, tuned for small scripts, costs a command here about half a second:
# importing MLflow, SQLAlchemy, pydantic and Hydra creates ~1M objects, and with the default first
# generation (700 allocations) the collector runs thousands of times while they are built, its
# older generations rescanning the growing heap (measured in docs/benchmarks.md). A larger first
# generation collects less often; reference counting still frees everything not in a cycle, so
# memory barely moves (peak RSS of a cached re-run: 256 MB either way). Freezing the heap at exit
# would save another ~0.6 s of teardown but skips the flush of any file a library left open: not taken.
GC_GEN0 = 10_000


def _lean_gc() -> tuple[int, int, int]:
    saved = gc.get_threshold()
    gc.set_threshold(max(GC_GEN0, saved[0]), saved[1], saved[2])
    return saved


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
    saved_gc = _lean_gc()
    try:
        return body(args)
    except UserError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RunFailed as exc:
        print(f"{prog}: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        gc.set_threshold(*saved_gc)  # a caller in the same process (a test) gets its own setting back
