"""`python -m harness.gate gate=<name> candidate=<run>`: exit 0 pass, 1 a check failed, 2 usage.

A bad config, an unknown metric or a missing run is one line on stderr and
exit code 2; a failed check is exit code 1 with the failed checks named.
`release=<run>` marks a run as released instead (the gate's baseline tags),
so the next gate compares with it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from harness.core.entry import run_entry
from harness.core.errors import ConfigError

EXIT_PASS, EXIT_FAIL = 0, 1

HELP = """usage: python -m harness.gate gate=NAME (candidate=RUN | evaluate=[...] | release=RUN) [key=value ...]

Release gating: check a finished run against conf/gate/NAME.yaml; exit 0 pass, 1 a check failed, 2 usage.
RUN is an MLflow run id, or a model name: the latest FINISHED run of that model on the gate's task.

  gate=release candidate=gemma3_270m_lora        check a run
  gate=release "evaluate=['model=my_lora']"      evaluate first, then check the new run
  gate=release release=<run id>                  mark a run as released (the gate's baseline tags)
  junit=PATH   out_dir=results/gate   tracking_uri=sqlite:///mlflow.db
Docs: docs/gating.md.  gates: {gates}
"""


def evaluate_candidate(overrides: Sequence[str], tracking_uri: str | None) -> str:
    """The hook behind `evaluate=[...]`: run the evaluation, return its MLflow run id."""
    from harness.config.load import compose_run
    from harness.run.runner import evaluate

    run_cfg = compose_run(list(overrides))
    if tracking_uri:
        run_cfg.tracking.uri = tracking_uri
    result = evaluate(run_cfg, quiet=True)
    if not result.mlflow_run_id:
        raise ConfigError("evaluate=[...] ran with tracking disabled; the gate needs the run in MLflow")
    return result.mlflow_run_id


def run_gate(argv: Sequence[str], now: datetime | None = None) -> int:
    """Compose the gate config, check the candidate run, write JUnit and Markdown; the exit code."""
    from harness.compare import runs as rn
    from harness.gate import report
    from harness.gate.checks import evaluate_gate
    from harness.gate.config import load_config

    cfg = load_config(argv)
    gate = cfg.gate
    if cfg.release:
        return mark_released(cfg.release, gate.task, gate.baseline.tags, cfg.tracking_uri)
    if cfg.evaluate:
        candidate_ref = evaluate_candidate(cfg.evaluate, cfg.tracking_uri)
    else:
        candidate_ref = cfg.candidate or gate.candidate
    if not candidate_ref:
        raise ConfigError(f"gate {gate.name!r}: no candidate run; pass candidate=<run id or model name>")
    candidate = rn.find_run(rn.Selector(candidate_ref, gate.task), cfg.tracking_uri)
    result = evaluate_gate(gate, candidate, cfg.tracking_uri)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    junit, summary = report.write(result, Path(cfg.out_dir) / f"{gate.name}-{stamp}", cfg.junit)
    if result.passed:
        print(f"gate {gate.name}: PASSED {len(result.checks)} checks on run {candidate.run_id}")
        code = EXIT_PASS
    else:
        names = "; ".join(c.name for c in result.failed)
        print(
            f"gate {gate.name}: FAILED {len(result.failed)} of {len(result.checks)} checks on run "
            f"{candidate.run_id}: {names}"
        )
        code = EXIT_FAIL
    print(f"reports: {junit} {summary}", file=sys.stderr)
    return code


def mark_released(ref: str, task: str, tags: dict[str, str], tracking_uri: str | None) -> int:
    """Tag the run `ref` resolves to with the gate's baseline tags (default harness.released=true)."""
    from mlflow.tracking import MlflowClient

    from harness.compare import runs as rn

    if not tags:
        raise ConfigError("release=...: the gate has no baseline.tags to set; add e.g. {harness.released: 'true'}")
    run = rn.find_run(rn.Selector(ref, task), tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri)
    for key, value in tags.items():
        client.set_tag(run.run_id, key, value)
    shown = ", ".join(f"{k}={v}" for k, v in tags.items())
    print(f"released run {run.run_id} ({run.label}): tagged {shown}")
    return EXIT_PASS


def main(argv: Sequence[str] | None = None) -> int:
    from harness.core.paths import group_options

    return run_entry("harness.gate", HELP.format(gates=", ".join(group_options("gate"))), run_gate, argv)
