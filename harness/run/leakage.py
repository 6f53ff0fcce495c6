"""The run loop's leakage stage: audit the test split against the run's training side (harness.audit),
then report every aggregate again on the unflagged items.

`audit_stage` runs before the MLflow run starts (a `model.tuning_data` pointing
nowhere is one line, exit 2, no run left behind); the rest folds its result into
the run's rows, metrics and console output.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.audit.api import audit_task
from harness.audit.audit import AuditResult
from harness.audit.report import unknown_note, warning
from harness.config.schema import RunConfig
from harness.core.records import MetricValue, Sample, Score
from harness.data.samples import TaskData
from harness.run import aggregate
from harness.scorers.base import CorpusFn, ScoreInput


def audit_stage(cfg: RunConfig, data: TaskData) -> tuple[AuditResult | None, float]:
    """The audit (cached by fingerprints) and its wall time; (None, t) when disabled or nothing to audit."""
    t0 = time.perf_counter()
    folder = Path(cfg.results_dir) / ".cache" / "audit"
    result = audit_task(cfg.task, cfg.model, data, cfg.audit, folder) if cfg.audit.enabled else None
    return result, time.perf_counter() - t0


def clean_metrics(
    audit: AuditResult | None,
    corpus_fns: Mapping[str, CorpusFn],
    items: Sequence[ScoreInput],
    scores: Sequence[Score],
    task: Any,
    resamples: int,
) -> tuple[dict[str, MetricValue], dict[str, float]]:
    """(`<metric>.clean` aggregates, counters: leakage.* shares and counts, n_clean); empty without an audit."""
    if audit is None or not audit.audited:
        return {}, {}
    keep = [not f for f in audit.flagged()]
    counters = {**audit.summary(), "n_clean": float(sum(keep))}
    return aggregate.clean_metrics(corpus_fns, items, scores, task, keep, resamples, seed=task.seed), counters


def add_flags(rows: list[dict[str, Any]], audit: AuditResult | None) -> None:
    """Per-item flags into the predictions.jsonl rows (in place: the rows are the runner's own, just built)."""
    if audit is None or not audit.audited:
        return
    for row, flags in zip(rows, audit.items, strict=True):
        row.update(flags.to_row())


def tags(audit: AuditResult | None) -> dict[str, str]:
    if audit is None:
        return {}
    out = {"harness.leakage.sources": ",".join(f"{s.name}={s.status}" for s in audit.sources)}
    if audit.unknown:
        out["harness.leakage.unknown"] = ",".join(audit.unknown)
    return out


def report(audit: AuditResult | None, samples: Sequence[Sample], warn_at: float, quiet: bool) -> None:
    if audit is None or quiet:
        return
    from rich.console import Console

    console = Console(highlight=False)
    text = warning(audit, {s.id: s.input for s in samples}, warn_at) if audit.audited else None
    for line in filter(None, (text, unknown_note(audit))):
        console.print(line, style="bold yellow" if line is text else "yellow", markup=False, soft_wrap=True)
