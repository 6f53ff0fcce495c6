"""`python -m harness.curve ...`: compose conf/curve.yaml, call `run_curve`, print the table and the crossing."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.core.entry import EXIT_OK, run_entry

if TYPE_CHECKING:  # --help must not import the run machinery
    from harness.curve.crossing import Step
    from harness.curve.run import CurveOutcome, Reference

HELP = """usage: python -m harness.curve [task=NAME] [model=BASE] [sizes=[25,50,100,200]] [key=value ...]

How many labelled examples until tuning pays off: LoRA-tune the base model on nested, seeded
subsets of the task's train split (the 25 examples are among the 50, ...), evaluate each variant
and the base model (0-shot and task.shots-shot) on the same test split, and say from which size
the tuned model is significantly better than prompting (paired tests, Holm across sizes).
Writes curve.png and curve.json to results/curve/<task>/<model>/<timestamp>/ and one MLflow run.

  task.shots=5  seed=1234  task.limit=50  'tune=["epochs=2","learning_rate=1e-3"]'
  alpha=0.05  min_n=30  margin=0.01  tracking.uri=sqlite:///mlflow.db  results_dir=results
Adapters and responses are cached: a re-run re-scores in seconds.
Docs: docs/comparison.md ("Learning curve").  Config: conf/curve.yaml (schema harness/curve/config.py)
"""


def load_config(overrides: Sequence[str]) -> object:
    """Compose and validate conf/curve.yaml with overrides into a CurveConfig."""
    from harness.config.load import compose_object
    from harness.curve.config import CurveConfig, register

    register()
    return compose_object(overrides, "curve", CurveConfig)


def print_outcome(outcome: CurveOutcome) -> None:
    """The console table (rich) and the crossing sentences."""
    from rich.console import Console
    from rich.table import Table

    # piped output gets 120 columns, not rich's 80, so the table is not folded into unreadable cells
    console = Console() if sys.stdout.isatty() else Console(width=120)
    main, others = (outcome.references[0], outcome.references[1:]) if outcome.references else (None, ())
    table = Table(title=f"learning curve ({outcome.wall_s:.0f}s)")
    table.add_column("model")
    table.add_column("value [95% CI]", justify="right")
    if main:
        table.add_column(f"Δ vs {main.label} [95% CI]", justify="right")
        table.add_column("p_holm", justify="right")
        table.add_column(f"vs {main.label}")
    for ref in others:
        table.add_column(f"vs {ref.label}")
    for p in outcome.points:
        ci = f" [{p.low:.3f}, {p.high:.3f}]" if p.low is not None and p.high is not None else ""
        cells = [f"base {p.label}" if p.size is None else p.label, f"{p.value:.3f}{ci}"]
        if main:
            st = _step(main, p.size)
            cells += [f"{st.delta:+.3f} [{st.low:+.3f}, {st.high:+.3f}]", f"{st.p_holm:.3g}", st.verdict.value] \
                if st else ["", "", ""]
        for ref in others:
            st = _step(ref, p.size)
            cells.append(st.verdict.value if st else "")
        table.add_row(*cells)
    console.print(table)
    for ref in outcome.references:
        console.print(ref.sentence, highlight=False)
    console.print(f"plot: {outcome.plot}\ntable: {outcome.table}", highlight=False)
    if outcome.mlflow_run_id:
        console.print(f"mlflow run: {outcome.mlflow_run_id}", highlight=False)


def _step(ref: Reference, size: int | None) -> Step | None:
    return next((s for s in ref.steps if s.size == size), None) if size is not None else None


def _body(argv: list[str]) -> int:
    from harness.curve.config import CurveConfig
    from harness.curve.run import run_curve

    cfg = load_config(argv)
    assert isinstance(cfg, CurveConfig)
    print_outcome(run_curve(cfg, say=lambda line: print(line, file=sys.stderr, flush=True)))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Exit code 0 whatever the curve shows; 2 with one line on stderr for a user mistake."""
    return run_entry("harness.curve", HELP, _body, argv)
