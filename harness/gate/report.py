"""JUnit XML (one testcase per check) and a Markdown summary of a gate result."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.gate.checks import GateResult


def junit_xml(result: GateResult) -> str:
    """A <testsuites> document CI systems render: failed checks carry a <failure> naming them."""
    suites = ET.Element("testsuites", name="harness.gate")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"gate.{result.gate}",
        tests=str(len(result.checks)),
        failures=str(len(result.failed)),
        errors="0",
        skipped="0",
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="candidate_run", value=result.candidate.run_id)
    if result.baseline is not None:
        ET.SubElement(props, "property", name="baseline_run", value=result.baseline.run_id)
    for check in result.checks:
        case = ET.SubElement(suite, "testcase", classname=f"harness.gate.{result.gate}", name=check.name, time="0")
        text = f"{check.observed} (required {check.threshold})" + (f"; {check.detail}" if check.detail else "")
        if check.passed:
            ET.SubElement(case, "system-out").text = text
        else:
            failure = ET.SubElement(case, "failure", message=f"check failed: {check.name}", type="GateCheckFailed")
            failure.text = text
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def markdown(result: GateResult) -> str:
    status = "PASSED" if result.passed else f"FAILED ({len(result.failed)} of {len(result.checks)} checks)"
    lines = [
        f"## Gate `{result.gate}`: {status}",
        "",
        f"Candidate: `{result.candidate.run_id}` ({result.candidate.label})"
        + (f"; baseline: `{result.baseline.run_id}` ({result.baseline.label})" if result.baseline else ""),
        "",
        "| check | result | observed | required | note |",
        "|---|---|---|---|---|",
    ]
    for c in result.checks:
        mark = "pass" if c.passed else "**FAIL**"
        lines.append(f"| {c.name} | {mark} | {c.observed} | {c.threshold} | {c.detail} |")
    return "\n".join(lines) + "\n"


def write(result: GateResult, out_dir: Path, junit_path: str = "") -> tuple[Path, Path]:
    """Write junit.xml and gate.md under out_dir (and junit_path); append to $GITHUB_STEP_SUMMARY."""
    out_dir.mkdir(parents=True, exist_ok=True)
    xml = junit_xml(result)
    md = markdown(result)
    junit = out_dir / "junit.xml"
    junit.write_text(xml, encoding="utf-8")
    summary = out_dir / "gate.md"
    summary.write_text(md, encoding="utf-8")
    if junit_path:
        Path(junit_path).parent.mkdir(parents=True, exist_ok=True)
        Path(junit_path).write_text(xml, encoding="utf-8")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with Path(step_summary).open("a", encoding="utf-8") as fh:
            fh.write(md + "\n")
    return junit, summary
