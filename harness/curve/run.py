"""`run_curve(cfg)`: the plain function behind `python -m harness.curve`.

1. Check everything a user can get wrong before any model work: an HF base
   model without an adapter, sizes positive, distinct and within the train split.
2. Evaluate the base model zero-shot and `task.shots`-shot on the test split:
   the horizontal bands.
3. For each size: `harness.tune.local.tune` on the first `size` examples of
   one seeded shuffle of the train split (nested subsets), then evaluate the
   variant zero-shot on the same test split. Adapters and responses are
   cached, so a re-run only re-scores.
4. Compare every size with the few-shot run (and the zero-shot run) with the
   paired statistics of harness.compare, Holm across the sizes, and state the
   crossing point (harness.curve.crossing).
5. Write the PNG and curve.json into <results_dir>/curve/<task>/<model>/<timestamp>/,
   and log both on one parent MLflow run (kind=curve), opened before any work;
   the tuning and evaluation runs are ordinary runs, linked to it as children
   (tracking.parent_run_id, as a sweep's cells are).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.config.schema import HFModelConfig, RunConfig, TaskConfig, TrackingConfig
from harness.core.errors import ConfigError
from harness.core.records import RunResult
from harness.curve.config import CurveConfig
from harness.curve.crossing import Step, crossing, sentence, steps
from harness.curve.plot import Point, draw

if TYPE_CHECKING:  # imported where used: MLflow and the tuning stack load only when a curve runs
    from harness.compare.runs import RunData
    from harness.compare.verdict import VerdictRules
    from harness.tracking.recorder import Tracker
    from harness.tune.local import TuneConfig

# keys of conf/tune.yaml the curve sets itself; a `tune=[...]` override of them would be silently lost
_OWNED = ("task", "model", "name", "max_train_examples", "seed", "nested", "adapters_dir", "conf_dir", "tracking")
_METHODS = {"lora": "LoRA", "ia3": "IA3", "prefix": "prefix tuning", "prompt": "prompt tuning"}


@dataclass(frozen=True)
class Reference:
    """The tuned sizes judged against one base run."""

    label: str  # "5-shot" / "0-shot"
    steps: tuple[Step, ...]
    sentence: str


@dataclass(frozen=True)
class CurveOutcome:
    """What a curve produced."""

    points: tuple[Point, ...]  # the base bands, then the tuned sizes in increasing order
    references: tuple[Reference, ...]  # the few-shot reference first when there is one
    out_dir: Path
    plot: Path
    table: Path
    mlflow_run_id: str | None
    wall_s: float


def check(cfg: CurveConfig) -> tuple[HFModelConfig, list[int]]:
    """The user's mistakes, before any model loads: one ConfigError each."""
    from harness.data.samples import load_task_data

    model, task = cfg.model, cfg.task
    if not isinstance(model, HFModelConfig):
        raise ConfigError(f"model={model.name}: the curve tunes locally and needs an HF model, not {model.backend!r}")
    if model.adapter.path:
        raise ConfigError(f"model={model.name} already has an adapter (model.adapter.path); give its base model")
    if not isinstance(task, TaskConfig):
        raise ConfigError("task: a task config is required")
    sizes = sorted(set(cfg.sizes))
    if not sizes or len(sizes) != len(cfg.sizes) or sizes[0] <= 0:
        raise ConfigError(f"sizes={list(cfg.sizes)}: give distinct positive training-set sizes, e.g. [25,50,100]")
    for override in cfg.tune:
        key = override.lstrip("+~").split("=", 1)[0].split(".", 1)[0]
        if key in _OWNED:
            raise ConfigError(f"tune=[{override}]: the curve sets {key!r} itself; set it on the curve (or drop it)")
    n_train = len(load_task_data(dataclasses.replace(task, shots=0, limit=None)).train)
    if sizes[-1] > n_train:
        raise ConfigError(
            f"sizes: {sizes[-1]} is larger than the train split of task {task.name} ({n_train} examples)"
        )
    if task.shots < 0:
        raise ConfigError(f"task.shots={task.shots}: must be 0 or more")
    return model, sizes


