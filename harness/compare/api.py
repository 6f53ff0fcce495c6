"""`run_compare()`: the plain function behind `python -m harness.compare`.

The I/O around the pure `comparison.compare_runs`: finding runs in MLflow,
writing the reports, logging a comparison run.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from harness.compare import examples, leakage, tuning
from harness.compare import runs as rn
from harness.compare.comparison import Comparison, compare_runs, to_json
from harness.compare.config import CompareConfig
from harness.core.errors import ConfigError

if TYPE_CHECKING:
    from harness.compare.judged import JudgeView, Opener


@dataclass(frozen=True)
class CompareOutcome:
    comparison: Comparison
    out_dir: Path
    markdown: Path
    html: Path
    mlflow_run_id: str | None
    flips: Path | None = None  # every flipped item (flips.jsonl beside report.md)
    exports: tuple[Path, ...] = ()  # export=...: the candidates' failures as tuning data
    leakage: leakage.LeakageView | None = None  # verdicts on the clean subset, CAUTION: leakage
    judge: JudgeView | None = None  # judge=pairwise: the judge, its quality, CAUTION: weak judge


def load_runs(cfg: CompareConfig) -> tuple[rn.RunData, list[rn.RunData]]:
    """Resolve the configured baseline and candidates to finished runs with their examples."""
    if not cfg.candidates:
        raise ConfigError("compare: `candidates` is empty; name at least one run id or model")
    base = rn.find_run(rn.Selector(cfg.baseline, cfg.task_name, cfg.baseline_tags), cfg.tracking_uri)
    cands = [rn.find_run(rn.Selector(ref, cfg.task_name), cfg.tracking_uri) for ref in cfg.candidates]
    return base, cands


def run_compare(cfg: CompareConfig, now: datetime | None = None, judge_opener: Opener | None = None) -> CompareOutcome:
    """Load, compare, write reports under out_dir/<timestamp>/, log a comparison run.

    `judge_opener` opens the judge model of judge=pairwise by name (default: harness.judge.model).
    """
    from harness.compare import judge_report, judged, report

    judging = cfg.judge_settings()  # a bad judge key fails before any run is read
    base, cands = load_runs(cfg)
    primary = cfg.primary_metric or base.tag("primary_metric")
    if not primary:
        raise ConfigError(f"compare: set primary_metric=...; run {base.run_id} has no harness.primary_metric tag")
    jv = None
    if judging:  # after every check that needs no judge: judging can take a while
        base, cands, jv = judged.judge_runs(judging, base, cands, judge_opener or default_opener(cfg),
                                            judged.find_kappa(cfg.tracking_uri))
    costs = tuning.tuning_costs(cands, cfg.tracking_uri)  # each tuned candidate's own cost; else the config's
    comp = compare_runs(base, cands, primary, cfg.rules(), cfg.tuning_cost_usd, cfg.metrics or None, costs)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    out = Path(cfg.out_dir) / stamp
    out.mkdir(parents=True, exist_ok=True)
    md = out / "report.md"
    html = out / "report.html"
    lv = leakage.view(comp, cfg.leakage_threshold, cfg.metrics or None)
    md_text, html_text = leakage.with_markdown(report.markdown(comp), lv), leakage.with_html(report.html(comp), lv)
    if jv:
        md_text, html_text = judge_report.with_markdown(md_text, jv), judge_report.with_html(html_text, jv)
    md.write_text(md_text, encoding="utf-8")
    html.write_text(html_text, encoding="utf-8")
    summary = {**to_json(comp), "leakage": {"caution": lv.caution, "reasons": list(lv.reasons),
                                            "verdicts": [dataclasses.asdict(v) for v in lv.verdicts]}}
    if jv:
        summary["judge"] = judge_report.to_json(jv)
        judge_report.write_jsonl(out / judge_report.JUDGEMENTS_FILE, jv)
    (out / "comparison.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    flips = out / examples.FLIPS_FILE
    examples.write_jsonl(flips, examples.all_flips(comp))
    exported = export_failures(cfg, comp)
    run_id = log_comparison(comp, out, cfg.tracking_uri) if cfg.log_to_mlflow else None
    if run_id:
        leakage.log_tags(run_id, cfg.tracking_uri, lv)
    if run_id and jv:
        judge_report.log_mlflow(run_id, cfg.tracking_uri, jv, out / judge_report.JUDGEMENTS_FILE)
    return CompareOutcome(comp, out, md, html, run_id, flips, exported, lv, jv)


def default_opener(cfg: CompareConfig) -> Opener:
    """Open the judge model by config name through harness.judge.model (cache, retries, concurrency, cost)."""
    from harness.judge.model import DEFAULT_PARAMS, open_judge

    tokens = cfg.judge_max_new_tokens or DEFAULT_PARAMS.max_new_tokens
    params = dataclasses.replace(DEFAULT_PARAMS, max_new_tokens=tokens)
    return lambda name: open_judge(name, cfg.judge_overrides, params=params)


def export_failures(cfg: CompareConfig, comp: Comparison) -> tuple[Path, ...]:
    """export=path: each candidate's failures in its tuning format (harness.compare.export)."""
    if not cfg.export:
        return ()
    from harness.compare import export
    from harness.config.load import compose_run
    from harness.config.schema import TaskConfig

    paths = export.export_paths(cfg.export, len(comp.candidates))
    for path, c in zip(paths, comp.candidates, strict=True):
        task = cfg.task if isinstance(cfg.task, TaskConfig) else None
        if task is None:  # compose the task the candidate ran, by name
            name = cfg.task_name or c.run.tag("task")
            if not name:
                raise ConfigError(f"export: run {c.run.run_id} has no harness.task tag; give task=NAME")
            task = compose_run([f"task={name}"]).task
        n = export.export_failures(c.run, comp.primary, cfg.export_below, task, path)
        print(f"export: {n} failures of {c.run.label} ({comp.primary} < {cfg.export_below:g}) -> {path}")
    return tuple(paths)


