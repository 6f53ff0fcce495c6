"""Audit records and the run of every method over a test split and its training side.

    result = run_audit(test, train, settings)   # test: (id, text) pairs; train: TrainItem

Indexes are built once over the whole training side (all sources together),
then every test item is looked up: linear in test + train size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.audit.index import AuditIndex, AuditSettings
from harness.audit.methods import NO_MATCH
from harness.config.schema import AuditConfig
from harness.core.errors import ConfigError

METHODS = ("exact", "near", "ngram", "template")  # also the order in which a match is chosen to show


def settings_from(cfg: AuditConfig) -> AuditSettings:
    """The settings of an `audit` config node, checked (ConfigError naming the key)."""
    check_config(cfg)
    return AuditSettings(cfg.ngram, cfg.near_threshold, cfg.near_shingle, cfg.num_perm, cfg.template_max_slot,
                         cfg.template_min_frame)


def check_config(cfg: AuditConfig) -> None:
    """One line naming the key for a setting the audit cannot use."""
    for key in ("ngram", "near_shingle", "num_perm", "template_max_slot"):
        if getattr(cfg, key) < 1:
            raise ConfigError(f"audit.{key} must be at least 1, got {getattr(cfg, key)}")
    if cfg.template_min_frame < 0:
        raise ConfigError(f"audit.template_min_frame must be 0 or more, got {cfg.template_min_frame}")
    for key in ("near_threshold", "warn_at"):
        value = getattr(cfg, key)
        if key == "near_threshold" and not 0.0 < value <= 1.0:
            raise ConfigError(f"audit.near_threshold must be in (0, 1], got {value}")
        if key == "warn_at" and not 0.0 <= value <= 1.0:
            raise ConfigError(f"audit.warn_at must be in [0, 1], got {value}")


@dataclass(frozen=True)
class TrainItem:
    """One training-side text: where it came from (source name) and its id there."""

    source: str
    id: str
    text: str


@dataclass(frozen=True)
class ItemFlags:
    """The audit's verdict on one test item, and the training item shown as its match."""

    id: str
    exact: bool = False
    ngram: bool = False
    near: bool = False
    template: bool = False
    match_source: str | None = None
    match_id: str | None = None
    match_text: str | None = None
    match_method: str | None = None

    @property
    def any(self) -> bool:
        return self.exact or self.ngram or self.near or self.template

    def to_row(self) -> dict[str, Any]:
        """The predictions.jsonl columns of this item."""
        row: dict[str, Any] = {f"leakage.{k}": getattr(self, k) for k in METHODS}
        row["leakage.any"] = self.any
        row["leakage.match"] = f"{self.match_source}:{self.match_id}" if self.match_id is not None else None
        return row

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ItemFlags:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]


@dataclass(frozen=True)
class SourceInfo:
    """One training-side source: `audited` (read and compared) or `unknown` (a tuned variant without provenance)."""

    name: str  # train | tuning
    location: str
    fingerprint: str = ""
    n_items: int = 0
    status: str = "audited"


@dataclass(frozen=True)
class AuditResult:
    """Per-item flags for a test split, and what they were computed against."""

    items: tuple[ItemFlags, ...]
    sources: tuple[SourceInfo, ...] = ()
    settings: AuditSettings = field(default_factory=AuditSettings)
    cached: bool = False

    @property
    def audited(self) -> bool:
        return any(s.status == "audited" for s in self.sources)

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sources if s.status == "unknown")

    def flagged(self) -> list[bool]:
        return [f.any for f in self.items]

    def counts(self) -> dict[str, int]:
        out = {k: sum(1 for f in self.items if getattr(f, k)) for k in METHODS}
        out["any"] = sum(1 for f in self.items if f.any)
        return out

    def summary(self) -> dict[str, float]:
        """`leakage.<method>` fractions and `leakage.<method>.count` counts, for metrics.json and MLflow."""
        n = len(self.items)
        out: dict[str, float] = {}
        for k, c in self.counts().items():
            out[f"leakage.{k}"] = c / n if n else 0.0
            out[f"leakage.{k}.count"] = float(c)
        return out

    def examples(self, k: int = 3) -> list[ItemFlags]:
        return [f for f in self.items if f.any][:k]


def run_audit(test: Sequence[tuple[str, str]], train: Sequence[TrainItem], settings: AuditSettings) -> list[ItemFlags]:
    """Flags for every test item (id, text) against all training items."""
    if not train:
        return [ItemFlags(i) for i, _ in test]
    owners = AuditIndex([t.text for t in train], settings).query([t for _, t in test])
    out: list[ItemFlags] = []
    for i, (tid, _) in enumerate(test):
        flags = {k: bool(owners[k][i] != NO_MATCH) for k in METHODS}
        shown = next((k for k in METHODS if flags[k]), None)
        match = train[int(owners[shown][i])] if shown else None
        out.append(ItemFlags(
            tid, **flags, match_source=match.source if match else None, match_id=match.id if match else None,
            match_text=match.text if match else None, match_method=shown,
        ))
    return out
