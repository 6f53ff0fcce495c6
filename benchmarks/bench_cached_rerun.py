"""Cached re-run of a finished cell vs a bare interpreter that imports MLflow and opens the same store.

    .venv/bin/python benchmarks/bench_cached_rerun.py [--reps 5] [--limit 20] [--keep DIR] [key=value ...]

In a fresh folder (its own results/, response cache and SQLite MLflow store) it runs
`python -m harness task.limit=N` once to fill the cache (this one loads Gemma), then
alternates, `--reps` times each:

  bare     python -c "import mlflow; MlflowClient('sqlite:///.../mlflow.db').search_experiments()"
  bare+gc  the same, with the garbage-collector settings every harness entry point uses
           (harness/core/entry.py: a larger first generation)
  cached   python -m harness task.limit=N      (every response cached: no model load)

and prints wall times (min / median / max) and the ratio of the medians; the target is at
most 1.5x of `bare`. `bare+gc` is there for an honest reading: part of the harness's lead comes
from GC settings any script could take, and cached / bare+gc shows what is left without them.
Overrides after the options go to both runs of the cell (e.g. tracking.traces=false).
Alternating the commands keeps a busy machine's drift out of the ratio. Not a test: it prints a
table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.core.entry import GC_GEN0

PY = sys.executable


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder (kept) instead of a temporary one")
    ap.add_argument("overrides", nargs="*", help="extra key=value overrides of the cell")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_cached_"))
    work.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{work / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    cell = [PY, "-m", "harness", f"task.limit={args.limit}", *args.overrides]
    open_store = f"import mlflow; mlflow.MlflowClient({uri!r}).search_experiments()"
    bare = [PY, "-c", open_store]
    lean = f"import gc; gc.set_threshold({GC_GEN0}, *gc.get_threshold()[1:]); {open_store}"
    bare_gc = [PY, "-c", lean]

    first = timed(cell, work, env)  # fills the response cache (loads the model)
    print(f"first run (fills the cache): {first:.1f} s  [{work}]")
    times: dict[str, list[float]] = {"bare": [], "bare+gc": [], "cached": []}
    for _ in range(args.reps):
        times["bare"].append(timed(bare, work, env))
        times["bare+gc"].append(timed(bare_gc, work, env))
        times["cached"].append(timed(cell, work, env))

    print(f"\n{platform.node()}  {os.cpu_count()} CPUs  Python {platform.python_version()}  "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  reps={args.reps}  load {os.getloadavg()[0]:.1f}  "
          f"{' '.join(cell[2:])}\n")
    print("| command | min s | median s | max s |")
    print("|---|---|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {min(ts):.2f} | {statistics.median(ts):.2f} | {max(ts):.2f} |")
    cached = statistics.median(times["cached"])
    print(f"\ncached / bare (medians): {cached / statistics.median(times['bare']):.2f}x (target <= 1.5x)")
    print(f"cached / bare+gc (medians): {cached / statistics.median(times['bare+gc']):.2f}x (same GC settings)")


if __name__ == "__main__":
    main()
