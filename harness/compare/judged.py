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
KappaLookup = Callable[[str, str], tuple[float, str] | None]  # (judge identity, task) -> (kappa, judge_check run)


def find_kappa(tracking_uri: str | None) -> KappaLookup:
    """The latest FINISHED judge_check run of a judge identity (tag harness.judge.identity): its judge.kappa.

    Only a check on the compared runs' task counts when they name one (tag harness.task): a
    judge's agreement with people on one task says little about its grading of another.
    """

    def lookup(identity: str, task: str) -> tuple[float, str] | None:
        from mlflow.entities import ViewType
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=tracking_uri)
        exps = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)]
        quoted = identity.replace("'", "\\'")
        query = f"attributes.status = 'FINISHED' and tags.`harness.judge.identity` = '{quoted}'"
        if task:
            query += " and tags.`harness.task` = '{}'".format(task.replace("'", "\\'"))
        runs = client.search_runs(exps, query, order_by=["attributes.start_time DESC"], max_results=20)
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
            found = kappa_lookup(identity_text(identity), base.tag("task"))
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
