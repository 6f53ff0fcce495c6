"""API backend concurrency: 1,000 requests at concurrency 32 against local fakes with 100 ms latency.

    .venv/bin/python benchmarks/bench_api_concurrency.py [--n 1000] [--concurrency 32] [--latency 0.1]

Ideal wall time is n * latency / concurrency (3.125 s for the defaults); the
target is within 1.25x of it. The fake servers run in a child process so
their threads do not compete with the client for the GIL. Not a test: it
prints a table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fakes when run as a script

from harness.backends.gemini.client import GeminiBackend
from harness.backends.openai_compat import OpenAICompatBackend
from harness.config.schema import GeminiModelConfig, OpenAIModelConfig
from harness.core.records import Request
from tests.fakes import gemini_server, openai_server
from tests.fakes.gemini_server import Faults


def serve(latency_s: float, urls: Any, stop: Any) -> None:
    """Both fakes, each with `latency_s` added to every call, until `stop` is set."""
    g_state, g_srv = gemini_server.start()
    o_state, o_srv = openai_server.start()
    g_state.set_faults(Faults(latency_s=latency_s))
    o_state.set_faults(Faults(latency_s=latency_s))
    urls.put((g_state.url, o_state.url))
    stop.wait()
    gemini_server.stop(g_srv)
    openai_server.stop(o_srv)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.1)
    args = ap.parse_args()
    os.environ["GEMINI_API_KEY"] = "bench-key"
    os.environ["OPENAI_API_KEY"] = "bench-key"
    reqs = [Request(str(i), f"benchmark prompt {i}") for i in range(args.n)]
    ideal = args.n * args.latency / args.concurrency

    urls: Any = mp.Queue()
    stop = mp.Event()
    server = mp.Process(target=serve, args=(args.latency, urls, stop), daemon=True)
    server.start()
    g_url, o_url = urls.get(timeout=30)
    try:
        backends: dict[str, Any] = {
            "gemini (google-genai aio)": GeminiBackend(
                GeminiModelConfig(
                    name="bench", model_id="gemini-2.5-flash", base_url=g_url, concurrency=args.concurrency
                )
            ),
            "openai (AsyncOpenAI)": OpenAICompatBackend(
                OpenAIModelConfig(name="bench", base_url=o_url, model_id="bench", concurrency=args.concurrency)
            ),
        }
        print(
            f"{args.n} requests, concurrency {args.concurrency}, {args.latency * 1000:.0f} ms latency; "
            f"ideal {ideal:.3f} s"
        )
        print(f"{'backend':28} {'wall s':>8} {'x ideal':>8} {'req/s':>8} {'errors':>7}")
        for name, backend in backends.items():
            backend.generate(reqs[:4])  # warm-up: imports, first connection
            start = time.perf_counter()
            out = backend.generate(reqs)
            wall = time.perf_counter() - start
            errors = sum(1 for r in out if not r.ok)
            print(f"{name:28} {wall:8.3f} {wall / ideal:8.3f} {args.n / wall:8.1f} {errors:7d}")
            backend.close()
    finally:
        stop.set()
        server.join(timeout=10)


if __name__ == "__main__":
    main()
