"""What the reports say about a side-by-side judge: console lines, Markdown and HTML sections, JSON, MLflow.

Every figure comes from a `judged.JudgeView`; every place labels the judge's
metric model-graded and leads with `CAUTION: weak judge` when it applies.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import json
import math
from pathlib import Path
from typing import Any

from harness.compare.judged import CAUTION, MODEL_GRADED, JudgeView
from harness.compare.report import insert_after_verdict
from harness.compare.verdict import WIN_RATE


def _fmt(x: float, spec: str = ".2f") -> str:
    return "n/a" if math.isnan(x) else format(x, spec)


def quality_rows(view: JudgeView) -> list[list[str]]:
    """One row per candidate: win/tie/loss, position consistency, first-slot rate, length bias, invalid."""
    rows = []
    for c in view.candidates:
        q, r = c.result.quality, c.result
        pc, lb = q.position_consistency, q.length_bias
        rows.append([
            c.label, f"{r.wins}/{r.ties}/{r.losses}", _fmt(r.win_rate, ".3f"),
            f"{_fmt(pc.value)} [{_fmt(pc.low)}, {_fmt(pc.high)}]", str(q.n_inconsistent),
            _fmt(q.first_position_rate), f"{_fmt(lb.value, '+.2f')} [{_fmt(lb.low, '+.2f')}, {_fmt(lb.high, '+.2f')}]"
            f" p={_fmt(lb.p, '.3g')}", str(q.n_invalid), "weak" if c.weak else "ok",
        ])
    return rows


QUALITY_HEADER = ["candidate", "win/tie/loss", "win rate", "position consistency [95% CI]", "position-inconsistent",
                  "first-slot picks", "length bias r [95% CI]", "invalid", "judge"]


def console_lines(view: JudgeView) -> list[str]:
    """The judge's lines under the console headline."""
    out = [f"{CAUTION}: " + "; ".join(view.reasons)] if view.caution else []
    out.append(f"judge ({MODEL_GRADED}, pairwise): {view.model} [{view.identity}], template {view.template_hash}; "
               f"{view.usage[0]} requests ({view.usage[1]} cached), ${view.usage[2]:.4f}")
    for c in view.candidates:
        q, r = c.result.quality, c.result
        out.append(
            f"  {c.label}: win/tie/loss {r.wins}/{r.ties}/{r.losses}, win rate {_fmt(r.win_rate, '.3f')}; "
            f"position consistency {_fmt(q.position_consistency.value)} ({q.n_inconsistent} inconsistent), "
            f"length bias r={_fmt(q.length_bias.value, '+.2f')}, invalid {q.n_invalid}"
        )
    out += [f"  warning: {w}" for w in view.warnings]
    return out


def markdown(view: JudgeView) -> str:
    """The report section `## Side-by-side judge (model-graded)`."""
    t = view.thresholds
    out = [f"## Side-by-side judge ({MODEL_GRADED})", ""]
    if view.caution:
        out += [f"**{CAUTION}**: " + "; ".join(view.reasons), ""]
    out += [
        f"`{WIN_RATE}` is graded by a model, not measured: the judge `{view.model}` ({view.identity}, template "
        f"`{view.template_hash}`) saw each item's two outputs in both orders; a verdict that changed with the "
        f"order counts as a tie. Its row in the Quality table is the win rate - 0.5 with the sign test. "
        f"Weak below position consistency {t.min_position_consistency:g}, at |length bias| >= "
        f"{t.max_length_bias:g} (p < {t.alpha:g}), or judge_check kappa < {t.min_kappa:g}"
        + (f" (kappa {view.kappa:.2f}{f', judge_check run `{view.kappa_run}`' if view.kappa_run else ''})."
           if view.kappa is not None else " (no judge_check of this judge found: kappa not applied).")
        + f" Judge requests: {view.usage[0]} ({view.usage[1]} from the cache), ${view.usage[2]:.4f}.",
        "",
        "| " + " | ".join(QUALITY_HEADER) + " |",
        "|" + "---|" * len(QUALITY_HEADER),
        *("| " + " | ".join(row) + " |" for row in quality_rows(view)),
        "",
    ]
    out += [f"- warning: {w}" for w in view.warnings]
    return "\n".join(out) + "\n"


def to_json(view: JudgeView) -> dict[str, Any]:
    """The `judge` entry of comparison.json."""

    def num(x: float) -> float | None:
        return None if math.isnan(x) else x

    return {
        "mode": "pairwise",
        "model_graded": True,
        "metric": WIN_RATE,
        "model": view.model,
        "identity": view.identity,
        "template_hash": view.template_hash,
        "thresholds": dataclasses.asdict(view.thresholds),
        "kappa": view.kappa,
        "kappa_run": view.kappa_run,
        "requests": view.usage[0],
        "cached": view.usage[1],
        "cost_usd": view.usage[2],
        "caution": view.caution,
        "reasons": list(view.reasons),
        "warnings": list(view.warnings),
        "candidates": [
            {
                "run_id": c.run_id, "label": c.label, "weak": c.weak, "reasons": list(c.reasons),
                "wins": c.result.wins, "ties": c.result.ties, "losses": c.result.losses,
                "win_rate": num(c.result.win_rate),
                "position_consistency": {k: num(v) for k, v in
                                         dataclasses.asdict(c.result.quality.position_consistency).items()},
                "position_inconsistent": c.result.quality.n_inconsistent,
                "first_position_rate": num(c.result.quality.first_position_rate),
                "length_bias": {k: num(v) for k, v in dataclasses.asdict(c.result.quality.length_bias).items()},
                "invalid": c.result.quality.n_invalid,
                "self_preference": c.self_preference,
            }
            for c in view.candidates
        ],
    }


