"""Pairwise judging: 1,000 items (2,000 judge requests) through the Gemini backend, 100 ms latency, concurrency 32.

    .venv/bin/python benchmarks/bench_judge_pairwise.py [--n 1000] [--concurrency 32] [--latency 0.1]

The judge is opened by name like any judge (`harness.judge.model.open_judge`:
the harness's response cache, retry loop and concurrency) with its base URL
pointed at the local fake Gemini server, which answers by rule (the response
that says "good"). Ideal wall time is 2n * latency / concurrency (6.25 s for
the defaults); the target is within 1.25x of it. The cache is a fresh file, so
the timed pass is cold; a second, cached pass is timed too. The fake runs in a
child process so its threads do not compete with the client for the GIL. Not
a test: it prints a table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fakes when run as a script

from harness.config.schema import CacheConfig
from harness.judge import pairwise as pw
from tests.fakes import gemini_server
from tests.fakes.gemini_server import FakeGemini, Faults

_SLOTS = re.compile(r"\[Response A\]\n(.*?)\n\n\[Response B\]\n(.*?)\n\n", re.S)


@dataclass
class RuleGemini(FakeGemini):
    """Answers a pairwise judge prompt with the slot whose response says 'good'."""

    def reply_text(self, prompt: str) -> str:
        m = _SLOTS.search(prompt)
        if not m:
            return "tie"
        a, b = ("good" in m.group(1)), ("good" in m.group(2))
        return "tie" if a == b else "A" if a else "B"


def serve(latency_s: float, urls: Any, stop: Any) -> None:
    state, srv = gemini_server.start(RuleGemini())
    state.set_faults(Faults(latency_s=latency_s))
    urls.put(state.url)
    stop.wait()
    gemini_server.stop(srv)


def items(n: int) -> list[pw.PairItem]:
    """The candidate's output is the good one on two items of three."""
    out = []
    for i in range(n):
        good, bad = f"a good answer to question {i}", f"a poor answer to question {i}"
        base, cand = (bad, good) if i % 3 else (good, bad)
        out.append(pw.PairItem(f"q{i:05d}", f"question {i}: explain item {i}", base, cand))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="items (two judge requests each)")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--chunk-size", type=int, default=64, help="requests per generate_all chunk (the judge's default)")
    args = ap.parse_args()
    os.environ["GEMINI_API_KEY"] = "bench-key"
    from harness.judge.model import open_judge

    ideal = 2 * args.n * args.latency / args.concurrency
    urls: Any = mp.Queue()
    stop = mp.Event()
    server = mp.Process(target=serve, args=(args.latency, urls, stop), daemon=True)
    server.start()
    url = urls.get(timeout=30)
    its = items(args.n)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            overrides = [f"model.base_url={url}", f"model.concurrency={args.concurrency}"]
            judge = open_judge("gemini_flash", overrides, cache=CacheConfig(path=str(Path(tmp) / "cache.sqlite")),
                               chunk_size=args.chunk_size)
            pw.judge_pairs(judge, items(2))  # warm-up: imports, first connection (its 4 prompts are not reused)
            print(f"{args.n} items, {2 * args.n} judge requests, concurrency {args.concurrency}, "
                  f"{args.latency * 1000:.0f} ms latency; ideal {ideal:.3f} s")
            print(f"{'pass':10} {'wall s':>8} {'x ideal':>8} {'req/s':>8} {'win rate':>9} {'consistency':>12}")
            for name in ("cold", "cached"):
                start = time.perf_counter()
                res = pw.judge_pairs(judge, its)
                wall = time.perf_counter() - start
                print(f"{name:10} {wall:8.3f} {wall / ideal:8.3f} {2 * args.n / wall:8.1f} {res.win_rate:9.3f} "
                      f"{res.quality.position_consistency.value:12.3f}")
            judge.close()
    finally:
        stop.set()
        server.join(timeout=10)


if __name__ == "__main__":
    main()
