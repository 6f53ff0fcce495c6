"""`judge=pairwise`: a side-by-side judge's win rate as one more paired metric of the comparison.

For each candidate the judge (any model config, `judge_model=NAME`, opened
through harness.judge.model: the harness's cache, retry loop, concurrency and
cost accounting) compares the candidate's output with the baseline's on every
aligned item in both orders (harness.judge.pairwise). The per-item win score
(1 win, 0.5 tie, 0 loss) joins the candidate's rows as `judge.win_rate` and
the baseline's as 0.5, so the comparison treats it like any other paired
metric: bootstrap CI of win rate - 0.5, the sign test, Holm with the rest.
Every report labels it model-graded and shows the judge's quality on this
comparison; `CAUTION: weak judge` when position consistency, length bias or a
judge_check kappa of the same judge crosses its threshold.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.compare import runs as rn
from harness.compare.verdict import WIN_RATE
from harness.core.errors import ConfigError
from harness.judge import pairwise as pw

CAUTION = "CAUTION: weak judge"
MODEL_GRADED = "model-graded"
MODES = ("pairwise",)


@dataclass(frozen=True)
class JudgeSettings:
    """What `judge=pairwise` needs, read once from the CompareConfig."""

    model: str
    template: str  # the template text (the built-in one unless judge_template names a file)
    retries: int = 2
    thresholds: pw.Thresholds = dataclasses.field(default_factory=pw.Thresholds)
    kappa: float | None = None  # judge_kappa: a judge_check result for this judge, when known


@dataclass(frozen=True)
class CandidateJudgement:
    """The judge on one candidate: the pairwise result, its caution reasons, self-preference."""

    run_id: str
    label: str
    result: pw.PairwiseResult
    reasons: tuple[str, ...]
    self_preference: str = ""  # a warning when the judge is one of the two compared models

    @property
    def weak(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True)
class JudgeView:
    """Everything the reports say about the judge."""

    model: str  # the judge's model config name
    identity: str  # backend:model[@revision][+adapter]
    template_hash: str
    thresholds: pw.Thresholds
    kappa: float | None
    candidates: tuple[CandidateJudgement, ...]
    kappa_run: str = ""  # the judge_check run the kappa came from ('' when given or none found)
    usage: tuple[int, int, float] = (0, 0, 0.0)  # judge requests, of them from the cache, USD

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(f"{c.label}: {r}" for c in self.candidates for r in c.reasons)

    @property
    def caution(self) -> bool:
        return bool(self.reasons)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(c.self_preference for c in self.candidates if c.self_preference)


def identity_text(identity: Any) -> str:
    """The judge's identity as one string (a BackendIdentity as backend:model[@revision][+adapter])."""
    if isinstance(identity, str):
        return identity
    text = f"{identity.backend}:{identity.model}"
    text += f"@{identity.revision}" if identity.revision else ""
    return text + (f"+{identity.adapter}" if identity.adapter else "")


def _same_weights(identity: Any, run: rn.RunData) -> bool:
    """The run's model is the judge's: same model id, and no adapter unless the judge has the same one."""
    model_id, adapter = run.tag("model_id"), run.tag("adapter")
    if not model_id:
        return False
    if isinstance(identity, str):  # harness.judge.model's identity text names the model and its revision
        return not adapter and re.search(rf"(^|[:/\s]){re.escape(model_id)}($|[@\s,;+])", identity) is not None
    return (identity.backend, identity.model, identity.adapter) == (run.tag("backend"), model_id, adapter)


def self_preference(identity: Any, model_name: str, base: rn.RunData, cand: rn.RunData) -> str:
    """A warning when the judge's weights are those of the baseline or of the candidate (else '')."""
    roles = []
    for role, run in (("baseline", base), ("candidate", cand)):
        if run.tag("model") == model_name or _same_weights(identity, run):
            roles.append(role)
    if not roles:
        return ""
    return (f"self-preference: the judge ({model_name}) is the {' and the '.join(roles)} model of "
            f"{cand.label}; a model tends to prefer its own outputs")


def pair_items(base: rn.RunData, cand: rn.RunData) -> list[pw.PairItem]:
    """One item per id both runs share, in id order (runs.align refuses different id sets first)."""
    rn.align(base, cand, [])  # the same refusals as every comparison: data fingerprints, id sets
    by_id = {r.id: r for r in cand.rows}
    return [pw.PairItem(b.id, b.input, b.output, by_id[b.id].output, b.reference)
            for b in sorted(base.rows, key=lambda r: r.id)]


