"""Named pause points that let a reliability test kill the harness at an exact place.

`pause("cache.write")` does nothing unless the environment variable
HARNESS_TEST_PAUSE_AT names that stage, as `<stage>` (its first pass) or
`<stage>:<n>` (its n-th pass). Then the process prints
`harness: paused at <stage>:<n>` to stderr and sleeps until killed, so a test
can SIGKILL it *inside* a cache transaction or *between* two MLflow calls
rather than at a random instant. Points in the code:

    cache.write        inside a cache transaction, rows written, not committed
    generation.chunk   after a chunk of answers was committed to the cache
    tracking.start     MLflow run created, params not yet logged
    tracking.log       metrics logged, artifacts not yet (an artifact's turn)
    tracking.finish    everything logged, run not yet marked FINISHED
    report.write       a results file written to its temp name, not yet renamed

Used only by tests/reliability/; unset, a pass costs one dict lookup.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter

ENV = "HARNESS_TEST_PAUSE_AT"
# per-process pass counts: the n in `<stage>:<n>` counts passes of this process only
_passes: Counter[str] = Counter()


def pause(stage: str) -> None:
    """Sleep forever here if HARNESS_TEST_PAUSE_AT asks for this pass of `stage`."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != stage:
        return
    _passes[stage] += 1
    if _passes[stage] != int(nth or 1):
        return
    sys.stderr.write(f"harness: paused at {stage}:{_passes[stage]}\n")
    sys.stderr.flush()
    while True:  # until the test's SIGKILL
        time.sleep(60)
