"""The MLflow UI shows variants side by side: a real `mlflow server` and real headless Chromium.

Skips with a reason when Chromium is absent (a user's machine); `./dev test`
installs it, so CI always runs it.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from harness.run.runner import evaluate
from tests.helpers import ROOT, run_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=25000", "--window-size=1400,1000",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path):
    port = _free_port()
    db = tmp_path / "mlflow.db"
    # two variants of one base, recorded through the normal pipeline (replayed outputs: no model)
    rows = [json.loads(x) for x in (ROOT / "tasks/classification/test.jsonl").read_text().splitlines()]
    for name, correct in (("variant_base", 0.5), ("variant_lora", 0.9)):
        path = tmp_path / f"{name}.jsonl"
        keep = int(len(rows) * correct)
        path.write_text("".join(
            json.dumps({"id": r["id"], "output": " " + (r["label"] if i < keep else "neutral")}) + "\n"
            for i, r in enumerate(rows)
        ))
        evaluate(run_config(tmp_path, "model=replay", f"model.path={path}", f"model.name={name}",
                            f"tracking.uri=sqlite:///{db}"), quiet=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{db}",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not come up")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium; ./dev test installs it)")
def test_mlflow_ui_compares_variants_side_by_side(server: str, tmp_path: Path) -> None:
    client = MlflowClient(tracking_uri=server)
    exp = client.get_experiment_by_name("harness")
    runs = client.search_runs([exp.experiment_id])
    ids = {r.info.run_name: r.info.run_id for r in runs}
    assert set(ids) == {"classification/variant_base", "classification/variant_lora"}
    query = urllib.parse.urlencode(
        {"runs": json.dumps(list(ids.values())), "experiments": json.dumps([exp.experiment_id])}
    )
    page = f"{server}/#/compare-runs?{query}"
    assert CHROMIUM is not None
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'c1'}", "--dump-dom", page],
                         capture_output=True, text=True, timeout=180, check=False).stdout
    # the page rendered by the UI's JavaScript names both runs and the compared metric
    assert "Comparing 2 Runs" in dom
    assert "classification/variant_base" in dom and "classification/variant_lora" in dom
    assert "accuracy" in dom
    shot = tmp_path / "compare.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'c2'}", f"--screenshot={shot}", page],
                   capture_output=True, timeout=180, check=False)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
