"""Command line of the comparison: compose the config, call `run_compare`, print the verdict."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.core.entry import EXIT_OK, run_entry

if TYPE_CHECKING:
    from harness.compare.api import CompareOutcome

HELP = """usage: python -m harness.compare baseline=RUN candidates=[RUN,...] [task=NAME] [key=value ...]

Paired comparison of evaluation runs: did the candidates (tuned variants) beat the baseline?
RUN is an MLflow run id, or a model name: the latest FINISHED run of that model on `task`.

  baseline=gemma3_270m 'candidates=[gemma3_270m_lora]' task=classification
  primary_metric=accuracy   margin=0.01   tuning_cost_usd=0.25   alpha=0.05
  baseline_tags={harness.released:'true'}   tracking_uri=sqlite:///mlflow.db   out_dir=results/compare
  export=failures.jsonl [export_below=1.0]   the candidate's failures as tuning data
  judge=pairwise judge_model=gemini_flash    a side-by-side judge's win rate joins the verdicts (model-graded)
Docs: docs/comparison.md.  Config: conf/compare.yaml (schema harness/compare/config.py)
"""


def _body(argv: list[str]) -> int:
    from harness.compare.api import run_compare
    from harness.compare.config import load_config

    outcome = run_compare(load_config(argv))
    for line in console_lines(outcome):
        print(line)
    print(f"reports: {outcome.markdown} {outcome.html}; flipped items: {outcome.flips}", file=sys.stderr)
    return EXIT_OK


def console_lines(outcome: CompareOutcome) -> list[str]:
    """What a comparison prints: the headline (with any CAUTION), the verdicts on all and clean items, the judge."""
    from harness.compare import judge_report, judged, leakage

    lv = outcome.leakage
    cautions = [judged.CAUTION] if outcome.judge and outcome.judge.caution else []
    cautions += [leakage.CAUTION] if lv and lv.caution else []
    lines = [" | ".join(cautions)] if cautions else []
    lines += outcome.comparison.verdict_lines()  # one per candidate: a long joined line wraps unreadably
    lines += lv.console_lines() if lv else []
    lines += judge_report.console_lines(outcome.judge) if outcome.judge else []
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Exit code 0 with the verdict on stdout; 2 with one line on stderr for a user mistake."""
    return run_entry("harness.compare", HELP, _body, argv)