def mlflow_tags(view: JudgeView) -> dict[str, str]:
    """Tags on the comparison run: the judge's identity, template hash, caution."""
    tags = {
        "harness.compare.judge": "pairwise",
        "harness.compare.judge.model": view.model,
        "harness.compare.judge.identity": view.identity,
        "harness.compare.judge.template_hash": view.template_hash,
        "harness.compare.judge.model_graded": WIN_RATE,
        "harness.compare.judge.weak": "true" if view.caution else "false",
    }
    if view.kappa is not None:
        run = f" (run {view.kappa_run})" if view.kappa_run else ""
        tags["harness.compare.judge.kappa"] = f"{view.kappa:.4f}{run}"
    if view.caution:
        tags["harness.compare.judge.caution"] = "; ".join(view.reasons)[:5000]
    if view.warnings:
        tags["harness.compare.judge.self_preference"] = "; ".join(view.warnings)[:5000]
    return tags


def mlflow_metrics(view: JudgeView) -> dict[str, float]:
    """Per-candidate judge-quality figures (NaN ones left out), keyed like the comparison's c<i>.<metric>."""
    out: dict[str, float] = {"judge.requests": float(view.usage[0]), "judge.cached": float(view.usage[1]),
                             "judge.cost_usd": view.usage[2]}
    for i, c in enumerate(view.candidates):
        q = c.result.quality
        figures = {
            "wins": c.result.wins, "ties": c.result.ties, "losses": c.result.losses,
            "position_consistency": q.position_consistency.value, "position_inconsistent": q.n_inconsistent,
            "first_position_rate": q.first_position_rate, "length_bias": q.length_bias.value,
            "length_bias_p": q.length_bias.p, "invalid": q.n_invalid,
        }
        out.update({f"c{i}.judge.{k}": float(v) for k, v in figures.items() if not math.isnan(float(v))})
    return out


def with_markdown(report_md: str, view: JudgeView) -> str:
    """The report with the judge section before its first section (the CAUTION in front of the verdict)."""
    if view.caution:
        report_md = report_md.replace("**Verdict:**", f"**{CAUTION}.** **Verdict:**", 1)
    at = report_md.find("\n## ")
    section = markdown(view)
    return report_md + "\n" + section if at < 0 else report_md[: at + 1] + section + "\n" + report_md[at + 1 :]


def with_html(report_html: str, view: JudgeView) -> str:
    """The HTML report with the same section after its headline."""
    esc = html_lib.escape
    parts = [f"<h2>Side-by-side judge ({MODEL_GRADED})</h2>"]
    if view.caution:
        parts.append(f"<p><b>{esc(CAUTION)}</b>: {esc('; '.join(view.reasons))}</p>")
    parts.append(f"<p>{esc(WIN_RATE)} is graded by the model {esc(view.model)} ({esc(view.identity)}, template "
                 f"{esc(view.template_hash)}), each item in both orders; a verdict that changed with the order "
                 "counts as a tie.</p>")
    head = "".join(f"<th>{esc(h)}</th>" for h in QUALITY_HEADER)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in quality_rows(view))
    parts.append(f"<table><tr>{head}</tr>{body}</table>")
    parts += [f"<p>Warning: {esc(w)}</p>" for w in view.warnings]
    block = f'<div class="judge">{"".join(parts)}</div>'
    if view.caution:
        report_html = report_html.replace('<p class="verdict">', f'<p class="verdict"><b>{esc(CAUTION)}.</b> ', 1)
    return insert_after_verdict(report_html, block)


JUDGEMENTS_FILE = "judgements.jsonl"


def write_jsonl(path: Path, view: JudgeView) -> None:
    """Every item's two raw replies, their picks and the outcome, one JSON object per candidate and item."""
    with path.open("w", encoding="utf-8") as fh:
        for c in view.candidates:
            for j in c.result.items:
                row = {"candidate": c.run_id, "id": j.id, "baseline_first_reply": j.forward,
                       "candidate_first_reply": j.backward, "baseline_first_pick": j.forward_pick,
                       "candidate_first_pick": j.backward_pick, "outcome": j.outcome, "consistent": j.consistent,
                       "length_diff_words": j.length_diff}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def log_mlflow(run_id: str, tracking_uri: str | None, view: JudgeView, judgements: Path | None = None) -> None:
    """The judge's tags and quality figures on the comparison run (and judgements.jsonl as an artifact)."""
    from mlflow.entities import Metric, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    client.log_batch(run_id, metrics=[Metric(k, v, 0, 0) for k, v in mlflow_metrics(view).items()],
                     tags=[RunTag(k, v) for k, v in mlflow_tags(view).items()])
    if judgements is not None and judgements.exists():
        client.log_artifact(run_id, str(judgements))
