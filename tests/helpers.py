"""Helpers for tests that run the harness for real in an isolated place."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from harness.config.load import compose_run
from harness.config.schema import RunConfig

ROOT = Path(__file__).resolve().parent.parent


def isolated(tmp: Path) -> list[str]:
    """Overrides that keep results, cache and MLflow store inside `tmp`."""
    return [
        f"results_dir={tmp / 'results'}",
        f"cache.path={tmp / 'cache.sqlite'}",
        f"tracking.uri=sqlite:///{tmp / 'mlflow.db'}",
        "progress=false",
        "bootstrap_resamples=200",
    ]


def run_config(tmp: Path, *overrides: str) -> RunConfig:
    return compose_run([*isolated(tmp), *overrides])


def run_cli(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
            module: str = "harness", timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`python -m harness ...` as a real process."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd or ROOT, env=full_env,
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, no traceback, one 'harness: error:' line containing every needle."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("harness: error:")]
    assert len(errors) == 1, proc.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_mlflow_server(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    """A real `mlflow server` on `port` (store tmp/server.db, artifacts tmp/artifacts), up when returned.

    It runs in its own process group, so `os.killpg(proc.pid, ...)` stops its workers too;
    its output goes to tmp/server.log, quoted when it does not come up within 120 s.
    """
    import pytest

    with (tmp / "server.log").open("a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1", "--backend-store-uri", f"sqlite:///{tmp / 'server.db'}",
             "--artifacts-destination", str(tmp / "artifacts")],
            cwd=tmp, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"mlflow server did not start: {(tmp / 'server.log').read_text()[-2000:]}")
        time.sleep(0.3)
