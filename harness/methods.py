"""Tuning methods side by side: which PEFT method pays off, and does any beat prompting?

    python -m harness.methods [task=NAME] [model=BASE] [methods=[lora,ia3,prefix,prompt]] [key=value ...]

1. evaluate the base model zero-shot and `task.shots`-shot on the test split;
2. for each method: tune it (harness.tune.local.tune) on the SAME train split
   with the same seed, then evaluate the variant zero-shot on the same test
   split (weight adapters, LoRA and IA3, merged into the base for inference);
3. one comparison (harness.compare.api.run_compare): baseline the base
   zero-shot, candidates the base few-shot and every method, Holm across all
   of them, each method's break-even priced at its own tuning cost (found
   through its adapter's tuning run), the leakage audit of every variant;
4. a second one against the base few-shot: does tuning beat just prompting?

A command of its own rather than a documented Hydra multirun: a multirun
cannot feed the run ids of its cells into one comparison, and the tuned
variants' configs go to <results_dir>/methods/conf (not the project's conf/),
which every evaluation here finds. Adapters, responses and tuning runs are
cached by content, so a re-run (or a run with fewer methods) re-scores in seconds.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import MISSING

from harness.config.schema import CacheConfig, HFModelConfig, TaskConfig, TrackingConfig
from harness.core.entry import EXIT_OK, run_entry
from harness.core.errors import ConfigError

if TYPE_CHECKING:
    from harness.compare.api import CompareOutcome
    from harness.core.records import RunResult
    from harness.tune.local import TuneConfig, TuneResult

HELP = """usage: python -m harness.methods [task=NAME] [model=BASE] [methods=[lora,ia3,prefix,prompt]] [key=value ...]

