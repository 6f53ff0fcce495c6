"""Typed config of `python -m harness.curve` (conf/curve.yaml extends it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from harness.config.schema import CacheConfig, TrackingConfig


@dataclass
class CurveConfig:
    """Which base model to tune on which task, at which training-set sizes, and how to judge it.

    The few-shot band uses `task.shots` (conf/curve.yaml sets 5); the zero-shot
    band and every tuned variant are evaluated zero-shot on the same test split.
    """

    task: Any = MISSING  # a task config (conf/task/)
    model: Any = MISSING  # the HF base model config (conf/model/)
    sizes: list[int] = field(default_factory=lambda: [25, 50, 100, 200])
    seed: int = 1234  # one seed, nested subsets: the 25 examples are among the 50, and so on
    name: str = MISSING  # tuned variants are <name>_n<size>
    tune: list[str] = field(default_factory=list)  # overrides of conf/tune.yaml, e.g. [epochs=2]
    adapters_dir: str = "results/adapters"
    # paired verdict rules per size (as in harness.compare); Holm across the sizes
    alpha: float = 0.05
    margin: float = 0.01
    min_n: int = 30
    max_mde: float = 0.1
    results_dir: str = "results"  # the curve goes to <results_dir>/curve/<task>/<model>/<timestamp>/
    bootstrap_resamples: int = 1000
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)


def register() -> None:
    """Store the schema as `curve_schema` (idempotent), so conf/curve.yaml is validated."""
    from hydra.core.config_store import ConfigStore

    from harness.config.load import setup

    setup()
    ConfigStore.instance().store(name="curve_schema", node=CurveConfig)
