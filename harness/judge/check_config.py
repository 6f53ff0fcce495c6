"""Typed config of `python -m harness.judge_check` (conf/judge_check.yaml extends it) and its result record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore

from harness.config.schema import CacheConfig, RetryConfig, TrackingConfig
from harness.core.errors import ConfigError
from harness.judge.agreement import Agreement
from harness.judge.pointwise import Grade

CAUTION = "CAUTION: weak judge"


@dataclass
class JudgeCheckConfig:
    """Typed config of `python -m harness.judge_check` (conf/judge_check.yaml extends it)."""

    task: Any = None  # task=NAME picks conf/task/NAME.yaml; its task.judge is the judge (judge.* = task.judge.*)
    calibration: str = ""  # JSONL of {id, output, grade}: human labels instead of known correctness
    limit: int | None = 40  # test items (known correctness: each gives a correct and a wrong output); null: all
    pass_at: float = 0.5  # a grade scoring at least this (worst 0, best 1) counts as 'correct'
    min_kappa: float = 0.4  # below: CAUTION: weak judge
    min_accuracy: float = 0.0  # below: CAUTION: weak judge (0: not applied)
    resamples: int = 1000
    seed: int = 0
    out_dir: str = "results/judge_check"
    chunk_size: int = 64
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)


def register() -> None:
    """Idempotent: storing the same node twice replaces it."""
    ConfigStore.instance().store(group="schema", name="judge_check", node=JudgeCheckConfig)


def load_config(overrides: Sequence[str], config_name: str = "judge_check") -> JudgeCheckConfig:
    """Compose conf/judge_check.yaml; `judge.X=...` on the command line is short for `task.judge.X=...`."""
    from harness.config.load import compose_object

    register()
    if any(o.startswith("task=") for o in overrides):
        args = [_long_form(o) for o in overrides]
    else:  # no task: judge.X=... has nowhere to go; compose the rest (syntax errors first), then say so
        args = [o for o in overrides if not o.lstrip("+~").startswith("judge.")]
    cfg = compose_object(args, config_name, JudgeCheckConfig)
    if cfg.task is None or isinstance(cfg.task, str):
        raise ConfigError("task is required: task=NAME (a config in conf/task/)")
    return cfg


def _long_form(arg: str) -> str:
    for prefix in ("judge.", "+judge.", "~judge."):
        if arg.startswith(prefix):
            return arg.replace("judge.", "task.judge.", 1)
    return arg


@dataclass(frozen=True)
class CheckResult:
    """What a judge_check found."""

    task: str
    judge: str  # model config name
    identity: str
    template_hash: str
    mode: str  # 'known' | 'calibration'
    agreement: Agreement
    grades: tuple[Grade, ...]
    known: tuple[str, ...]  # the known grade of each graded item
    ids: tuple[str, ...]
    reasons: tuple[str, ...]  # why the judge is weak (empty: not weak)
    cost_usd: float
    requests: int
    cached: int
    out_dir: str
    mlflow_run_id: str | None

    @property
    def weak(self) -> bool:
        return bool(self.reasons)
