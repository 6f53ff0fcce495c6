"""`python -m harness.gate gate=<name> candidate=<run>`: exit 0 pass, 1 a check failed, 2 usage.

A bad config, an unknown metric or a missing run is one line on stderr and
exit code 2; a failed check is exit code 1 with the failed checks named.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from harness.errors import ConfigError, RunFailed, UserError

EXIT_PASS, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def evaluate_candidate(overrides: Sequence[str], tracking_uri: str | None) -> str:
    """The hook behind `evaluate=[...]`: run the evaluation, return its MLflow run id."""
    from harness.config.load import compose_run
    from harness.runner import evaluate

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


def main(argv: Sequence[str]) -> int:
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        return run_gate(argv)
    except UserError as exc:
        print(f"harness.gate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RunFailed as exc:  # the evaluate=[...] hook's run failed: the candidate is not releasable
        print(f"harness.gate: evaluation failed: {exc}", file=sys.stderr)
        return EXIT_FAIL