def with_scores(run: rn.RunData, scores: dict[str, float]) -> rn.RunData:
    """`run` with `judge.win_rate` added to each row's scores (ids missing from `scores`: untouched)."""
    rows = tuple(dataclasses.replace(r, scores={**r.scores, WIN_RATE: scores[r.id]}) if r.id in scores else r
                 for r in run.rows)
    return dataclasses.replace(run, rows=rows)


Opener = Callable[[str], Any]  # model config name -> an open judge model (ask, identity, close)
KappaLookup = Callable[[str], tuple[float, str] | None]  # judge identity -> (kappa, judge_check run id)


def find_kappa(tracking_uri: str | None) -> KappaLookup:
    """The latest FINISHED judge_check run of a judge identity (tag harness.judge.identity): its judge.kappa."""

    def lookup(identity: str) -> tuple[float, str] | None:
        from mlflow.entities import ViewType
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=tracking_uri)
        exps = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)]
        quoted = identity.replace("'", "\\'")
        runs = client.search_runs(exps, f"attributes.status = 'FINISHED' and tags.`harness.judge.identity` = "
                                        f"'{quoted}'", order_by=["attributes.start_time DESC"], max_results=20)
        run = next((r for r in runs if "judge.kappa" in r.data.metrics), None)
        return (float(run.data.metrics["judge.kappa"]), str(run.info.run_id)) if run else None

    return lookup


def judge_runs(
    settings: JudgeSettings, base: rn.RunData, cands: Sequence[rn.RunData], opener: Opener,
    kappa_lookup: KappaLookup | None = None,
) -> tuple[rn.RunData, list[rn.RunData], JudgeView]:
    """Judge every candidate against the baseline; the runs come back with `judge.win_rate` rows.

    The kappa threshold applies to `settings.kappa` when given, else to the latest
    judge_check of the same judge identity that `kappa_lookup` finds (none: not applied).
    """
    if len(cands) > 1 and len({c.run_id for c in cands}) != len(cands):
        raise ConfigError("judge=pairwise: a candidate is named twice")
    judge = opener(settings.model)
    try:
        identity = judge.identity
        weights = getattr(judge, "backend_identity", None) or identity  # exact weights when the judge has them
        kappa_run = ""
        if settings.kappa is None and kappa_lookup is not None:
            found = kappa_lookup(identity_text(identity))
            if found:
                settings = dataclasses.replace(settings, kappa=found[0])
                kappa_run = found[1]
        out_cands, views = [], []
        for cand in cands:
            items = pair_items(base, cand)
            result = pw.judge_pairs(judge, items, settings.template, settings.retries)
            reasons = pw.weak_reasons(result.quality, settings.thresholds, settings.kappa)
            views.append(CandidateJudgement(cand.run_id, cand.label, result, reasons,
                                            self_preference(weights, settings.model, base, cand)))
            out_cands.append(with_scores(cand, {j.id: j.outcome for j in result.items}))
        u = getattr(judge, "usage", None)  # harness.judge.model.JudgeUsage: what the judging cost
        usage = (int(u.requests), int(u.cached), float(u.cost_usd)) if u is not None else (0, 0, 0.0)
    finally:
        judge.close()
    base_out = with_scores(base, {r.id: pw.TIE for r in base.rows})
    view = JudgeView(settings.model, identity_text(identity), pw.template_hash(settings.template),
                     settings.thresholds, settings.kappa, tuple(views), kappa_run, usage)
    return base_out, out_cands, view


# ------------------------------------------------------------------ reports


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
    anchor = '<p class="verdict">'
    at = report_html.find(anchor)
    if at < 0:
        return report_html.replace("</body>", block + "</body>", 1)
    end = report_html.find("</p>", at) + len("</p>")
    return report_html[:end] + block + report_html[end:]


def log_mlflow(run_id: str, tracking_uri: str | None, view: JudgeView) -> None:
    """The judge's tags and quality figures on the comparison run."""
    from mlflow.entities import Metric, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    client.log_batch(run_id, metrics=[Metric(k, v, 0, 0) for k, v in mlflow_metrics(view).items()],
                     tags=[RunTag(k, v) for k, v in mlflow_tags(view).items()])
