"""`audit_task`: the audit of one (task, model) cell, through the cache; what the runner and the CLI call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.audit import cache
from harness.audit.audit import AuditResult, AuditSettings, ItemFlags, run_audit
from harness.audit.sources import training_side
from harness.config.schema import AuditConfig, TaskConfig
from harness.data.samples import TaskData


def audit_task(task: TaskConfig, model: Any, data: TaskData, cfg: AuditConfig) -> AuditResult | None:
    """Flags for every test item against the run's training side; None when the run has no training side."""
    settings = AuditSettings.from_config(cfg)
    train, sources = training_side(task, model, data.train)
    if not sources:
        return None
    key = cache.cache_key(data.fingerprint, sources, settings)
    folder = Path(cfg.cache_dir)
    found = cache.load(folder, key)
    if found is not None and [f.id for f in found] == [s.id for s in data.test]:
        return AuditResult(tuple(found), tuple(sources), settings, cached=True)
    if train:
        items = run_audit([(s.id, s.input) for s in data.test], train, settings)
    else:
        items = [ItemFlags(s.id) for s in data.test]
    cache.store(folder, key, items)
    return AuditResult(tuple(items), tuple(sources), settings)
