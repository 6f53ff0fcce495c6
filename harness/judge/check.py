"""`python -m harness.judge_check`: how well a judge agrees with grades that are known.

Two sources of known grades:

* known correctness (default): for each test item (up to `limit`), the
  item's own reference answer as the output to grade (correct) and a wrong
  one: another item's reference that differs from it (for classification,
  another label of `task.labels`). The judge's grade counts as "correct" when
  its score on the scale (worst 0, best 1) is at least `pass_at`. With a
  reference-guided judge the correct output equals the reference shown, so
  this measures whether the judge reads the reference and tells a wrong
  answer from a right one; it does not show how it grades paraphrases.
* human labels (`calibration=labels.jsonl`, harness.judge.calibration): the
  judge grades each labelled output; agreement is on the scale's grades.

Reported: accuracy and Cohen's kappa with bootstrap CIs (harness.judge.agreement),
invalid replies, the judge's cost; `CAUTION: weak judge` below `min_kappa`
(or `min_accuracy`). One MLflow run (tags harness.kind=judge_check,
harness.judge.identity, harness.judge.model, harness.judge.template_hash;
metrics judge.kappa, judge.accuracy with .ci_low/.ci_high) and
`<out_dir>/<task>/<judge>/<timestamp>/judge_check.json` plus grades.jsonl.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from harness.core.errors import ConfigError, DataError
from harness.core.records import Sample
from harness.judge import agreement as ag
from harness.judge.calibration import read_labels
from harness.judge.check_config import CheckResult, JudgeCheckConfig
from harness.judge.pointwise import Grade, grade, params_of
from harness.judge.rubric import Item, from_task

CORRECT, WRONG = "correct", "incorrect"


def known_items(samples: Sequence[Sample], task: Any) -> tuple[list[Item], list[str]]:
    """Each sample's reference (correct) and a wrong output: another label, or another item's reference."""
    labels = [str(x) for x in getattr(task, "labels", None) or []]
    refs = [s.target for s in samples]
    if not any(r.strip() for r in refs):
        raise DataError(f"task {task.name} has no reference answers: judge_check needs them (or calibration=)")
    items: list[Item] = []
    known: list[str] = []
    n = len(samples)
    for i, s in enumerate(samples):
        if not s.target.strip():
            continue
        wrong = _wrong_label(s, labels) if labels else next(
            (refs[(i + k) % n] for k in range(1, n) if refs[(i + k) % n].strip() not in ("", s.target.strip())), None)
        items.append(Item(f"{s.id}:correct", s.input, s.target, s.target, s))
        known.append(CORRECT)
        if wrong is not None:
            items.append(Item(f"{s.id}:wrong", s.input, wrong, s.target, s))
            known.append(WRONG)
    if WRONG not in known:
        raise DataError(f"task {task.name}: every reference is the same, so no wrong output can be made")
    return items, known


def _wrong_label(s: Sample, labels: Sequence[str]) -> str | None:
    others = [lab for lab in labels if lab != s.target]
    if not others:
        return None
    return others[sum(map(ord, s.id)) % len(others)]  # deterministic, spread over the other labels


def weak_reasons(a: ag.Agreement, cfg: JudgeCheckConfig) -> tuple[str, ...]:
    out = []
    k = a.kappa.value
    if math.isnan(k):
        out.append("kappa undefined (every item in one category)")
    elif k < cfg.min_kappa:
        out.append(f"kappa {k:.3f} < {cfg.min_kappa:g}")
    if cfg.min_accuracy > 0 and not a.accuracy.value >= cfg.min_accuracy:
        out.append(f"accuracy {a.accuracy.value:.3f} < {cfg.min_accuracy:g}")
    return tuple(out)


def run_check(cfg: JudgeCheckConfig, *, quiet: bool = False) -> CheckResult:
    """Grade known outputs (or human-labelled ones) with the task's judge; report and record agreement."""
    from harness.data.samples import load_task_data
    from harness.judge.model import open_judge, resolve_model
    from harness.run.runner import check_results_dir

    task = cfg.task
    if not 0.0 <= cfg.pass_at <= 1.0:
        raise ConfigError(f"pass_at must be in [0, 1], got {cfg.pass_at}")
    rubric = from_task(task)  # the scale and template, before any data or model
    resolve_model(task.judge.model, task.judge.model_overrides)  # an unknown judge model: one line, now
    check_results_dir(cfg.out_dir)
    if cfg.calibration:
        full = load_task_data(dataclasses.replace(task, limit=None), cfg.tracking.uri).test
        by_id = {s.id: s for s in full}
        labels = read_labels(cfg.calibration, rubric.grades, by_id, task.name)
        items = [Item(f"{lab.id}@{lab.line}", by_id[lab.id].input, lab.output, by_id[lab.id].target, by_id[lab.id])
                 for lab in labels]
        known, categories, mode = [lab.grade for lab in labels], list(rubric.grades), "calibration"
    else:
        limited = dataclasses.replace(task, limit=cfg.limit if cfg.limit is not None else task.limit)
        items, known = known_items(load_task_data(limited, cfg.tracking.uri).test, task)
        categories, mode = [WRONG, CORRECT], "known"
    judge = open_judge(task.judge.model, task.judge.model_overrides, params=params_of(task), cache=cfg.cache,
                       retry=cfg.retry, chunk_size=cfg.chunk_size)
    try:
        grades = grade(judge, rubric, items)
    finally:
        judge.close()
    judged = [g.grade for g in grades] if mode == "calibration" else [_verdict(g, cfg.pass_at) for g in grades]
    agr = ag.agreement(known, judged, categories, cfg.resamples, cfg.seed)
    result = CheckResult(
        task=task.name, judge=judge.name, identity=judge.identity, template_hash=rubric.template_hash, mode=mode,
        agreement=agr, grades=tuple(grades), known=tuple(known), ids=tuple(it.id for it in items),
        reasons=weak_reasons(agr, cfg), cost_usd=sum(g.cost_usd for g in grades), requests=judge.usage.requests,
        cached=judge.usage.cached, out_dir="", mlflow_run_id=None,
    )
    from harness.judge.check_report import console, record

    result = record(result, cfg, rubric, items)
    if not quiet:
        print(console(result, cfg), flush=True)
    return result


def _verdict(g: Grade, pass_at: float) -> str | None:
    if g.invalid:
        return None
    return CORRECT if g.value >= pass_at - 1e-12 else WRONG


