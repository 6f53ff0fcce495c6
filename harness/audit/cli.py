"""`python -m harness.audit task=NAME [model=VARIANT] [audit.ngram=13 ...]`: the leakage audit alone."""

from __future__ import annotations

from collections.abc import Sequence

from harness.core.entry import EXIT_OK, run_entry

HELP = """usage: python -m harness.audit task=NAME [model=VARIANT] [key=value ...]

Leakage audit: how many test items of a task overlap its training side (the train split and
few-shot pool, and model.tuning_data for a tuned variant), by method, with example pairs.
Nothing is generated; the model is not loaded.

  task=NAME                a config in conf/task/
  model=VARIANT            a tuned variant whose model.tuning_data is audited too (default: the base model)
  audit.ngram=13           words per n-gram          audit.near_threshold=0.8   MinHash Jaccard
  audit.template_max_slot=2  audit.template_min_frame=4   audit.warn_at=0.05
  task.data.path=... task.data.train_path=...   any data set, as for python -m harness
Docs: docs/audit.md
"""


def _body(argv: list[str]) -> int:
    from pathlib import Path

    from harness.audit.api import audit_task, preflight
    from harness.audit.report import print_table
    from harness.config.load import compose_run
    from harness.data.samples import load_task_data

    cfg = compose_run(argv)
    preflight(cfg.audit, cfg.model)
    data = load_task_data(cfg.task, cfg.tracking.uri)
    result = audit_task(cfg.task, cfg.model, data, cfg.audit, Path(cfg.results_dir) / ".cache" / "audit")
    if result is None:
        print(f"task {cfg.task.name} has no training side (no train split, no model.tuning_data): nothing to audit")
        return EXIT_OK
    print_table(result, {s.id: s.input for s in data.test})
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    return run_entry("harness.audit", HELP, _body, argv)