def run_curve(cfg: CurveConfig, say: Callable[[str], None] = print) -> CurveOutcome:
    """Tune at each size, evaluate everything on the same test split, judge, plot and log."""
    from harness.compare.verdict import VerdictRules
    from harness.tune.cli import load_config as load_tune_config
    from harness.tune.local import TuneConfig

    t0 = time.perf_counter()
    base, sizes = check(cfg)
    try:  # a bad `tune=[...]` override fails here, before any work
        tune_defaults = load_tune_config(cfg.tune)
    except ConfigError as exc:
        raise ConfigError(f"tune={list(cfg.tune)}: {exc}") from None
    assert isinstance(tune_defaults, TuneConfig)
    primary = cfg.task.primary_metric
    tracker = _start_parent(cfg, base, sizes) if cfg.tracking.enabled else None
    try:
        # the tuning and evaluation runs become the parent's children in the MLflow UI (as a sweep's cells do)
        children = dataclasses.replace(cfg.tracking, parent_run_id=tracker.run_id) if tracker else cfg.tracking
        bands, tuned, method = _measure(cfg, base, sizes, tune_defaults, children, say)
        rules = VerdictRules(margin=cfg.margin, alpha=cfg.alpha, min_n=cfg.min_n, max_mde=cfg.max_mde)
        paired = [(size, _run_data(r)) for size, r, _, _ in tuned]
        references = tuple(judge(method, label, _run_data(ref), paired, primary, rules) for label, ref in bands)
        points = tuple(
            [_point(label, None, r, primary) for label, r in bands]
            + [_point(f"n={size}", size, r, primary) for size, r, _, _ in tuned]
        )
        out = _out_dir(cfg)
        plot = draw(points, primary, f"{cfg.task.name}: {method} on {base.name} vs prompting", out / "curve.png",
                    f"{method} (0-shot)")
        rows = table_rows(points, references, tuned)
        table = out / "curve.json"
        summary = {"task": cfg.task.name, "base_model": base.name, "primary_metric": primary, "method": method,
                   "seed": cfg.seed, "sizes": sizes, "crossing": [r.sentence for r in references], "rows": rows}
        table.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        wall = time.perf_counter() - t0
        if tracker:
            _record(tracker, method, references, rows, [plot, table], wall)
    except BaseException as exc:
        if tracker:
            tracker.fail(f"{type(exc).__name__}: {exc}")
        raise
    return CurveOutcome(points, references, out, plot, table, tracker.run_id if tracker else None, wall)


def _measure(
    cfg: CurveConfig, base: HFModelConfig, sizes: Sequence[int], tune_defaults: TuneConfig, tracking: TrackingConfig,
    say: Callable[[str], None],
) -> tuple[list[tuple[str, RunResult]], list[tuple[int, RunResult, float, bool]], str]:
    """The base bands (few-shot first), then per size: tune (or reuse) and evaluate zero-shot."""
    from harness.tune.local import tune

    task = cfg.task
    zero_task = dataclasses.replace(task, shots=0)
    total = 1 + (task.shots > 0) + 2 * len(sizes)
    step = iter(range(1, total + 1))
    say(f"[{next(step)}/{total}] {base.name} 0-shot on {task.name}")
    bands = [("0-shot", _evaluate(cfg, zero_task, base, tracking))]
    if task.shots > 0:
        say(f"[{next(step)}/{total}] {base.name} {task.shots}-shot")
        bands.insert(0, (f"{task.shots}-shot", _evaluate(cfg, task, base, tracking)))
    confs = (Path(cfg.results_dir) / "curve" / "conf").resolve()
    tuned: list[tuple[int, RunResult, float, bool]] = []
    method = "tuned"
    for size in sizes:
        tcfg = dataclasses.replace(
            tune_defaults, task=task, model=base, name=f"{cfg.name}_n{size}", max_train_examples=size,
            seed=cfg.seed, nested=True, adapters_dir=cfg.adapters_dir, conf_dir=str(confs), tracking=tracking,
        )
        say(f"[{next(step)}/{total}] tune {tcfg.name} on {size} examples")
        made = tune(tcfg)
        variant = _variant(made.name, confs)
        method = _METHODS.get(variant.variant, variant.variant)
        how = "reused adapter" if made.cached else f"tuned in {made.wall_s:.0f}s"
        say(f"[{next(step)}/{total}] evaluate {made.name} ({how})")
        tuned.append((size, _evaluate(cfg, zero_task, variant, tracking), made.wall_s, made.cached))
    return bands, tuned, method


def _evaluate(cfg: CurveConfig, task: TaskConfig, model: HFModelConfig, tracking: TrackingConfig) -> RunResult:
    from harness.run.runner import evaluate

    run = RunConfig(task=task, model=model, tracking=tracking, cache=cfg.cache, results_dir=cfg.results_dir,
                    bootstrap_resamples=cfg.bootstrap_resamples, progress=False)
    return evaluate(run, quiet=True)


def _variant(name: str, confs: Path) -> HFModelConfig:
    """The tuned variant's model config, composed from the YAML the tune wrote, as `model=<name>` would be."""
    from harness.config.load import compose_run

    model = compose_run([f"model={name}", f"hydra.searchpath=[file://{confs}]"]).model
    assert isinstance(model, HFModelConfig)
    return model


