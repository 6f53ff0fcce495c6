"""What MLflow traces cost a cold run: `python benchmarks/bench_traces.py [--tasks classification,summarization]`.

For each task, one cold `runner.evaluate` on the embedded Gemma (fresh cache,
fresh SQLite store, traces on) gives the run's wall time and `timing.genai_s`
(dataset input + prompt version + traces). The traces alone are then timed
again by writing the same run's traces (`log_traces`) three more times into
the same store on fresh runs; the median is reported against the cold wall
time. The target: traces add no more than 5% to a cold run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", default="classification,summarization")
    ap.add_argument("--limit", type=int, default=0, help="task.limit (0: the whole test split)")
    a = ap.parse_args()
    from harness.config.load import compose_run
    from harness.run.runner import evaluate
    from harness.tracking.recorder import Tracker
    from harness.tracking.traces import TraceContext, log_traces

    rows = []
    for task in a.tasks.split(","):
        tmp = Path(tempfile.mkdtemp(prefix="bench-traces-"))
        overrides = [f"task={task}", f"results_dir={tmp / 'results'}", f"cache.path={tmp / 'cache.sqlite'}",
                     f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}", "progress=false"]
        if a.limit:
            overrides.append(f"task.limit={a.limit}")
        cfg = compose_run(overrides)
        result = evaluate(cfg, quiet=True)
        timing = json.loads((Path(result.output_dir) / "timing.json").read_text())
        again = []
        for _ in range(3):
            tracker = Tracker(cfg.tracking)
            tracker.start(f"bench/{task}", {}, {"harness.kind": "bench"})
            assert tracker.run_id and tracker.experiment_id
            ctx = TraceContext(tracker.run_id, tracker.experiment_id, task, cfg.model.name, cfg.model.name,
                               ",".join(cfg.task.scorers), cfg.task.data.path, time.time_ns(), 1_000_000)
            t0 = time.perf_counter()
            log_traces(tracker.client, result.examples, ctx)
            again.append(time.perf_counter() - t0)
            tracker.finish()
        traces_s = statistics.median(again)
        wall = timing["timing.wall_s"]
        rows.append({"task": task, "n": len(result.examples), "cold_wall_s": wall,
                     "genai_s": timing["timing.genai_s"], "traces_s": traces_s, "traces_runs_s": again,
                     "traces_share": traces_s / wall, "genai_share": timing["timing.genai_s"] / wall})
        print(json.dumps(rows[-1]), flush=True)  # as each task ends: a cold run takes minutes
    machine = platform.processor() or platform.machine()
    load = f"load average {os.getloadavg()[0]:.1f}"
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {machine}, {os.cpu_count()} CPUs, {load}")
    print("| task | examples | cold wall s | dataset+prompt+traces s (share) | traces alone s, median of 3 (share) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['task']} | {r['n']} | {r['cold_wall_s']:.2f} | {r['genai_s']:.2f} ({r['genai_share']:.1%}) | "
              f"{r['traces_s']:.2f} ({r['traces_share']:.1%}) |")


if __name__ == "__main__":
    main()
