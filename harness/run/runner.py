"""The run loop: samples -> requests -> cache/backend -> scorers -> aggregates -> records.

`evaluate(cfg)` is the plain function behind `python -m harness`; tests call
it directly. Everything that can be checked without the model (names,
data, templates, opt-ins, backend capabilities) is checked before the
model loads, so a user's mistake costs seconds, not a model load.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.backends.base import BACKENDS, BackendIdentity, Capability
from harness.config.schema import RunConfig
from harness.core.cost import cost_usd
from harness.core.errors import ConfigError, RunFailed, suggest
from harness.core.progress import progress_bar
from harness.core.records import ExampleResult, GenerationParams, Request, RequestKind, RunResult, Score
from harness.data.prompts import PromptBuilder, assets_dir
from harness.data.samples import load_task_data
from harness.kinds.base import KINDS
from harness.run import aggregate, leakage
from harness.run.cache import ResponseCache
from harness.run.generation import generate_all
from harness.run.plugins import load_plugins
from harness.run.results import mark_complete, new_output_dir, print_summary, write_json, write_jsonl
from harness.scorers.base import (
    CORPUS_METRICS,
    SCORER_HOOKS,
    SCORERS,
    CorpusFn,
    ScoreInput,
    ScorerFn,
    ScoringContext,
    preload,
)
from harness.tracking.genai import EvalRecord, record_genai
from harness.tracking.journal import PENDING_DIR
from harness.tracking.pending import replay_before_run
from harness.tracking.recorder import Tracker, flatten, git_commit

log = logging.getLogger(__name__)


def evaluate(cfg: RunConfig, *, quiet: bool = False) -> RunResult:
    """Run one (task, model) cell end to end and record it."""
    t_start = time.perf_counter()
    load_plugins()
    task, model = cfg.task, cfg.model
    kind = KINDS.get(task.kind, "task.kind")
    plugin = BACKENDS.get(model.backend, "model.backend")
    scorer_fns, corpus_fns = resolve_scorers(task.scorers)
    check_scorers(scorer_fns, task)  # e.g. the judge: its scale, template and model, before any model work
    if kind.needs_code_execution(task) and not cfg.allow_code_execution:
        raise ConfigError(
            f"task {task.name!r} runs model-written code; it runs only in the sandbox and only when you add "
            "allow_code_execution=true to the command line"
        )
    assets = assets_dir(task)
    kind.check(task, (), assets)  # config-only checks (language, schema, labels) before touching data
    check_results_dir(cfg.results_dir)
    data = load_task_data(task, cfg.tracking.uri)  # the store a mlflow-dataset: path is read from
    kind.check(task, data.test, assets)
    audit = leakage.audit_stage(cfg, data)  # before the MLflow run: a bad model.tuning_data leaves none behind
    builder = PromptBuilder(task, data.train)
    params = _params(task)
    requests = [kind.request(s, builder.render(s), builder.system, params, task) for s in data.test]
    check_capabilities(requests, plugin.capabilities_for(model), model.name)
    identity = plugin.identify(model)
    if plugin.check_credentials:  # a missing key: one line, before any request and before the MLflow run
        plugin.check_credentials(model)

    # the cache opens first: an unreadable cache file must not leave an MLflow run RUNNING behind
    cache = ResponseCache(Path(cfg.cache.path)) if cfg.cache.enabled else None
    # a tracking server lost mid-run: the run goes on, its MLflow writes wait in <results_dir>/.mlflow-pending
    tracker = Tracker(cfg.tracking, Path(cfg.results_dir) / PENDING_DIR) if cfg.tracking.enabled else None
    if tracker:
        replay_before_run(Path(cfg.results_dir), tracker.uri, quiet)  # earlier runs' pending writes, if any
        tracker.start(f"{task.name}/{model.name}", flatten(asdict(cfg)),
                      {**_tags(cfg, identity, data.fingerprint), **leakage.tags(audit[0])})
    try:
        result = _run(
            cfg,
            requests,
            data.test,
            identity,
            plugin,
            cache,
            tracker,
            scorer_fns,
            corpus_fns,
            kind,
            data.fingerprint,
            t_start,
            quiet,
            audit,
        )
    except BaseException as exc:
        if tracker:
            tracker.fail(f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if cache:
            cache.close()
    return result


def _run(
    cfg: RunConfig,
    requests: list[Request],
    samples: Sequence[Any],
    identity: BackendIdentity,
    plugin: Any,
    cache: ResponseCache | None,
    tracker: Tracker | None,
    scorer_fns: dict[str, ScorerFn],
    corpus_fns: dict[str, CorpusFn],
    kind: Any,
    fingerprint: str,
    t_start: float,
    quiet: bool,
    audit: tuple[Any, float] = (None, 0.0),  # (AuditResult | None, seconds) from leakage.audit_stage
) -> RunResult:
    task, model = cfg.task, cfg.model
    importing: list[Any] = []  # scorer imports overlap generation; a fully cached run has none to overlap
    setup_s = time.perf_counter() - t_start  # config, data, prompts, cache and MLflow run start
    with progress_bar(len(requests), f"{task.name} × {model.name}", enabled=cfg.progress and not quiet) as advance:
        responses, gstats = generate_all(
            requests, identity, plugin, model, cache, cfg.retry, cfg.chunk_size, progress=advance,
            before_load=lambda: importing.append(preload([*scorer_fns, *corpus_fns])),
        )
    t_scored = time.perf_counter()
    for thread in filter(None, importing):
        thread.join()  # a wait here (imports slower than generation) counts as scoring time
    items = [ScoreInput(s, r) for s, r in zip(samples, responses, strict=True)]
    ctx = ScoringContext(allow_code_execution=cfg.allow_code_execution, run=cfg)
    scores = merge_scores([fn(items, task, ctx) for fn in scorer_fns.values()], len(items))
    costs = [cost_usd(r, model.prices) for r in responses]
    examples = tuple(
        ExampleResult(s, q, r, sc, c)
        for s, q, r, sc, c in zip(samples, requests, responses, scores, costs, strict=True)
    )
    metrics = aggregate.per_example_metrics(scores, cfg.bootstrap_resamples, seed=task.seed)
    metrics.update(aggregate.corpus_metrics(corpus_fns, items, scores, task, cfg.bootstrap_resamples, seed=task.seed))
    clean, leak = leakage.clean_metrics(audit[0], corpus_fns, items, scores, task, cfg.bootstrap_resamples)
    metrics.update(clean)  # <metric>.clean: the aggregates on the items the leakage audit did not flag
    counters = {**aggregate.counters(responses, costs), **leak}
    score_s = time.perf_counter() - t_scored

    t_write = time.perf_counter()
    out_dir = new_output_dir(cfg.results_dir, task.name, model.name)
    if tracker:
        tracker.attach_results(out_dir)  # marked MLFLOW_PENDING if the tracking server is lost
    result = RunResult(
        task.name,
        model.name,
        metrics,
        examples,
        counters,
        str(out_dir),
        fingerprint,
        tracker.run_id if tracker else None,
    )
    rows = [e.to_row() for e in examples]
    leakage.add_flags(rows, audit[0])
    write_jsonl(out_dir / "predictions.jsonl", rows)
    write_json(out_dir / "metrics.json", result.flat_metrics())
    _write_config(out_dir / "config.yaml", cfg)
    artifacts = kind.artifacts(examples, task, out_dir)
    timing = {
        "timing.setup_s": setup_s,
        "timing.audit_s": audit[1],  # part of setup_s
        "timing.model_load_s": gstats.load_s,
        "timing.generate_s": gstats.generate_s,
        "timing.score_s": score_s,
        "timing.write_s": time.perf_counter() - t_write,  # results/ files and artifacts
        "cache.hits": float(gstats.n_cached),
        "cache.generated": float(gstats.n_generated),
        "cache.model_loaded": float(gstats.model_loaded),
    }
    error_rate = counters["error_rate"]
    failed = error_rate > cfg.retry.max_error_rate
    if tracker:
        t_track = time.perf_counter()
        tracker.log_metrics({**result.flat_metrics(), **timing})
        scoring = {f"harness.scoring.{k}": v for k, v in kind.run_params(items, task).items()}
        scoring.update(scorer_tags(scorer_fns, task, ctx))  # e.g. harness.judge.identity, .template_hash
        tracker.log_tags({"harness.status": "failed" if failed else "complete", **scoring})
        tracker.log_artifacts(
            [out_dir / "predictions.jsonl", out_dir / "metrics.json", out_dir / "config.yaml", *artifacts]
        )
        tracker.log_table(rows)
        t_genai = time.perf_counter()  # dataset input, prompt version, per-example traces (best effort)
        record_genai(tracker, EvalRecord(task, model.name, identity.model, examples, fingerprint, cfg.tracking.traces,
                                         gstats.generate_s, score_s, model.prices))
        timing["timing.genai_s"] = time.perf_counter() - t_genai
        timing["timing.tracking_s"] = time.perf_counter() - t_track
    timing["timing.wall_s"] = time.perf_counter() - t_start
    write_json(out_dir / "timing.json", timing)
    if failed:
        raise RunFailed(
            f"{int(counters['n_errors'])} of {len(examples)} examples ended in error ({error_rate:.1%} > "
            f"retry.max_error_rate={cfg.retry.max_error_rate:.1%}); finished answers are cached, re-run to resume"
        )
    if tracker:
        tracker.finish()
    mark_complete(out_dir)  # last: a folder still marked INCOMPLETE is from a killed or failed run
    if not quiet:
        print_summary(result, task.primary_metric, {k: v for k, v in timing.items() if k.startswith("timing.")})
    leakage.report(audit[0], samples, cfg.audit.warn_at, quiet)
    return result


def check_results_dir(results_dir: str) -> None:
    """Fail before any model work when results cannot be written (the answers would be cached, but why wait)."""
    from harness.core.errors import UserError

    path = Path(results_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create results_dir={results_dir}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK):
        raise UserError(f"results_dir={results_dir} is not writable")


def resolve_scorers(names: Sequence[str]) -> tuple[dict[str, ScorerFn], dict[str, CorpusFn]]:
    """Split task.scorers into per-example scorers and corpus metrics; unknown names fail."""
    per: dict[str, ScorerFn] = {}
    corpus: dict[str, CorpusFn] = {}
    for name in names:
        if name in SCORERS:
            per[name] = SCORERS.get(name)
        elif name in CORPUS_METRICS:
            corpus[name] = CORPUS_METRICS.get(name)
        else:
            known = SCORERS.names() + CORPUS_METRICS.names()
            raise ConfigError(
                f"unknown scorer {name!r} at task.scorers{suggest(name, known)}; known: {', '.join(known)}"
            )
    return per, corpus


def check_scorers(scorer_fns: dict[str, ScorerFn], task: Any) -> None:
    """The config checks of scorers that declared one (SCORER_HOOKS), before data and models load."""
    for name in scorer_fns:
        hook = SCORER_HOOKS.get(name).check if name in SCORER_HOOKS else None
        if hook:
            hook(task)


def scorer_tags(scorer_fns: dict[str, ScorerFn], task: Any, ctx: ScoringContext) -> dict[str, str]:
    """The MLflow tags of scorers that declared some (SCORER_HOOKS)."""
    tags: dict[str, str] = {}
    for name in scorer_fns:
        hook = SCORER_HOOKS.get(name).run_tags if name in SCORER_HOOKS else None
        if hook:
            tags.update(hook(task, ctx))
    return tags


def merge_scores(batches: Sequence[Sequence[Score]], n: int) -> list[Score]:
    """Combine the Scores several scorers gave one example."""
    merged: list[Score] = []
    for i in range(n):
        values: dict[str, float] = {}
        details: dict[str, Any] = {}
        for batch in batches:
            values.update(batch[i].values)
            details.update(batch[i].details)
        merged.append(Score(values, details))
    return merged


def check_capabilities(requests: Sequence[Request], caps: frozenset[Capability], model: str) -> None:
    """Refuse work a backend declared it cannot do, before loading it."""
    need = {
        Capability.CHOICES: any(r.kind is RequestKind.CHOICES for r in requests),
        Capability.JSON_SCHEMA: any(r.params.json_schema for r in requests),
        Capability.CANDIDATES: any(r.params.n > 1 for r in requests),
        Capability.SAMPLING: any(not r.params.greedy for r in requests),
    }
    for cap, needed in need.items():
        if needed and cap not in caps:
            raise ConfigError(f"model {model!r} cannot do {cap.value!r}, which this task needs (see docs/models.md)")


def _params(task: Any) -> GenerationParams:
    g = task.generation
    return GenerationParams(
        max_new_tokens=g.max_new_tokens,
        temperature=g.temperature,
        top_p=g.top_p,
        top_k=g.top_k,
        stop=tuple(g.stop),
        seed=g.seed,
    )


def _tags(cfg: RunConfig, identity: BackendIdentity, fingerprint: str) -> dict[str, str]:
    tags = {
        "harness.task": cfg.task.name,
        "harness.task_kind": cfg.task.kind,
        "harness.model": cfg.model.name,
        "harness.backend": identity.backend,
        "harness.model_id": identity.model,
        "harness.revision": identity.revision,
        "harness.adapter": identity.adapter,
        "harness.variant": cfg.model.variant,
        "harness.base_model": cfg.model.base_model or cfg.model.name,
        "harness.shots": str(cfg.task.shots),
        "harness.dataset_fingerprint": fingerprint,
        "harness.git_commit": git_commit(),
        "harness.primary_metric": cfg.task.primary_metric,
    }
    if cfg.sweep_id:
        tags["harness.sweep"] = cfg.sweep_id
    return tags


def _write_config(path: Path, cfg: RunConfig) -> None:
    from dataclasses import replace

    from omegaconf import OmegaConf

    from harness.run.results import write_atomic
    from harness.tracking.journal import redact_uri

    if cfg.tracking.uri:  # a password in the tracking URI stays out of results/ and the artifact
        cfg = replace(cfg, tracking=replace(cfg.tracking, uri=redact_uri(cfg.tracking.uri)))
    write_atomic(path, OmegaConf.to_yaml(OmegaConf.structured(cfg)))
