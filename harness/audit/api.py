"""`audit_task`: the audit of one (task, model) cell, through the cache; what the runner and the CLI call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.audit import cache
from harness.audit.audit import AuditResult, ItemFlags, check_config, run_audit, settings_from
from harness.audit.sources import check_model, training_side
from harness.config.schema import AuditConfig, TaskConfig
from harness.data.samples import TaskData


def preflight(cfg: AuditConfig, model: Any) -> None:
    """Start-up checks: audit settings in range, model.tuning_data names a file. One line, exit 2, otherwise."""
    if cfg.enabled:
        check_config(cfg)
    check_model(model)


def audit_task(
    task: TaskConfig, model: Any, data: TaskData, cfg: AuditConfig, cache_dir: Path
) -> AuditResult | None:
    """Flags for every test item against the run's training side; None when the run has no training side.

    Results are cached in `cache_dir` by the fingerprints of the test items, the training sources and the
    settings: a re-run of the same data does not audit again.
    """
    settings = settings_from(cfg)
    train, sources = training_side(task, model, data.train)
    if not sources:
        return None
    key = cache.cache_key(data.fingerprint, sources, settings)
    folder = Path(cfg.cache_dir) if cfg.cache_dir else cache_dir
    found = cache.load(folder, key)
    if found is not None and [f.id for f in found] == [s.id for s in data.test]:
        return AuditResult(tuple(found), tuple(sources), settings, cached=True)
    if train:
        items = run_audit([(s.id, s.input) for s in data.test], train, settings)
    else:
        items = [ItemFlags(s.id) for s in data.test]
    cache.store(folder, key, items)
    return AuditResult(tuple(items), tuple(sources), settings)
