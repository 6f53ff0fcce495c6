"""What `python -m harness.judge_check` writes: the console table, judge_check.json, grades.jsonl, one MLflow run.

How other commands find a check (harness.compare's weak-judge kappa): the
latest FINISHED MLflow run with tag `harness.judge.identity` equal to the
judge's `JudgeModel.identity` and metric `judge.kappa` (also tagged
`harness.kind=judge_check`, `harness.task`, `harness.judge.mode`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.judge.agreement import Estimate
from harness.judge.check_config import CAUTION, CheckResult, JudgeCheckConfig
from harness.judge.rubric import Item, Rubric


def summary(result: CheckResult, cfg: JudgeCheckConfig) -> dict[str, Any]:
    """The JSON-able summary (judge_check.json)."""
    a = result.agreement
    return {
        "task": result.task,
        "judge": result.judge,
        "identity": result.identity,
        "template_hash": result.template_hash,
        "mode": result.mode,
        "n": a.n,
        "n_invalid": a.n_invalid,
        "accuracy": _finite(asdict(a.accuracy)),
        "kappa": _finite(asdict(a.kappa)),
        "labels": list(a.labels),
        "confusion": [list(r) for r in a.confusion],  # rows: known grade, columns: the judge's
        "thresholds": {"min_kappa": cfg.min_kappa, "min_accuracy": cfg.min_accuracy, "pass_at": cfg.pass_at},
        "weak": result.weak,
        "reasons": list(result.reasons),
        "judge_cost_usd": result.cost_usd,
        "judge_requests": result.requests,
        "judge_cached": result.cached,
        "mlflow_run_id": result.mlflow_run_id,
    }


def _finite(d: dict[str, float]) -> dict[str, float | None]:
    """NaN (undefined) as null: judge_check.json stays strict JSON."""
    return {k: None if math.isnan(v) else v for k, v in d.items()}


def rows(result: CheckResult, items: Sequence[Item]) -> list[dict[str, Any]]:
    """One row per graded output (grades.jsonl)."""
    return [
        {"id": it.id, "input": it.input, "output": it.output, "reference": it.reference, "known": known,
         "judge_grade": g.grade, "judge_score": None if g.invalid else g.value, "rationale": g.rationale,
         "reply": g.reply, "attempts": g.attempts, "cost_usd": g.cost_usd}
        for it, g, known in zip(items, result.grades, result.known, strict=True)
    ]


def metrics(result: CheckResult) -> dict[str, float]:
    a = result.agreement
    out = {"judge.n": float(a.n), "judge.invalid": float(a.n_invalid),
           "judge.invalid_rate": a.n_invalid / a.n if a.n else 0.0, "judge.weak": 1.0 if result.weak else 0.0,
           "judge.cost_usd": result.cost_usd, "judge.requests": float(result.requests),
           "judge.cached": float(result.cached)}
    for name, est in (("judge.accuracy", a.accuracy), ("judge.kappa", a.kappa)):
        if not math.isnan(est.value):
            out[name] = est.value
        if not (math.isnan(est.low) or math.isnan(est.high)):
            out[f"{name}.ci_low"], out[f"{name}.ci_high"] = est.low, est.high
    return out


def record(result: CheckResult, cfg: JudgeCheckConfig, rubric: Rubric, items: Sequence[Item]) -> CheckResult:
    """Write the results folder and the MLflow run; the result with their places filled in."""
    from harness.run.results import mark_complete, new_output_dir, write_json, write_jsonl
    from harness.tracking.recorder import Tracker, flatten, git_commit

    out_dir = new_output_dir(cfg.out_dir, result.task, result.judge)
    write_jsonl(out_dir / "grades.jsonl", rows(result, items))
    run_id = None
    if cfg.tracking.enabled:
        tracker = Tracker(cfg.tracking)
        tags = {
            "harness.kind": "judge_check",
            "harness.task": result.task,
            "harness.judge.model": result.judge,
            "harness.judge.identity": result.identity,
            "harness.judge.template_hash": result.template_hash,
            "harness.judge.template": rubric.source,
            "harness.judge.grades": ",".join(rubric.grades),
            "harness.judge.mode": result.mode,
            "harness.git_commit": git_commit(),
        }
        tracker.start(f"judge_check/{result.task}/{result.judge}", flatten(asdict(cfg)), tags)
        try:
            run_id = tracker.run_id
            result = dataclasses.replace(result, out_dir=str(out_dir), mlflow_run_id=run_id)
            write_json(out_dir / "judge_check.json", summary(result, cfg))
            tracker.log_metrics(metrics(result))
            tracker.log_tags({"harness.judge.weak": "true" if result.weak else "false",
                              **({"harness.judge.caution": "; ".join(result.reasons)} if result.weak else {})})
            tracker.log_artifacts([out_dir / "judge_check.json", out_dir / "grades.jsonl"])
        except BaseException as exc:
            tracker.fail(f"{type(exc).__name__}: {exc}")
            raise
        tracker.finish()
    else:
        result = dataclasses.replace(result, out_dir=str(out_dir))
        write_json(out_dir / "judge_check.json", summary(result, cfg))
    mark_complete(Path(out_dir))
    return result


def _fmt(est: Estimate) -> tuple[str, str]:
    value = "n/a" if math.isnan(est.value) else f"{est.value:.3f}"
    ci = "" if math.isnan(est.low) else f"[{est.low:.3f}, {est.high:.3f}]"
    return value, ci


def console(result: CheckResult, cfg: JudgeCheckConfig) -> str:
    """The console report: what was checked, the two figures with CIs, the verdict on the judge."""
    a = result.agreement
    if result.mode == "known":
        what = (f"known correctness: {a.n} outputs of {result.task} (each item's reference as the correct output, "
                f"a wrong one beside it; 'correct' = score >= {cfg.pass_at:g})")
    else:
        what = f"human labels: {a.n} outputs of {result.task} from {cfg.calibration}"
    lines = [f"judge_check: judge {result.identity}", f"  {what}", "",
             f"  {'metric':<10} {'value':>7}  95% CI"]
    for name, est in (("accuracy", a.accuracy), ("kappa", a.kappa)):
        value, ci = _fmt(est)
        lines.append(f"  {name:<10} {value:>7}  {ci}")
    lines.append(f"  {'invalid':<10} {a.n_invalid:>7}  of {a.n} replies (counted as disagreements)")
    lines.append("")
    lines.append("  confusion (rows: known, columns: judge): " + ", ".join(a.labels))
    for label, row in zip(a.labels, a.confusion, strict=True):
        if any(row) or label != "<invalid>":
            lines.append(f"    {label:<12} " + " ".join(f"{x:>5}" for x in row))
    lines.append(f"  judge cost {result.cost_usd:.6f} USD, {result.requests} requests ({result.cached} cached)")
    if result.weak:
        lines.append(f"{CAUTION}: " + "; ".join(result.reasons))
    else:
        lines.append(f"judge OK: kappa >= {cfg.min_kappa:g}")
    where = f"mlflow run {result.mlflow_run_id}" if result.mlflow_run_id else "mlflow: off"
    lines.append(f"results: {result.out_dir}/judge_check.json, grades.jsonl; {where}")
    return "\n".join(lines)
