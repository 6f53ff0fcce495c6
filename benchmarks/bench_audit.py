"""Leakage audit at scale: N_TEST test items against N_TRAIN training items (issue 11, Performance).

    python benchmarks/bench_audit.py                  # 100,000 test vs 1,000,000 train
    python benchmarks/bench_audit.py 10000 100000     # smaller

Synthetic text (a Zipf-distributed 30,000-word vocabulary, 10-30 words per item), with
1% of the test items exact copies (other case and punctuation) and 1% templated
variants of training items, so every method has hits to report. Prints the wall time
of each method (index build + queries), the total, the peak memory and what was flagged.
Figures for this machine: docs/benchmarks.md ("Leakage audit").
"""

from __future__ import annotations

import itertools
import os
import platform
import random
import resource
import sys
import time

import numpy as np

from harness.audit.audit import AuditResult, AuditSettings, TrainItem, run_audit
from harness.audit.index import AuditIndex


def corpus(n: int, rng: random.Random, vocab: list[str], cum: list[float]) -> list[str]:
    out = []
    for _ in range(n):
        k = rng.randrange(10, 31)
        ws = rng.choices(vocab, cum_weights=cum, k=k)
        ws[0] = ws[0].capitalize()
        out.append(" ".join(ws) + ".")
    return out


def main(n_test: int = 100_000, n_train: int = 1_000_000) -> None:
    rng = random.Random(0)
    vocab = [f"w{i:05d}x" for i in range(30_000)]
    cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(vocab))))  # Zipf
    t0 = time.perf_counter()
    train_texts = corpus(n_train, rng, vocab, cum)
    test_texts = corpus(n_test, rng, vocab, cum)
    for i in range(0, n_test, 100):  # 1%: copies with other case/punctuation; 1%: one slot refilled
        src = train_texts[rng.randrange(n_train)]
        test_texts[i] = src.upper().replace(".", " !")
        frame = train_texts[rng.randrange(n_train)].split()
        test_texts[i + 1] = " ".join([*frame[:3], "Anna", "Berg", "paid", f"${rng.randrange(99)}", *frame[3:]])
        test_texts[i + 2] = " ".join([*frame[:3], "Tom", "paid", f"${rng.randrange(99)}", *frame[3:]])
    print(f"generated {n_test:,} test and {n_train:,} train items in {time.perf_counter() - t0:.1f}s")

    s = AuditSettings()
    t = time.perf_counter()
    index = AuditIndex(train_texts, s)
    build = time.perf_counter() - t
    t = time.perf_counter()
    index.query(test_texts)
    print(f"  index {n_train:,} train items: {build:.1f}s; query {n_test:,} test items: {time.perf_counter() - t:.1f}s")
    del index

    t, cpu = time.perf_counter(), time.process_time()
    items = run_audit([(str(i), x) for i, x in enumerate(test_texts)],
                      [TrainItem("train", str(i), x) for i, x in enumerate(train_texts)], s)
    total, cpu = time.perf_counter() - t, time.process_time() - cpu
    summary = AuditResult(tuple(items)).summary()
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    load = os.getloadavg()[0]
    print(f"run_audit (all four methods, as a run calls it): {total:.1f}s wall, {cpu:.1f}s CPU; "
          f"peak RSS {peak_gb:.2f} GB; load average {load:.1f} on {os.cpu_count()} cores")
    print("  " + ", ".join(f"{k} {int(v)}" for k, v in summary.items() if k.endswith(".count")))
    print(f"  machine: {platform.processor() or platform.machine()}, {platform.python_version()}, numpy "
          f"{np.__version__}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
