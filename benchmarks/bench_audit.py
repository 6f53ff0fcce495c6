"""Leakage audit at scale: N_TEST test items against N_TRAIN training items (issue 11, Performance).

    python benchmarks/bench_audit.py                  # 100,000 test vs 1,000,000 train
    python benchmarks/bench_audit.py 10000 100000     # smaller

Synthetic text (a Zipf-distributed 30,000-word vocabulary, 10-30 words per item), with
1% of the test items exact copies (other case and punctuation) and 2% training texts
with a name and an amount inserted, so every method has hits to report. Prints the wall and CPU
time of building every method's index over the training side and of querying the test
items (the audit is single-threaded: on a loaded machine CPU time is the figure to
compare with the 5-minute target), the peak memory and what was flagged.
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

from harness.audit.index import AuditIndex, AuditSettings
from harness.audit.methods import NO_MATCH


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
    t, cpu = time.perf_counter(), time.process_time()
    index = AuditIndex(train_texts, s)
    build, build_cpu = time.perf_counter() - t, time.process_time() - cpu
    t, cpu = time.perf_counter(), time.process_time()
    owners = index.query(test_texts)
    query, query_cpu = time.perf_counter() - t, time.process_time() - cpu
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"  index {n_train:,} train items: {build:.1f}s wall, {build_cpu:.1f}s CPU")
    print(f"  query {n_test:,} test items: {query:.1f}s wall, {query_cpu:.1f}s CPU")
    print(f"  total {build + query:.1f}s wall, {build_cpu + query_cpu:.1f}s CPU (single-threaded); peak RSS "
          f"{peak_gb:.2f} GB; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    flagged = {k: int((v != NO_MATCH).sum()) for k, v in owners.items()}
    flagged["any"] = int(np.any([v != NO_MATCH for v in owners.values()], axis=0).sum())
    print("  flagged: " + ", ".join(f"{k} {v:,}" for k, v in flagged.items()))
    print(f"  machine: {platform.processor() or platform.machine()}, {platform.python_version()}, numpy "
          f"{np.__version__}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
