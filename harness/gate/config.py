"""Typed config of `python -m harness.gate gate=<name>`.

The root node (`gate_main`, registered in the ConfigStore) holds what changes
per invocation (which candidate run, where the store is, where reports go);
`conf/gate/<name>.yaml` fills its `gate` node (a GateConfig) with the checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from harness.core.errors import ConfigError


@dataclass
class CheckConfig:
    """One check; exactly one of `min`, `max`, `non_inferior_margin` is set.

    * min: the run's `metric` (or its CI lower bound with `bound: ci_low`) >= min
    * max: the run's `metric` <= max (error_rate, latency_s_p95, cost_per_1k_usd, ...)
    * non_inferior_margin: paired CI lower bound of (candidate - baseline) on the
      per-example `metric` > -margin
    """

    metric: str = MISSING
    name: str = ""  # shown in JUnit and the summary; derived when empty
    min: float | None = None
    max: float | None = None
    bound: str = "value"  # value | ci_low (for `min`)
    non_inferior_margin: float | None = None
    subset: str = "all"  # all | clean: non-inferiority on the items the leakage audit flagged in neither run

    @property
    def kind(self) -> str:
        set_ = [k for k in ("min", "max", "non_inferior_margin") if getattr(self, k) is not None]
        if len(set_) != 1:
            raise ConfigError(
                f"gate check on {self.metric!r} must set exactly one of min, max, non_inferior_margin "
                f"(has: {', '.join(set_) or 'none'})"
            )
        if self.bound not in ("value", "ci_low"):
            raise ConfigError(f"gate check on {self.metric!r}: bound must be value or ci_low, not {self.bound!r}")
        if self.subset not in ("all", "clean"):
            raise ConfigError(f"gate check on {self.metric!r}: subset must be all or clean, not {self.subset!r}")
        return set_[0]

    @property
    def title(self) -> str:
        if self.name:
            return self.name
        kind = self.kind
        if kind == "min":
            what = self.metric if self.bound == "value" else f"{self.metric}.ci_low"
            return f"{what} >= {self.min}"
        if kind == "max":
            return f"{self.metric} <= {self.max}"
        clean = " on the clean subset" if self.subset == "clean" else ""
        return f"{self.metric} non-inferior to baseline{clean} (margin {self.non_inferior_margin})"


@dataclass
class BaselineConfig:
    """The run non-inferiority is judged against: a run id or model, else the latest released run."""

    run: str = ""
    tags: dict[str, str] = field(default_factory=lambda: {"harness.released": "true"})


@dataclass
class GateConfig:
    """A named set of checks on one task's candidate run."""

    name: str = MISSING
    task: str = ""  # needed when the candidate or baseline is named by model
    candidate: str = ""  # run id or model name; usually given on the command line
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    min_n: int = 30  # non-inferiority needs at least this many paired examples
    resamples: int = 2000
    seed: int = 0
    alpha: float = 0.05
    checks: list[CheckConfig] = field(default_factory=list)
    # leakage.any (share of test items the leakage audit flagged, docs/audit.md) must not exceed this;
    # a run without an audit fails the check
    max_leakage: float | None = None
    # a judged comparison of the candidate (compare judge=pairwise) whose judge was weak (CAUTION: weak judge)
    # fails the gate unless this is true; the latest such comparison counts (docs/judges.md)
    allow_weak_judge: bool = False


@dataclass
class GateMain:
    """Root config of the gate CLI."""

    defaults: list[Any] = field(default_factory=lambda: ["_self_", {"gate": MISSING}])
    gate: GateConfig = field(default_factory=GateConfig)
    candidate: str = ""  # overrides gate.candidate
    tracking_uri: str | None = None  # default: $MLFLOW_TRACKING_URI, else MLflow's default
    out_dir: str = "results/gate"  # reports go to <out_dir>/<gate name>-<timestamp>/
    junit: str = ""  # also write the JUnit XML here (a fixed path for CI)
    # Hook: run the candidate evaluation first (`harness.run.runner.evaluate`) with
    # these overrides, e.g. [task=sst2, model=gemma_tuned]; its run becomes the candidate.
    evaluate: list[str] = field(default_factory=list)
    release: str = ""  # mark this run (id or model name) as released instead of gating


def register() -> None:
    ConfigStore.instance().store(name="gate_main", node=GateMain)


def load_config(overrides: Sequence[str]) -> GateMain:
    """Compose `gate_main` + conf/gate/<name>.yaml with overrides; every mistake is a ConfigError."""
    from harness.config.load import compose_object

    register()
    obj = compose_object(overrides, "gate_main", GateMain)
    for check in obj.gate.checks:
        _ = check.kind  # validates the one-of rule at start-up
    return obj
