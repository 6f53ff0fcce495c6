"""The demonstration: did tuning pay off, end to end, offline, on the embedded Gemma.

On real public data shipped in the repository: `banking77_demo`, eight intents of
Banking77 (PolyAI, CC BY 4.0), train items from the official train split only and
test items from the official test split only (tasks/banking77_demo/README.md).

    python -m harness.demo [key=value ...]      (./dev run does the set-up first)

1. evaluate the base model zero-shot on the task;
2. evaluate it k-shot (plain prompting, the honest baseline for tuning);
3. LoRA-tune it on the task's train split (CPU is fine);
4. evaluate the tuned variant zero-shot;
5. compare the variants to the base with paired statistics and print the verdict.

Every step is a normal run (MLflow + results/), and every step reuses cached
work: a second invocation re-scores from the response cache and reuses the
adapter, so it takes seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness.core.entry import run_entry

if TYPE_CHECKING:
    from harness.compare.api import CompareOutcome
    from harness.core.records import RunResult


@dataclass
class DemoConfig:
    task: str = "banking77_demo"
    model: str = "gemma3_270m"
    shots: int = 3
    limit: int | None = None  # test examples per evaluation (None: the whole test split)
    tuned_name: str = "gemma3_270m_banking77_lora"
    # requests per backend batch: log-likelihood scoring batches items x labels, and 8 rows
    # (the model config's default) would score one item at a time
    batch_size: int = 64
    tune: list[str] = field(default_factory=list)  # extra overrides for harness.tune (e.g. epochs=2)
    run: list[str] = field(default_factory=list)  # extra overrides for every evaluation (e.g. tracking.uri=...)
    margin: float = 0.02  # non-inferiority margin for the verdict
    min_n: int = 30


def parse(argv: Sequence[str]) -> DemoConfig:
    """key=value overrides of DemoConfig, validated by OmegaConf (types, unknown keys)."""
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from harness.config.load import explain
    from harness.core.errors import ConfigError

    for arg in argv:  # a malformed value (`limit=[1`) is a YAML error, not OmegaConf's: name the override
        try:
            OmegaConf.from_dotlist([arg])
        except yaml.YAMLError as exc:
            why = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"bad override {arg!r}: not a valid value ({why})") from None
        except OmegaConfBaseException:
            pass  # reported below, with the schema's context
    try:
        base = OmegaConf.structured(DemoConfig)
        merged = OmegaConf.merge(base, OmegaConf.from_dotlist(list(argv)))
        obj = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain(exc)) from None
    assert isinstance(obj, DemoConfig)
    return obj


def _step(title: str) -> None:
    from rich.console import Console

    Console().rule(f"[bold]{title}")


def run_demo(cfg: DemoConfig) -> int:
    """Runs the five steps; returns the process exit code (0 whatever the verdict)."""
    from harness.compare.api import run_compare
    from harness.compare.cli import console_lines
    from harness.compare.config import CompareConfig
    from harness.config.load import compose_run
    from harness.run.runner import evaluate
    from harness.tracking.recorder import tracking_uri
    from harness.tune.cli import load_config as load_tune_config
    from harness.tune.local import tune

    t0 = time.perf_counter()
    steps: list[tuple[str, float]] = []
    common = [f"task={cfg.task}", *([f"task.limit={cfg.limit}"] if cfg.limit else []),
              f"model.batch_size={cfg.batch_size}", *cfg.run]  # fmt: skip
    base_cfg = compose_run([*common, f"model={cfg.model}", "task.shots=0"])
    uri = tracking_uri(base_cfg.tracking)

    _step(f"1/5  {cfg.model} zero-shot on {cfg.task}")
    base0 = evaluate(base_cfg)
    steps.append(("base zero-shot", time.perf_counter() - t0))
    _step(f"2/5  {cfg.model} {cfg.shots}-shot (prompting baseline)")
    basek = evaluate(compose_run([*common, f"model={cfg.model}", f"task.shots={cfg.shots}"]))
    steps.append((f"base {cfg.shots}-shot", time.perf_counter() - t0 - sum(t for _, t in steps)))
    _step(f"3/5  LoRA-tune {cfg.model} on the {cfg.task} train split")
    tune_cfg = load_tune_config([f"task={cfg.task}", f"model={cfg.model}", f"name={cfg.tuned_name}",
                                 f"tracking.uri={uri}", *cfg.tune])
    tuned = tune(tune_cfg)  # type: ignore[arg-type]
    print(f"adapter: {tuned.adapter_dir} ({'reused' if tuned.cached else f'trained in {tuned.wall_s:.0f}s'}), "
          f"config: model={tuned.name}")
    steps.append(("LoRA tune", time.perf_counter() - t0 - sum(t for _, t in steps)))
    _step(f"4/5  {tuned.name} zero-shot")
    # merged into the base weights for inference: the same model, without the adapter's extra
    # matrix products on every layer (an unmerged LoRA doubled this step's time on the CPU)
    tuned0 = evaluate(compose_run([*common, f"model={tuned.name}", "task.shots=0", "model.adapter.merge=true"]))
    steps.append(("tuned zero-shot", time.perf_counter() - t0 - sum(t for _, t in steps)))
    _print_leakage([(f"{cfg.model} 0-shot", base0), (f"{cfg.model} {cfg.shots}-shot", basek),
                    (f"{tuned.name} 0-shot", tuned0)], base_cfg.task.primary_metric)  # fmt: skip
    _step("5/5  compare: did tuning pay off?")
    # no tuning_cost_usd: the tuned run's own tuning cost is found from its adapter's tuning run
    # (harness.compare.tuning), and the 3-shot prompt was not tuned, so nothing is charged to it
    outcome = run_compare(CompareConfig(
        baseline=str(base0.mlflow_run_id), candidates=[str(basek.mlflow_run_id), str(tuned0.mlflow_run_id)],
        margin=cfg.margin, min_n=cfg.min_n, tracking_uri=uri,
    ))
    print("\n".join(console_lines(outcome)))
    print(f"reports: {outcome.markdown}  {outcome.html}")
    # the honest question: does the tuned model beat just prompting the base, and when does tuning pay back?
    versus_prompting = run_compare(CompareConfig(
        baseline=str(basek.mlflow_run_id), candidates=[str(tuned0.mlflow_run_id)],
        margin=cfg.margin, min_n=cfg.min_n, tracking_uri=uri,
    ))
    print("\n".join(console_lines(versus_prompting)))
    print(f"reports: {versus_prompting.markdown}  {versus_prompting.html}")
    _print_flips(versus_prompting)
    steps.append(("compare", time.perf_counter() - t0 - sum(t for _, t in steps)))
    print("steps: " + ", ".join(f"{name} {secs:.0f}s" for name, secs in steps))
    print(f"demo finished in {time.perf_counter() - t0:.0f}s. See the runs side by side:")
    print(f"  .venv/bin/mlflow ui --backend-store-uri {uri}   # then open http://127.0.0.1:5000")
    return 0


LEAKAGE = ("exact", "ngram", "near", "template", "any")


def _print_leakage(runs: Sequence[tuple[str, RunResult]], primary: str) -> None:
    """Each compared run's leakage audit (harness.audit): the share of test items overlapping
    its training side, and the primary metric on all items and on the clean (unflagged) ones."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="leakage audit: share of test items overlapping each run's training side")
    for col in ("run", *LEAKAGE, "n clean", "primary (all)", "primary (clean)"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for label, r in runs:
        c = r.counters
        if "leakage.any" not in c:
            table.add_row(label, *(["not audited"] + [""] * (len(LEAKAGE) + 2)))
            continue
        clean = r.metrics.get(f"{primary}.clean")
        table.add_row(label, *(f"{c[f'leakage.{k}']:.1%}" for k in LEAKAGE), f"{int(c.get('n_clean', 0))}",
                      f"{r.metrics[primary].value:.4f}" if primary in r.metrics else "n/a",
                      f"{clean.value:.4f}" if clean else "n/a")  # fmt: skip
    Console().print(table)


def _print_flips(outcome: CompareOutcome, top: int = 3) -> None:
    """The first few items that flipped each way: the examples behind the verdict."""
    from harness.compare.examples import all_flips

    for group in all_flips(outcome.comparison):
        for title, items in (("better", group.better), ("worse", group.worse)):
            print(f"{len(items)} items {title} with {group.candidate.run.label}; e.g.:")
            for f in items[:top]:
                print(f"  {f.id}: {f.input[:70]!r} ref={f.reference!r} "
                      f"baseline={f.baseline_output!r} candidate={f.candidate_output!r}")
    print(f"all flipped items: {outcome.flips}")


def main(argv: Sequence[str] | None = None) -> int:
    return run_entry("harness.demo", __doc__ or "", lambda args: run_demo(parse(args)), argv)


if __name__ == "__main__":
    sys.exit(main())
