"""A Hydra multirun as one MLflow parent run with a child run per cell.

`python -m harness -m ...` opens the parent before Hydra starts the cells
and hands its id to every cell as `tracking.parent_run_id` (an override, so
launchers that run cells in other processes, joblib or Ray, pass it on like
any config value); each cell's run carries `mlflow.parentRunId`, which MLflow's
UI draws as a parent with children. When Hydra returns, the parent is marked
FINISHED if every one of its cells finished, else FAILED with the count in
`harness.failure`; a killed sweep leaves it RUNNING, as a killed cell does.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from harness.tracking.journal import PENDING_DIR
from harness.tracking.recorder import Tracker
from harness.tracking.writes import SweepEnd

KIND = "sweep"


def is_multirun(argv: Sequence[str]) -> bool:
    return any(a in ("-m", "--multirun") for a in argv)


@contextlib.contextmanager
def sweep_parent(argv: Sequence[str], n_cells: int) -> Iterator[str | None]:
    """Around Hydra's multirun: the parent run's id (None when not a multirun or not tracked)."""
    from harness.config.load import compose_run
    from harness.config.overrides import expand_sweep, split_args

    _, overrides = split_args(argv)
    if not is_multirun(argv) or any(o.startswith("tracking.parent_run_id=") for o in overrides):
        yield None
        return
    first = compose_run(expand_sweep(overrides)[0])
    if not first.tracking.enabled:
        yield None
        return
    tracker = Tracker(first.tracking, Path(first.results_dir) / PENDING_DIR)  # a lost server: journal its end
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    parent = tracker.start(
        f"sweep {stamp} ({n_cells} cells)",
        {"sweep.overrides": " ".join(overrides), "sweep.cells": str(n_cells)},
        {"harness.kind": KIND, "harness.sweep_cells": str(n_cells)},
    )
    saved = sys.argv
    sys.argv = [*saved, f"tracking.parent_run_id={parent}"]  # Hydra reads its overrides from sys.argv
    try:
        yield parent
    except BaseException as exc:
        close(tracker, n_cells, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        sys.argv = saved
    close(tracker, n_cells, None)


def close(tracker: Tracker, n_cells: int, error: str | None) -> None:
    """FINISHED when all n_cells children finished; FAILED (with the reason) otherwise.

    One write (`SweepEnd`): with the tracking server lost, it waits in the parent's journal and
    counts the children when `python -m harness.sync` replays it, after their own journals.
    """
    assert tracker.run_id and tracker.experiment_id
    tracker.write(SweepEnd(tracker.experiment_id, n_cells, error))