Tune several PEFT methods (lora, qlora, ia3, prefix, prompt) on the same train split, evaluate each
variant and the base model (0-shot and task.shots-shot) on the same test split, and compare them all
in one comparison against the base 0-shot (Holm across candidates, break-even at each method's own
tuning cost, the leakage audit of each), then the methods against the base few-shot.

  task.shots=3  task.limit=40  batch_size=64  merge=true  margin=0.02  min_n=30
  'tune=["max_train_examples=40","epochs=2","lora.rank=4","prefix.num_virtual_tokens=8"]'
  (a method's own settings, e.g. lora.*, reach only that method)  tracking.uri=sqlite:///mlflow.db
Docs: docs/models.md ("Methods side by side").  Config: conf/methods.yaml (schema harness/methods.py)
"""

# keys of conf/tune.yaml this command sets itself: a `tune=[...]` override of them would be lost
_OWNED = ("task", "model", "name", "method", "adapters_dir", "conf_dir", "tracking")
_MERGEABLE = ("lora", "ia3")  # adapters with weights to merge; prefix/prompt have none, QLoRA's base is 4-bit


@dataclass
class MethodsConfig:
    """Which methods to tune on which task, and how to judge them (conf/methods.yaml)."""

    task: Any = MISSING  # a task config (conf/task/); task.shots is the few-shot baseline
    model: Any = MISSING  # the HF base model config (conf/model/)
    methods: list[str] = field(default_factory=lambda: ["lora", "ia3", "prefix", "prompt"])
    name: str = MISSING  # tuned variants are <name>_<method>
    tune: list[str] = field(default_factory=list)  # overrides of conf/tune.yaml for every method
    merge: bool = True  # merge LoRA/IA3 adapters into the base for inference (same outputs, faster)
    # requests per backend batch: log-likelihood scoring batches items x labels (as harness.demo)
    batch_size: int = 64
    adapters_dir: str = "results/adapters"
    results_dir: str = "results"
    alpha: float = 0.05
    margin: float = 0.02  # non-inferiority margin for the verdicts
    min_n: int = 30
    max_mde: float = 0.1
    bootstrap_resamples: int = 1000
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)


@dataclass(frozen=True)
class MethodResult:
    """One method: its tune and its variant's evaluation."""

    method: str
    tuned: TuneResult
    run: RunResult


@dataclass(frozen=True)
class MethodsOutcome:
    """What the command produced: the base runs, every method, and the two comparisons."""

    zero_shot: RunResult
    few_shot: RunResult | None
    methods: tuple[MethodResult, ...]
    versus_base: CompareOutcome  # baseline base 0-shot; candidates: base few-shot and every method
    versus_prompting: CompareOutcome | None  # baseline base few-shot; candidates: every method
    wall_s: float


def register() -> None:
    """Store the schema as `methods_schema` (idempotent), so conf/methods.yaml is validated."""
    from hydra.core.config_store import ConfigStore

    from harness.config.load import setup

    setup()
    ConfigStore.instance().store(name="methods_schema", node=MethodsConfig)


def load_config(overrides: Sequence[str]) -> MethodsConfig:
    """Compose and validate conf/methods.yaml with overrides."""
    from harness.config.load import compose_object

    register()
    return compose_object(overrides, "methods", MethodsConfig)


def check(cfg: MethodsConfig) -> list[TuneConfig]:
    """Every user mistake before any model loads; the tune config of each method."""
    from harness.tune import methods as tm
    from harness.tune.cli import load_config as load_tune_config
    from harness.tune.local import TuneConfig, _check

    if not isinstance(cfg.model, HFModelConfig):
        raise ConfigError(f"model={cfg.model.name}: methods are tuned locally and need an HF model, "
                          f"not {cfg.model.backend!r}")  # fmt: skip
    if not isinstance(cfg.task, TaskConfig):
        raise ConfigError("task: a task config is required")
    if not cfg.methods:
        raise ConfigError(f"methods is empty; name at least one of {', '.join(tm.METHODS)}, e.g. methods=[lora,ia3]")
    if len(set(cfg.methods)) != len(cfg.methods):
        raise ConfigError(f"methods={list(cfg.methods)}: a method is named twice")
    if not cfg.tracking.enabled:
        raise ConfigError("tracking.enabled=false: the comparison reads the runs from MLflow; keep tracking on")
    if cfg.task.shots < 0:
        raise ConfigError(f"task.shots={cfg.task.shots}: must be 0 or more")
    for override in cfg.tune:
        key = override.lstrip("+~").split("=", 1)[0].split(".", 1)[0]
        if key in _OWNED:
            raise ConfigError(f"tune=[{override}]: harness.methods sets {key!r} itself; drop it from tune=")
    confs = str(_confs(cfg))
    out = []
    for method in cfg.methods:
        try:  # an unknown method, a bad setting, QLoRA without CUDA: refused here, before any work
            tcfg = load_tune_config([f"method={method}", *_for_method(cfg.tune, method)])
            assert isinstance(tcfg, TuneConfig)
            tcfg = dataclasses.replace(tcfg, task=cfg.task, model=cfg.model, name=f"{cfg.name}_{method}",
                                       adapters_dir=cfg.adapters_dir, conf_dir=confs, tracking=cfg.tracking)
            _check(tcfg)
        except ConfigError as exc:
            raise ConfigError(f"methods: {exc}") from None
        out.append(tcfg)
    return out


def _for_method(overrides: Sequence[str], method: str) -> list[str]:
    """The tune overrides that reach `method`: all but another method's own settings node."""
    from harness.tune.methods import _NODES

    nodes = {node for nodes in _NODES.values() for node in nodes}
    return [o for o in overrides if (head := o.lstrip("+~").split(".", 1)[0]) not in nodes or head in _NODES[method]]


def _confs(cfg: MethodsConfig) -> Path:
    return (Path(cfg.results_dir) / "methods" / "conf").resolve()


def run_methods(cfg: MethodsConfig, say: Callable[[str], None] = print) -> MethodsOutcome:
    """Evaluate the base, tune and evaluate every method, compare them all."""
    from harness.tune.local import tune

    t0 = time.perf_counter()
    tune_cfgs = check(cfg)
    task, base = cfg.task, dataclasses.replace(cfg.model, batch_size=cfg.batch_size)
    zero_task = dataclasses.replace(task, shots=0)
    total = 1 + (task.shots > 0) + 2 * len(tune_cfgs)
    step = iter(range(1, total + 1))
    say(f"[{next(step)}/{total}] {base.name} 0-shot on {task.name}")
    zero = _evaluate(cfg, zero_task, base)
    few = None
    if task.shots > 0:
        say(f"[{next(step)}/{total}] {base.name} {task.shots}-shot (the prompting baseline)")
        few = _evaluate(cfg, task, base)
    done = []
    for tcfg in tune_cfgs:
        say(f"[{next(step)}/{total}] tune {tcfg.method}: {tcfg.name} on the {task.name} train split")
        made = tune(tcfg)
        how = "reused adapter" if made.cached else f"tuned in {made.wall_s:.0f}s, ${made.cost_usd:.4f}"
        say(f"[{next(step)}/{total}] evaluate {made.name} 0-shot ({how})")
        variant = _variant(made.name, _confs(cfg), cfg.batch_size, cfg.merge and tcfg.method in _MERGEABLE)
        done.append(MethodResult(tcfg.method, made, _evaluate(cfg, zero_task, variant)))
    versus_base = _compare(cfg, zero, [*([few] if few else []), *(m.run for m in done)])
    versus_prompting = _compare(cfg, few, [m.run for m in done]) if few else None
    return MethodsOutcome(zero, few, tuple(done), versus_base, versus_prompting, time.perf_counter() - t0)


def _evaluate(cfg: MethodsConfig, task: TaskConfig, model: HFModelConfig) -> RunResult:
    from harness.config.schema import RunConfig
    from harness.run.runner import evaluate

    run = RunConfig(task=task, model=model, tracking=cfg.tracking, cache=cfg.cache, results_dir=cfg.results_dir,
                    bootstrap_resamples=cfg.bootstrap_resamples, progress=False)  # fmt: skip
    return evaluate(run, quiet=True)


def _variant(name: str, confs: Path, batch_size: int, merge: bool) -> HFModelConfig:
    """The tuned variant's model config, composed from the YAML the tune wrote (as `model=<name>` would be)."""
    from harness.config.load import compose_run

    model = compose_run([f"model={name}", f"hydra.searchpath=[file://{confs}]"]).model
    assert isinstance(model, HFModelConfig)
    return dataclasses.replace(model, batch_size=batch_size, adapter=dataclasses.replace(model.adapter, merge=merge))


def _compare(cfg: MethodsConfig, baseline: RunResult, candidates: Sequence[RunResult]) -> CompareOutcome:
    from harness.compare.api import run_compare
    from harness.compare.config import CompareConfig
    from harness.tracking.recorder import tracking_uri

    return run_compare(CompareConfig(
        baseline=str(baseline.mlflow_run_id), candidates=[str(r.mlflow_run_id) for r in candidates],
        margin=cfg.margin, alpha=cfg.alpha, min_n=cfg.min_n, max_mde=cfg.max_mde,
        tracking_uri=tracking_uri(cfg.tracking), out_dir=str(Path(cfg.results_dir) / "compare"),
    ))  # fmt: skip


def print_outcome(outcome: MethodsOutcome) -> None:
    """One table of the methods, then what `python -m harness.compare` prints for each comparison."""
    from harness.compare.cli import console_lines

    print("method | trainable params | tune wall s | tuning USD | adapter")
    for m in outcome.methods:
        t = m.tuned
        print(f"{m.method} | {t.trainable_params:,} | {t.wall_s:.0f} | {t.cost_usd:.4f} | "
              f"{'reused ' if t.cached else ''}{t.adapter_dir}")  # fmt: skip
    for title, comp in (("against the base 0-shot", outcome.versus_base),
                        ("against the base few-shot (prompting)", outcome.versus_prompting)):  # fmt: skip
        if comp is None:
            continue
        print(f"== {title}")
        print("\n".join(console_lines(comp)))
        print(f"reports: {comp.markdown}  {comp.html}")
    print(f"methods finished in {outcome.wall_s:.0f}s")


def _body(argv: list[str]) -> int:
    print_outcome(run_methods(load_config(argv), say=lambda line: print(line, file=sys.stderr, flush=True)))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Exit code 0 whatever the verdicts; 2 with one line on stderr for a user mistake."""
    return run_entry("harness.methods", HELP, _body, argv)


if __name__ == "__main__":
    sys.exit(main())
