"""The built wheel carries conf/ and tasks/ and works from an empty folder (issue 16, item 8).

Builds an sdist from a copy of the sources, a wheel from that sdist (so both
carry the shipped folders), installs the wheel into a fresh venv that sees
this venv's dependencies through a .pth file (nothing is downloaded, nothing
installed here), then, from an empty folder: `harness --help` lists the
shipped tasks and models, and a replay evaluation of the shipped
classification task (its data found through `${hroot:}` inside the install)
gives the accuracy counted here from the data file.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT

SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "harness", "conf", "tasks")


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, (args, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def build_wheel(tmp: Path) -> Path:
    src, dist = tmp / "src", tmp / "dist"
    src.mkdir()
    for name in SOURCES:  # a copy: the build never writes into the working tree others edit
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(p, src / name)
    code = f"from setuptools import build_meta as b; print(b.build_sdist({str(dist)!r}))"
    sdist = dist / _run([sys.executable, "-c", code], cwd=src).stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    assert any(n.endswith("/conf/config.yaml") for n in names) and any(n.endswith("/tasks/classification/test.jsonl")
                                                                        for n in names)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--no-cache-dir",
          "-w", str(dist), str(sdist)], cwd=tmp)
    [wheel] = dist.glob("harness-*.whl")
    return wheel


def fresh_venv(tmp: Path) -> Path:
    """A venv without pip whose only view of the dependencies is a .pth line naming this venv's site-packages.

    A plain path line: the editable-install hook (a .pth in this venv) is not run there, so `harness`
    can only come from the wheel.
    """
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    py = venv / "bin" / "python"
    purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=tmp).stdout.strip())
    deps = sysconfig.get_paths()["purelib"]
    (purelib / "_harness_test_deps.pth").write_text("\n".join(dict.fromkeys([deps, *site.getsitepackages()])) + "\n")
    return venv


@pytest.mark.slow
def test_wheel_installs_and_runs_from_an_empty_folder(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    members = zipfile.ZipFile(wheel).namelist()
    assert "harness/_data/conf/config.yaml" in members and "harness/_data/conf/model/replay.yaml" in members
    assert "harness/_data/tasks/classification/prompt.jinja" in members
    assert not any("__pycache__" in m for m in members)

    venv = fresh_venv(tmp_path)
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "--no-index",
          "--no-cache-dir", "-q", str(wheel)], cwd=tmp_path)
    work = tmp_path / "empty"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "HARNESS_TASKS_DIR", "HARNESS_CONFIG_PATH", "MLFLOW_TRACKING_URI")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    where = _run([str(venv / "bin" / "python"), "-c", "import harness.core.paths as p; print(p.ROOT)"], work, env)
    root = Path(where.stdout.strip())
    assert root.is_relative_to(venv) and root.name == "_data", root  # the packaged copy, not the clone

    helped = _run([str(venv / "bin" / "harness"), "--help"], work, env)
    tasks_line = next(ln for ln in helped.stdout.splitlines() if ln.startswith("tasks:"))
    models_line = next(ln for ln in helped.stdout.splitlines() if ln.startswith("models:"))
    assert "classification" in tasks_line and "summarization" in tasks_line
    assert "replay" in models_line and "gemma3_270m" in models_line

    rows = [json.loads(x) for x in (ROOT / "tasks/classification/test.jsonl").read_text().splitlines() if x.strip()]
    outputs = [{"id": r["id"], "output": r["label"] if i % 4 else "positive"} for i, r in enumerate(rows)]
    (work / "outs.jsonl").write_text("".join(json.dumps(o) + "\n" for o in outputs))
    expected = sum(o["output"] == r["label"] for o, r in zip(outputs, rows, strict=True)) / len(rows)

    _run([str(venv / "bin" / "harness"), "model=replay", "model.path=outs.jsonl", "progress=false",
          "bootstrap_resamples=100", f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}"], work, env)
    [metrics] = (work / "results" / "classification" / "replay").glob("*/metrics.json")
    got = json.loads(metrics.read_text())
    assert got["n_examples"] == len(rows)
    assert got["accuracy"] == pytest.approx(expected)
    config = (metrics.parent / "config.yaml").read_text()
    assert f"{root}/tasks/classification/test.jsonl" in config  # ${hroot:} resolved inside the install
