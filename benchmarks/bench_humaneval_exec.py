"""HumanEval-X canonical solutions: this harness's sandbox vs the upstream CodeGeeX evaluator's approach.

    nice -n 19 .venv/bin/python benchmarks/bench_humaneval_exec.py \
        [--languages python,cpp,js,go,java] [--workers 2] [--limit N]

For each language, the same assembled programs (import helper + prompt +
canonical_solution + test, built by harness.code exactly as
tests/code/test_humaneval_x_canonical.py builds them) are executed twice, with
the same number of parallel workers, and the wall time of each is measured:

  harness   sandbox.run_programs: per-program uid, namespaces, tmpfs work dir,
            rlimits; C++ with a precompiled header, Go with a warm build cache
            copied into each program, Java with fast-start JVM flags.
  upstream  what codegeex/benchmark/execution.py does, as a plain baseline: a
            fresh temp dir per problem and ThreadPoolExecutor(max_workers=W);
            python3 main.py | g++ -std=c++11 test.cpp (+ -lcrypto -lssl when the
            program uses OpenSSL, upstream's rule for problem 162) && ./a.out |
            javac Main.java && java -cp . Main | node test.js (pass: exit 0 and
            empty stderr) | go test main_test.go (GOPATH=/usr/share/gocode,
            GO111MODULE=off, the user's default GOCACHE shared by all problems).

The baseline has no sandbox, and it leaves out upstream's per-problem
multiprocessing.Manager + Process wrapper (and runs Python as a script, not
exec() in a forked child): both only make the baseline faster than upstream.
Before each clock starts, problem 0 runs once untimed through both paths (OS
caches; it also fills the default Go cache, as the harness's warm cache is
built before its clock starts, as in the canonical test). The baseline gets
the sandbox's minimal env (PATH, HOME, LANG), so both run the same binaries.
Timeout 20 s per command on both sides; the harness also has the canonical
test's 2048 MB limit. Prints a Markdown table and writes
benchmarks/results/humaneval-exec-<timestamp>.json. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.code.* when run as a script

from harness.code import languages, sandbox
from harness.code.assemble import CPP_PCH_INCLUDES, PCH_HEADER
from harness.scorers.code import candidate_source
from tests.code.test_humaneval_x_canonical import HEX, KNOWN_FAILURES, _available, load

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S, MEMORY_MB = 20.0, 2048  # the canonical test's limits
ALL = ("python", "cpp", "js", "go", "java")
# file, build commands, run command: upstream's, per language
UPSTREAM: dict[str, tuple[str, tuple[tuple[str, ...], ...], tuple[str, ...]]] = {
    "python": ("main.py", (), ("python3", "main.py")),
    "cpp": ("test.cpp", (("g++", "-std=c++11", "test.cpp"),), ("./a.out",)),
    "java": ("Main.java", (("javac", "Main.java"),), ("java", "-cp", ".", "Main")),
    "js": ("test.js", (), ("node", "test.js")),
    "go": ("main_test.go", (), ("go", "test", f"-timeout={TIMEOUT_S:.0f}s", "main_test.go")),
}
# No GOCACHE: upstream uses the user's default build cache, shared (and warm after the first problem).
GO_ENV = {"GOPATH": languages.GOPATH, "GO111MODULE": "off"}


def upstream_one(language: str, src: str) -> tuple[bool, str]:
    """One problem the upstream way: fresh temp dir, build, run, no sandbox."""
    name, build, run = UPSTREAM[language]
    if language == "cpp" and "openssl" in src:
        build = ((*build[0], "-lcrypto", "-lssl"),)
    # The sandbox's small env, so no variable slows one side only: its PATH runs the same binaries
    # (python3 on the login PATH is a pyenv shim) and e.g. NODE_EXTRA_CA_CERTS adds 30 ms to each node start.
    # HOME is the user's, so Go finds its default cache (~/.cache/go-build).
    env = {"PATH": sandbox.SANDBOX_PATH, "HOME": os.path.expanduser("~"), "LANG": "C.UTF-8"}
    env.update(GO_ENV if language == "go" else {})
    with tempfile.TemporaryDirectory(prefix="upstream-hex-") as d:
        Path(d, name).write_text(src, encoding="utf-8")
        if language == "cpp":  # the source includes the harness's helper header: here plain text, parsed every compile
            Path(d, PCH_HEADER).write_text(CPP_PCH_INCLUDES, encoding="utf-8")
        for i, argv in enumerate((*build, run)):
            phase = "build" if i < len(build) else "run"
            try:
                res = subprocess.run(argv, cwd=d, env=env, capture_output=True, timeout=TIMEOUT_S, check=False)
            except subprocess.TimeoutExpired:
                return False, f"{phase}: timeout"
            if res.returncode != 0:
                return False, f"{phase}: exit code {res.returncode}"
        if language == "js" and res.stderr:  # console.assert prints but does not throw
            return False, "stderr not empty"
    return True, "passed"


def bench(language: str, workers: int, limit: int | None) -> dict[str, Any]:
    samples = load(language)[:limit]
    ids = [s.id for s in samples]
    # The canonical test's own assembly: candidate_source(..., "completion") on the canonical solution.
    sources = [candidate_source(dict(s.fields), s.target, language, "completion") for s in samples]
    lang = languages.get_language(language)
    limits = languages.limits_for(lang, TIMEOUT_S, MEMORY_MB)

    t0 = time.monotonic()
    programs = [languages.program(lang, src) for src in sources]  # builds the warm cache once per machine
    prep_s = time.monotonic() - t0
    t0 = time.monotonic()
    sandbox.run_program(programs[0], limits)
    warm_h = time.monotonic() - t0
    t0 = time.monotonic()
    h_outs = sandbox.run_programs(programs, limits, workers=workers)
    h_wall = time.monotonic() - t0

    t0 = time.monotonic()
    upstream_one(language, sources[0])
    warm_u = time.monotonic() - t0
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        u_outs = list(pool.map(lambda src: upstream_one(language, src), sources))
    u_wall = time.monotonic() - t0

    failed = {
        tid: {"harness": h.reason, "upstream": u[1], "known": tid in KNOWN_FAILURES}
        for tid, h, u in zip(ids, h_outs, u_outs, strict=True)
        if not (h.passed and u[0])
    }
    return {
        "language": language,
        "problems": len(ids),
        "harness_wall_s": round(h_wall, 2),
        "upstream_wall_s": round(u_wall, 2),
        "ratio": round(h_wall / u_wall, 2),
        "harness_passed": sum(o.passed for o in h_outs),
        "upstream_passed": sum(ok for ok, _ in u_outs),
        "disagree": sorted(t for t, h, u in zip(ids, h_outs, u_outs, strict=True) if h.passed != u[0]),
        "failed": failed,
        "untimed_s": {"harness_prep": round(prep_s, 2), "harness_warmup": round(warm_h, 2),
                      "upstream_warmup": round(warm_u, 2)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--languages", default=",".join(ALL), help="comma-separated subset of " + ",".join(ALL))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="only the first N problems (quick checks)")
    args = ap.parse_args()
    wanted = [x.strip() for x in args.languages.split(",") if x.strip()]
    unknown = [x for x in wanted if x not in ALL]
    if unknown:
        ap.error(f"unknown language(s) {unknown}; known: {', '.join(ALL)}")
    if (args.limit is not None and args.limit < 1) or args.workers < 1:
        ap.error("--limit and --workers must be at least 1")
    if not HEX.is_dir():
        sys.exit(f"HumanEval-X data not found at {HEX} (set HARNESS_SHARED_DATA)")

    stamp = time.strftime("%Y%m%d-%H%M%S")
    load_before = os.getloadavg()
    rows = []
    for language in wanted:
        if not _available(language):
            print(f"skipping {language}: toolchain missing (scripts/install-toolchains.sh {language})", file=sys.stderr)
            continue
        print(f"{language} ...", file=sys.stderr, flush=True)
        rows.append(bench(language, args.workers, args.limit))

    print(f"\nHumanEval-X canonical solutions, workers={args.workers}, sandbox isolation={sandbox.isolation()}, "
          f"load average {load_before[0]:.2f} -> {os.getloadavg()[0]:.2f}\n")
    print("| language | problems | harness wall s | upstream-approach wall s | ratio | harness passes | "
          "upstream passes |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['language']} | {r['problems']} | {r['harness_wall_s']:.2f} | {r['upstream_wall_s']:.2f} | "
              f"{r['ratio']:.2f} | {r['harness_passed']} | {r['upstream_passed']} |")
    print("\nratio = harness / upstream-approach. The baseline runs unsandboxed (as root here) and without "
          "upstream's per-problem multiprocessing wrapper: both only make it faster. Go baseline: the user's "
          "default GOCACHE, shared by all problems and warm after the untimed first run.")
    for r in rows:
        untimed = ", ".join(f"{k} {v:.1f}s" for k, v in r["untimed_s"].items())
        print(f"- {r['language']}: untimed {untimed}")
        for tid, f in r["failed"].items():
            print(f"  - {tid}{' (known)' if f['known'] else ''}: harness {f['harness']!r}, upstream {f['upstream']!r}")
        if r["disagree"]:
            print(f"  - DISAGREE: {', '.join(r['disagree'])}")

    out = ROOT / "benchmarks" / "results" / f"humaneval-exec-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"timestamp": stamp, "workers": args.workers, "limit": args.limit, "timeout_s": TIMEOUT_S,
            "memory_mb": MEMORY_MB, "isolation": list(sandbox.isolation()), "cpus": os.cpu_count(),
            "platform": platform.platform(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    out.write_text(json.dumps({**meta, "results": rows}, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
