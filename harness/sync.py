"""`python -m harness.sync`: replay the MLflow writes runs kept on disk while the tracking server was down.

The work is harness/tracking/pending.py; this is the command line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from harness.core.entry import EXIT_OK, run_entry

USAGE = """usage: python -m harness.sync [results_dir=DIR] [tracking.uri=URI]

Replay the MLflow writes that runs kept in DIR/.mlflow-pending/ (default results/.mlflow-pending/)
because their tracking server was down, each to the server it was for (only those for URI when
tracking.uri or $MLFLOW_TRACKING_URI is given; give it when the server's URI carries a password).
Safe to run again: a replayed run's journal is removed, and a cut-off replay resumes without
writing anything twice.
Exit 0: all replayed (or nothing to do); 2: a server does not answer (its journals are kept);
1: the server refused a write (that journal is kept).
"""


def _body(argv: list[str]) -> int:
    from harness.config.load import compose_run
    from harness.tracking.pending import sync

    cfg = compose_run(argv)  # the same results_dir= and tracking.uri= as `python -m harness`
    results = Path(cfg.results_dir)
    done, skipped = sync(results, cfg.tracking.uri or os.environ.get("MLFLOW_TRACKING_URI") or None)
    for r in done:
        missing = f"; not recorded: {', '.join(r.missing)}" if r.missing else ""
        print(f"replayed run {r.run_id} to {r.uri}: {r.n_writes} writes, status {r.status}{missing}")
    for s in skipped:
        print(f"skipped {s.folder}: {s.reason}")
    if not done and not skipped:
        print(f"nothing to replay in {results}")
    return EXIT_OK


def main() -> None:
    sys.exit(run_entry("harness.sync", USAGE, _body))


if __name__ == "__main__":
    main()
