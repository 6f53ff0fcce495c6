"""`python -m harness.judge_check task=... judge.model=...`: how far a judge agrees with known grades.

Thin: compose conf/judge_check.yaml, call `harness.judge.check.run_check`,
exit 0 (the report says `CAUTION: weak judge` when it is). Mistakes are one
line with exit code 2 (harness.core.entry).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from harness.core.entry import EXIT_OK, run_entry

HELP = """usage: python -m harness.judge_check task=NAME [judge.model=NAME] [calibration=labels.jsonl] [key=value ...]

Grade outputs whose correctness is known with the task's judge (task.judge; judge.X is short for
task.judge.X) and report accuracy and Cohen's kappa with 95% bootstrap CIs; `CAUTION: weak judge`
below min_kappa.

  task=classification judge.model=gemini_flash     each test item's reference (correct) and a wrong output
  calibration=labels.jsonl                         human labels instead: rows {id, output, grade}
  limit=40  pass_at=0.5  min_kappa=0.4  min_accuracy=0  resamples=1000
  judge.grades=[fail,pass]  judge.rubric='...'  judge.reference=false  judge.template=judge.jinja
  "judge.model_overrides=['base_url=http://...']"  settings of the judge model (quoted list items)
  tracking.uri=sqlite:///mlflow.db  out_dir=results/judge_check  cache.enabled=true
Docs: docs/judges.md.  Config: conf/judge_check.yaml (schema harness/judge/check_config.py)
"""


def _body(argv: list[str]) -> int:
    from harness.judge.check import run_check
    from harness.judge.check_config import load_config

    run_check(load_config(argv))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Exit code 0 with the report on stdout; 2 with one line on stderr for a user mistake."""
    return run_entry("harness.judge_check", HELP, _body, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