def judge(method: str, label: str, ref: RunData, tuned: Sequence[tuple[int, RunData]], primary: str,
          rules: VerdictRules) -> Reference:
    """Each tuned size against one base run on the primary metric, Holm across the sizes."""
    from harness.compare.comparison import compare_runs

    if primary not in ref.score_names:  # a corpus metric (BLEU): nothing to pair example by example
        return Reference(label, (), f"{method} vs {label}: no paired verdict ({primary} is not a per-example metric)")
    comp = compare_runs(ref, [run for _, run in tuned], primary, rules, metrics=[primary])
    tried = steps(comp, [size for size, _ in tuned])
    return Reference(label, tried, sentence(method, label, tried))


def _run_data(result: RunResult) -> RunData:
    """The comparison's view of a finished run, straight from the RunResult (no MLflow round trip)."""
    from harness.compare.runs import ExampleRow, RunData

    rows = tuple(ExampleRow.from_row(e.to_row()) for e in result.examples)
    tags = {"harness.model": result.model, "harness.dataset_fingerprint": result.dataset_fingerprint}
    return RunData(result.mlflow_run_id or result.output_dir, result.model, tags, result.flat_metrics(), rows)


def _point(label: str, size: int | None, result: RunResult, primary: str) -> Point:
    mv = result.metrics.get(primary)
    if mv is None:
        raise ConfigError(f"task.primary_metric={primary!r} is not among the run's metrics: {sorted(result.metrics)}")
    return Point(label, size, mv.value, mv.ci_low, mv.ci_high, result.mlflow_run_id, result.output_dir)


def table_rows(points: Sequence[Point], refs: Sequence[Reference],
               tuned: Sequence[tuple[int, RunResult, float, bool]]) -> list[dict[str, Any]]:
    """One row per point: the metric with its CI, and per reference the paired delta, p and verdict."""
    tune_s = {size: (wall, cached) for size, _, wall, cached in tuned}
    rows = []
    for p in points:
        row: dict[str, Any] = {"model": p.label, "train_examples": p.size or 0, "value": p.value,
                               "ci_low": p.low, "ci_high": p.high, "run_id": p.run_id}
        if p.size is not None:
            row["tune_s"], row["adapter_reused"] = tune_s[p.size]
            for ref in refs:
                st = next((s for s in ref.steps if s.size == p.size), None)
                if st is not None:
                    key = "vs_" + ref.label.replace("-", "_")
                    row.update({f"{key}.delta": st.delta, f"{key}.delta_ci_low": st.low,
                                f"{key}.delta_ci_high": st.high, f"{key}.p_holm": st.p_holm,
                                f"{key}.verdict": st.verdict.value, f"{key}.beats": st.beats})
        rows.append(row)
    return rows


def _out_dir(cfg: CurveConfig) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    base = Path(cfg.results_dir) / "curve" / cfg.task.name / cfg.model.name
    for n in range(1000):
        folder = base / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a fresh folder under {base}")


def _start_parent(cfg: CurveConfig, base: HFModelConfig, sizes: Sequence[int]) -> Tracker:
    """The curve's MLflow run, opened before any work. No harness.model/harness.task tags: those select evaluations."""
    from harness.tracking.recorder import Tracker, flatten

    tracker = Tracker(cfg.tracking)
    params = flatten({"task": cfg.task.name, "base_model": base.name, "sizes": list(sizes), "seed": cfg.seed,
                      "shots": cfg.task.shots, "tune": list(cfg.tune), "primary_metric": cfg.task.primary_metric})
    tags = {"harness.kind": "curve", "harness.curve.task": cfg.task.name, "harness.curve.base_model": base.name}
    tracker.start(f"curve/{cfg.task.name}/{base.name}", params, tags)
    return tracker


def _record(tracker: Tracker, method: str, refs: Sequence[Reference], rows: Sequence[dict[str, Any]],
            files: Sequence[Path], wall: float) -> None:
    """The curve's results on its run: metrics per point, the crossing, the plot and the table; then FINISHED."""
    metrics = {"wall_s": wall}
    for row in rows:
        key = f"n{row['train_examples']}" if row["train_examples"] else row["model"].replace("-", "_")
        metrics[f"{key}.value"] = row["value"]
        for end in ("ci_low", "ci_high"):
            if row[end] is not None:
                metrics[f"{key}.{end}"] = row[end]
    for ref in refs:
        found = crossing(ref.steps)
        if found is not None:  # absent: not within the sizes tried
            metrics[f"crossing.vs_{ref.label.replace('-', '_')}"] = float(found)
    tracker.log_metrics(metrics)
    tracker.log_tags({
        "harness.curve.method": method,
        "harness.curve.runs": ",".join(str(r["run_id"]) for r in rows),
        "harness.curve.crossing": " | ".join(r.sentence for r in refs),
        "mlflow.note.content": "\n".join(r.sentence for r in refs),
    })
    tracker.log_artifacts(files)
    tracker.log_table(rows, "curve_table.json")
    tracker.finish()
