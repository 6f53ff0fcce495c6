"""W3: the harness end to end (`runner.evaluate`): cold run, then a fully cached re-run.

`w3.py --out FILE [--quick]` runs the classification and summarization tasks
on the embedded Gemma with a fresh cache and a temporary MLflow store, then
runs both again on the warm cache, and writes each run's timing.json split.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    from harness.config.load import compose_run
    from harness.run.runner import evaluate

    tmp = Path(tempfile.mkdtemp(prefix="bench-w3-"))
    base = [f"results_dir={tmp / 'results'}", f"cache.path={tmp / 'cache.sqlite'}",
            f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}", "progress=false", f"model.batch_size={a.batch}"]
    if a.quick:
        base.append("task.limit=8")
    runs = []
    for attempt in ("cold", "cached"):
        for task in ("classification", "summarization"):
            t0 = time.perf_counter()
            result = evaluate(compose_run([*base, f"task={task}"]), quiet=True)
            wall = time.perf_counter() - t0
            timing = json.loads((Path(result.output_dir) / "timing.json").read_text())
            runs.append({"task": task, "attempt": attempt, "n": len(result.examples), "wall_s": wall,
                         "timing": timing, "metrics": result.flat_metrics()})
    out = {"runs": runs, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    Path(a.out).write_text(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
