"""Benchmark suite: `python benchmarks/run.py [--quick] [--skip lmeval,inspect]`.

Side by side on one machine, each measurement in its own process:
  pair     the floor (plain transformers) and this harness's HF backend at
           batch 8, alternating in one process so shared-machine load hits
           both alike (W1, W1b, W2)
  auto     this harness with model.batch_size=0 (its own choices)
  ref      this harness at batch 1: the greedy reference outputs
  lmeval   lm-evaluation-harness 0.4 HFLM at batch 8 (own venv)
  inspect  inspect-ai's hf provider at batch 8 (own venv; W1/W1b only)
  W3       runner.evaluate end to end, cold then fully cached
  cli      `python -m harness --help` wall time
lm-eval and inspect-ai are installed into benchmarks/.venvs/<tool>/ on first
use; those venvs see the main venv's torch and transformers through a .pth
file, so every tool runs the same kernels. Everything runs with
HF_HUB_OFFLINE=1. Results: benchmarks/results/<timestamp>.json and a
Markdown table on stdout (copied into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import site
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENVS = HERE / ".venvs"
PACKAGES = {"lmeval": "lm-eval[hf]==0.4.13", "inspect": "inspect-ai==0.3.285"}
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
       "TOKENIZERS_PARALLELISM": "false", "INSPECT_LOG_DIR": "/tmp/inspect-logs"}


def tool_python(tool: str) -> str:
    """The tool's own venv, created and installed on first use (shares torch via a .pth file)."""
    venv = VENVS / tool
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        shared = site.getsitepackages()[0]
        (venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
         / "_harness_shared.pth").write_text(shared + "\n")
        subprocess.run([str(python), "-m", "pip", "install", "-q", PACKAGES[tool]], check=True)
    return str(python)


def worker(python: str, args: list[str], out: Path, log: Path) -> dict[str, Any] | None:
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.run([python, str(HERE / args[0]), *args[1:], "--out", str(out)], env=ENV, cwd=ROOT,
                              stdout=fh, stderr=subprocess.STDOUT, check=False)
    print(f"  {' '.join(args)}: rc={proc.returncode} {time.perf_counter() - t0:.0f} s", flush=True)
    if proc.returncode != 0 or not out.exists():
        return {"error": log.read_text()[-1500:]}
    return dict(json.loads(out.read_text()))


def cli_help_s(repeats: int = 3) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "harness", "--help"], cwd=ROOT, env=ENV, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return times


def versions(python: str, packages: list[str]) -> dict[str, str]:
    code = "import importlib.metadata as m,json,sys;print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    proc = subprocess.run([python, "-c", code, *packages], capture_output=True, text=True, check=False)
    return dict(json.loads(proc.stdout)) if proc.returncode == 0 else {"error": proc.stderr[-300:]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="8 prompts x 8 new tokens, 32 choice items, task.limit=8")
    ap.add_argument("--skip", default="", help="comma-separated: pair,auto,ref,lmeval,inspect,w3,cli")
    ap.add_argument("--table", type=Path, help="only print the tables of an earlier report.json")
    ap.add_argument("--reuse", type=Path, action="append", default=[],
                    help="report.json of an earlier run: skipped parts are taken from it (repeatable; later wins)")
    a = ap.parse_args()
    if a.table:
        print(table(json.loads(a.table.read_text())))
        return
    skip = set(filter(None, a.skip.split(",")))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = HERE / "results" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    q = ["--quick"] if a.quick else []
    py = sys.executable
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"), "quick": a.quick, "machine": platform.machine(),
        "cpu_count": os.cpu_count(), "cpu_model": _cpu_model(), "python": platform.python_version(),
        "loadavg_start": os.getloadavg(),
        "versions": versions(py, ["torch", "transformers", "mlflow", "hydra-core"]),
    }
    plan: list[tuple[str, str, list[str]]] = [
        ("pair", py, ["worker.py", "pair", "W1,W1b,W2", "--batch", "8", "--repeats", "2", *q]),
        ("auto", py, ["worker.py", "harness", "W1,W1b,W2", "--batch", "0", "--repeats", "2", *q]),
        ("ref", py, ["worker.py", "harness", "W1b,W2", "--batch", "1", *q]),
        ("lmeval", "", ["worker.py", "lmeval", "W1,W1b,W2", "--batch", "8", *q]),
        ("inspect", "", ["worker.py", "inspect", "W1,W1b", "--batch", "8", *q]),
        ("w3", py, ["w3.py", *q]),
    ]
    earlier: dict[str, Any] = {}
    for path in a.reuse:
        earlier.update({k: v for k, v in json.loads(path.read_text()).items() if v is not None})
    for name, python, args in plan:
        if name in skip:
            if name in earlier:
                report[name] = earlier[name]
                report.setdefault("reused", []).append(name)
            continue
        try:
            python = python or tool_python(name)
        except subprocess.CalledProcessError as exc:
            report[name] = {"error": f"install failed: {exc}"}
            continue
        if name in ("lmeval", "inspect"):
            dist = PACKAGES[name].split("[")[0].split("=")[0]
            report.setdefault("tool_versions", {})[name] = versions(python, [dist])
        report[name] = worker(python, args, out_dir / f"{name}.json", out_dir / f"{name}.log")
    if "cli" not in skip:
        report["cli_help_s"] = cli_help_s()
    elif "cli_help_s" in earlier:
        report["cli_help_s"] = earlier["cli_help_s"]
    if "tool_versions" in earlier:
        report["tool_versions"] = {**earlier["tool_versions"], **report.get("tool_versions", {})}
    report["loadavg_end"] = os.getloadavg()
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, default=str))
    print(table(report))
    print(f"\nfull results: {out_dir / 'report.json'}")