def log_comparison(comp: Comparison, out: Path, tracking_uri: str | None) -> str:
    """A run in the baseline's experiment, tagged with the compared run ids, reports attached."""
    from mlflow.entities import Metric, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    exp_id = client.get_run(comp.baseline.run_id).info.experiment_id
    tags = {
        "harness.kind": "comparison",
        "harness.compare.task": comp.baseline.tag("task"),
        "harness.compare.baseline": comp.baseline.run_id,
        "harness.compare.candidates": ",".join(c.run.run_id for c in comp.candidates),
        "harness.compare.primary_metric": comp.primary,
        "harness.compare.verdict": "; ".join(f"{c.run.run_id}={c.verdict.value}" for c in comp.candidates),
        "mlflow.note.content": comp.headline() + "\n\n" + _run_links(comp, exp_id),
        # one tag per compared run, so a search (`tags."harness.compare.run.baseline" = '<id>'`) finds it
        "harness.compare.run.baseline": comp.baseline.run_id,
        **{f"harness.compare.run.c{i}": c.run.run_id for i, c in enumerate(comp.candidates)},
    }
    run = client.create_run(exp_id, run_name=f"compare-{comp.baseline.run_id[:8]}", tags=tags)
    run_id = str(run.info.run_id)
    metrics = []
    for i, c in enumerate(comp.candidates):
        for mc in c.metrics:
            key = f"c{i}.{mc.metric}"
            metrics += [Metric(f"{key}.delta", mc.delta.estimate, 0, 0), Metric(f"{key}.p_holm", mc.p_holm, 0, 0)]
            metrics += [Metric(f"{key}.delta_ci_low", mc.delta.low, 0, 0), Metric(f"{key}.mde", mc.mde, 0, 0)]
            rel = examples.relative_change(mc.baseline_mean, mc.candidate_mean)
            metrics += [Metric(f"{key}.rel_change", rel, 0, 0)] if rel is not None else []
    client.log_batch(run_id, metrics=metrics[:1000], tags=[RunTag("harness.compare.out_dir", str(out))])
    for name in ("report.md", "report.html", "comparison.json", examples.FLIPS_FILE):
        if (out / name).exists():
            client.log_artifact(run_id, str(out / name))
    client.set_terminated(run_id, "FINISHED")
    return run_id


def _run_links(comp: Comparison, exp_id: str) -> str:
    """Markdown links (the run page's description) to the compared runs in MLflow's UI."""
    runs = [("baseline", comp.baseline), *((f"candidate {i}", c.run) for i, c in enumerate(comp.candidates))]

    def text(label: str) -> str:  # a label holds "[run id]": escaped, or the link breaks
        return label.replace("[", "\\[").replace("]", "\\]")

    return "\n".join(f"- {role}: [{text(r.label)}](#/experiments/{exp_id}/runs/{r.run_id})" for role, r in runs)
