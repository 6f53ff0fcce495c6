"""Seeded bootstrap resampling of examples in bounded memory.

The bootstrap of a mean over n examples with R resamples is defined by one
index matrix, `numpy.random.default_rng(seed).integers(0, n, size=(R, n))`.
Built at once it costs R x n x 8 bytes, twice over once the values are
gathered: about 32 GB for 2,000 resamples of a million examples. numpy's
generator yields the same stream however the draw is split into rows, so
drawing a few rows at a time gives exactly the numbers of the one-shot
matrix while holding at most `max_cells` indices (or one row) at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

MAX_CELLS = 1 << 20  # indices held at once: 8 MB, plus 8 MB for the values they gather


def index_chunks(n: int, resamples: int, seed: int, max_cells: int = MAX_CELLS) -> Iterator[NDArray[np.int64]]:
    """The rows of the (resamples x n) bootstrap index matrix, a few rows at a time, in order."""
    rng = np.random.default_rng(seed)
    rows = max(1, max_cells // max(n, 1))
    for start in range(0, resamples, rows):
        yield rng.integers(0, n, size=(min(rows, resamples - start), n))


def bootstrap_means(
    values: NDArray[np.float64], resamples: int, seed: int, max_cells: int = MAX_CELLS
) -> NDArray[np.float64]:
    """Mean of `values` over each resample of its indices (one entry per resample)."""
    parts = [values[idx].mean(axis=1) for idx in index_chunks(values.size, resamples, seed, max_cells)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)
