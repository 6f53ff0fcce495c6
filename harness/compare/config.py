"""Typed config of `python -m harness.compare` (conf/compare.yaml extends it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from harness.compare.verdict import VerdictRules

if TYPE_CHECKING:
    from harness.compare.judged import JudgeSettings


@dataclass
class CompareConfig:
    """Which runs to compare, against which metric, and where the reports go.

    `baseline` and each of `candidates` is an MLflow run id, or a model name
    that resolves to the latest FINISHED run of that model on `task`.
    """

    baseline: str = MISSING
    candidates: list[str] = MISSING
    # task=NAME selects conf/task/NAME.yaml (a config group, as for `python -m harness`);
    # tests and Python callers may give the task's name as a plain string
    task: Any = None
    baseline_tags: dict[str, str] = field(default_factory=dict)  # e.g. {harness.released: "true"}
    primary_metric: str = ""  # empty: the baseline run's `harness.primary_metric` tag
    metrics: list[str] = field(default_factory=list)  # empty: every per-example metric both runs have
    margin: float = 0.01  # non-inferiority margin, in the primary metric's units
    tuning_cost_usd: float = 0.0
    alpha: float = 0.05
    power: float = 0.8
    min_n: int = 30
    max_mde: float = 0.1
    min_saving: float = 0.10  # "cheaper" (verdict rule 3, break-even) needs this saving, shown (compare/cost.py)
    trust_timed_cost: bool = False  # credit wall-time savings without fewer tokens (runs timed on dedicated hardware)
    resamples: int = 2000
    seed: int = 0
    tracking_uri: str | None = None  # default: $MLFLOW_TRACKING_URI, else MLflow's default
    out_dir: str = "results/compare"  # reports go to <out_dir>/<timestamp>/
    log_to_mlflow: bool = True
    # export=path.jsonl: each candidate's failures (primary score < export_below) as tuning data
    # (harness/compare/export.py); several candidates write <stem>.c<i><suffix>
    export: str = ""
    export_below: float = 1.0
    # CAUTION: leakage when a compared run's share of leakage-flagged test items exceeds this (docs/audit.md)
    leakage_threshold: float = 0.05
    # judge=pairwise: a side-by-side judge (judge_model, any model config) compares each candidate's outputs
    # with the baseline's in both orders; its win rate joins the verdicts, labelled model-graded (docs/judges.md)
    judge: str = ""  # "" (none) | pairwise
    judge_model: str = ""  # conf/model/NAME.yaml
    judge_overrides: list[str] = field(default_factory=list)  # for the judge model, e.g. [model.concurrency=32]
    judge_template: str = ""  # a Jinja template file for the judge prompt; empty: the built-in one
    judge_retries: int = 2  # re-asks of an unparsable reply
    judge_max_new_tokens: int = 0  # 0: the judge's default (128); a local model needs few (A, B or tie): 8
    judge_min_consistency: float = 0.8  # CAUTION: weak judge below this position consistency
    judge_max_length_bias: float = 0.8  # ... or at |length bias r| >= this (significant at alpha)
    judge_min_kappa: float = 0.4  # ... or when judge_kappa (a judge_check result for this judge) is below this
    judge_kappa: float | None = None

    @property
    def task_name(self) -> str:
        """The task runs named by model are looked up on ('' when none was given)."""
        if self.task is None:
            return ""
        return self.task if isinstance(self.task, str) else str(self.task.name)

    def rules(self) -> VerdictRules:
        return VerdictRules(
            margin=self.margin,
            alpha=self.alpha,
            power=self.power,
            min_n=self.min_n,
            max_mde=self.max_mde,
            min_saving=self.min_saving,
            trust_timed_cost=self.trust_timed_cost,
            resamples=self.resamples,
            seed=self.seed,
        )

    def judge_settings(self) -> JudgeSettings | None:
        """The judge's settings, checked (None when judge is off); a ConfigError names a bad key."""
        from harness.compare.judged import MODES, JudgeSettings
        from harness.core.errors import ConfigError, suggest
        from harness.judge.pairwise import Thresholds, load_template

        if not self.judge:
            return None
        if self.judge not in MODES:
            raise ConfigError(f"judge={self.judge!r} is not a judge mode{suggest(self.judge, MODES)}; "
                              f"modes: {', '.join(MODES)}")
        if not self.judge_model:
            raise ConfigError("judge=pairwise needs judge_model=NAME (a model config, e.g. gemini_flash)")
        t = Thresholds(self.judge_min_consistency, self.judge_min_kappa, self.judge_max_length_bias, self.alpha)
        return JudgeSettings(self.judge_model, load_template(self.judge_template), self.judge_retries, t,
                             self.judge_kappa)


def register() -> None:
    """Idempotent: storing the same node twice replaces it."""
    ConfigStore.instance().store(group="schema", name="compare", node=CompareConfig)


def load_config(overrides: Sequence[str], config_name: str = "compare") -> CompareConfig:
    """Compose conf/<config_name>.yaml with command-line overrides into a CompareConfig.

    Every mistake (unknown key, wrong type, missing value) is a ConfigError.
    """
    from harness.config.load import compose_object

    register()
    obj = compose_object(overrides, config_name, CompareConfig)
    return obj
