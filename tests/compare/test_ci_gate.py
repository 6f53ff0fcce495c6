"""The project's own release gate runs a real evaluation of the embedded Gemma, as CI does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.helpers import isolated, run_cli

pytestmark = pytest.mark.slow


def test_ci_smoke_gate_passes_on_the_embedded_gemma(tmp_path: Path) -> None:
    evaluate = [*isolated(tmp_path), "task.limit=24", "task.shots=5"]
    junit = tmp_path / "gate.xml"
    proc = run_cli(
        ["gate=ci_smoke", "evaluate=[" + ",".join(f"'{o}'" for o in evaluate) + "]",
         f"tracking_uri=sqlite:///{tmp_path / 'mlflow.db'}", f"out_dir={tmp_path / 'gate'}", f"junit={junit}"],
        module="harness.gate",
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    suite = ET.parse(junit).getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) == 3 and not suite.findall(".//failure")