def _cpu_model() -> str:
    try:
        return next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                    if ln.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor()


def _runs(report: dict[str, Any], key: str) -> list[dict[str, Any]]:
    entry = report.get(key) or {}
    return [dict(r, load_s=entry.get("load_s"), peak_rss_mb=entry.get("peak_rss_mb")) for r in entry.get("runs", [])]


def table(report: dict[str, Any]) -> str:
    """Markdown: one row per (workload, tool), ratios to the floor's wall time."""
    rows = ["| workload | tool | batch | wall s | ex/s | x floor wall | load s | peak RSS MiB | outputs |",
            "|---|---|---|---|---|---|---|---|---|"]
    ref = {r["workload"]: r["outputs"] for r in _runs(report, "ref")}
    if "W1b" in ref:  # greedy batch-1 W1 outputs: the W1b texts cut at the first newline
        ref["W1"] = [t.split("\n")[0] for t in ref["W1b"]]
    floors = {r["workload"]: r for r in _runs(report, "pair") if r["tool"] == "floor"}
    for wl in ("W1", "W1b", "W2"):
        floor = floors.get(wl)
        for key, tool, label, batch in (
            ("pair", "floor", "floor", "8"), ("pair", "harness", "harness", "8"),
            ("auto", "harness", "harness", "auto"),
            ("ref", "harness", "harness", "1"), ("lmeval", "lmeval", "lm-eval", "8"),
            ("inspect", "inspect", "inspect-ai", "8"),
        ):
            for r in _runs(report, key):
                if r["workload"] != wl or r["tool"] != tool:
                    continue
                if "unsupported" in r:
                    rows.append(f"| {wl} | {label} | {batch} | n/a | | | | | {r['unsupported']} |")
                    continue
                same = _compare(r["outputs"], floor["outputs"] if floor else None, ref.get(wl))
                ratio = f"{r['wall_s'] / floor['wall_s']:.2f}" if floor else ""
                rows.append(f"| {wl} | {label} | {batch} | {r['wall_s']:.1f} | {r['n'] / r['wall_s']:.2f} | {ratio} | "
                            f"{r['load_s']:.1f} | {r['peak_rss_mb']:.0f} | {same} |")
    w3 = (report.get("w3") or {}).get("runs", [])
    cold = {r["task"]: r["wall_s"] for r in w3 if r["attempt"] == "cold"}
    for r in w3:
        t = r["timing"]
        other = t.get("timing.score_s", 0) + t.get("timing.tracking_s", 0)
        of_cold = f", {100 * r['wall_s'] / cold[r['task']]:.1f}% of cold" if r["attempt"] != "cold" else ""
        rows.append(f"| W3 {r['task']} ({r['attempt']}) | harness runner | auto | {r['wall_s']:.1f} | "
                    f"{r['n'] / r['wall_s']:.2f} | | {t.get('timing.model_load_s', 0):.1f} | | "
                    f"generate {t.get('timing.generate_s', 0):.1f} s, score+track {other:.2f} s "
                    f"({100 * other / max(r['wall_s'], 1e-9):.1f}%), model loaded "
                    f"{int(t.get('cache.model_loaded', 0))}{of_cold} |")
    rows.extend(memory_table(report))
    if "cli_help_s" in report:
        rows.append(f"\n`python -m harness --help`: {', '.join(f'{s:.2f}' for s in report['cli_help_s'])} s")
    rows.append(f"\nload average start {report['loadavg_start']}, end {report.get('loadavg_end')}")
    return "\n".join(rows)


def memory_table(report: dict[str, Any]) -> list[str]:
    """Per timed call of a one-model process: resident before it, its own peak, and both against the weights.

    The target reads: peak <= 1.5 x weights + the batch's activations, where
    activations = call peak - resident before the call.
    """
    rows = ["", "| workload | tool | batch | weights MiB | resident before MiB | call peak MiB | activations MiB "
            "| before / weights | peak <= 1.5 x weights + activations |", "|---|---|---|---|---|---|---|---|---|"]
    for key, batch in (("auto", "auto"), ("ref", "1")):
        entry = report.get(key) or {}
        weights = (entry.get("weights_mb") or {}).get("harness")
        for r in entry.get("runs", []):
            if "rss_before_mb" not in r or not weights:
                continue
            act = r["peak_mb"] - r["rss_before_mb"]
            ok = "yes" if r["peak_mb"] <= 1.5 * weights + act else "no"
            rows.append(f"| {r['workload']} | harness | {batch} | {weights:.0f} | {r['rss_before_mb']:.0f} | "
                        f"{r['peak_mb']:.0f} | {act:.0f} | {r['rss_before_mb'] / weights:.2f} | {ok} |")
    return rows if len(rows) > 3 else []


def _compare(outputs: Any, floor: Any, ref: Any) -> str:
    notes = []
    for name, other in (("floor", floor), ("batch-1", ref)):
        if other is None:
            continue
        if _close(outputs, other):
            notes.append(f"= {name}")
        else:
            diff = sum(1 for x, y in zip(outputs, other, strict=True) if not _close(x, y))
            notes.append(f"{diff}/{len(outputs)} differ from {name}")
    return ", ".join(notes)


def _close(x: Any, y: Any) -> bool:
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_close(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, float) and isinstance(y, float):
        return abs(x - y) <= 1e-4 * max(1.0, abs(y))  # fp32 reductions differ with batch shape
    return bool(x == y)


if __name__ == "__main__":
    main()
