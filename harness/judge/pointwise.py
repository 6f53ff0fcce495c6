"""The pointwise judge: one grade per output, and the `judge` scorer that puts it in a run.

`grade(judge, rubric, items)` asks the judge about every item in one batch;
replies that name no grade of the scale are asked again, same prompt, up to
`rubric.retries` more times, each round one batch (cached per attempt, see
harness.judge.model). A reply still unparsable after that is invalid: it
keeps its raw text, has no grade and counts in `judge.invalid`; it is never
dropped. A backend error after the retry loop is invalid too.

The scorer (`scorers: [..., judge]`) grades each example's output and gives
per example:
  values   judge.score    the grade's position on the scale, worst 0 to best 1 (absent when invalid)
           judge.invalid  1 when the judge gave no parsable grade, else 0 (its mean: the invalid share)
  details  judge.grade, judge.reply (raw), rationale (MLflow's trace assessments read it),
           judge.attempts, judge.cost_usd, judge.prompt_tokens, judge.output_tokens
The run's MLflow tags name the judge (harness.judge.identity, .model) and the
template's content hash (harness.judge.template_hash); the same hash is part
of every judge prompt's cache key through the prompt text itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.core.records import GenerationParams, Response, Score
from harness.judge.model import JudgeModel, open_judge, resolve_model
from harness.judge.rubric import Item, Rubric, from_task
from harness.scorers.base import SCORER_HOOKS, SCORERS, ScoreInput, ScorerHooks, ScoringContext


@dataclass(frozen=True)
class Grade:
    """The judge's verdict on one item."""

    id: str
    grade: str | None  # None: invalid (unparsable after every attempt, or a backend error)
    value: float  # the grade's score in [0, 1]; NaN when invalid
    rationale: str
    reply: str  # the raw reply of the last attempt
    attempts: int
    cost_usd: float  # every attempt, at the judge model's prices
    prompt_tokens: int
    output_tokens: int
    error: str | None = None

    @property
    def invalid(self) -> bool:
        return self.grade is None


def grade(judge: JudgeModel, rubric: Rubric, items: Sequence[Item]) -> list[Grade]:
    """Grade every item (see the module docstring); one Grade per item, in order."""
    prompts = [rubric.render(it) for it in items]
    replies: list[Response] = list(judge.ask(prompts))
    attempts = [1] * len(items)
    spent: list[list[Response]] = [[r] for r in replies]
    for attempt in range(1, rubric.retries + 1):
        again = [i for i, r in enumerate(replies) if r.ok and rubric.parse(r.text) is None]
        if not again:
            break
        for i, resp in zip(again, judge.ask([prompts[i] for i in again], attempt=attempt), strict=True):
            replies[i] = resp
            attempts[i] += 1
            spent[i].append(resp)
    out = []
    for it, resp, n, rs in zip(items, replies, attempts, spent, strict=True):
        parsed = rubric.parse(resp.text) if resp.ok else None
        out.append(Grade(
            id=it.id,
            grade=parsed.grade if parsed else None,
            value=rubric.value(parsed.grade) if parsed else math.nan,
            rationale=parsed.rationale if parsed else "",
            reply=resp.text,
            attempts=n,
            cost_usd=sum(judge.cost_usd(r) for r in rs),
            prompt_tokens=sum(r.prompt_tokens for r in rs),
            output_tokens=sum(r.output_tokens for r in rs),
            error=None if resp.error is None else resp.error.message,
        ))
    return out


def params_of(task: Any) -> GenerationParams:
    """The judge's decoding parameters (task.judge.max_new_tokens, .temperature, .stop)."""
    jc = task.judge
    return GenerationParams(max_new_tokens=int(jc.max_new_tokens), temperature=float(jc.temperature),
                            stop=tuple(jc.stop))


def open_for(task: Any, ctx: ScoringContext) -> JudgeModel:
    """The task's judge, with the run's cache, retry policy and chunk size when `ctx.run` has them."""
    run = ctx.run
    return open_judge(
        task.judge.model,
        task.judge.model_overrides,
        params=params_of(task),
        cache=run.cache if run is not None else None,
        retry=run.retry if run is not None else None,
        chunk_size=run.chunk_size if run is not None else 64,
    )


def items_of(inputs: Sequence[ScoreInput]) -> list[Item]:
    return [Item(it.sample.id, it.sample.input, it.response.text, it.sample.target, it.sample) for it in inputs]


def to_score(g: Grade) -> Score:
    values = {"judge.invalid": 1.0 if g.invalid else 0.0}
    if not g.invalid:
        values["judge.score"] = g.value
    details: dict[str, Any] = {
        "judge.grade": g.grade,
        "judge.reply": g.reply,
        "rationale": g.rationale if not g.invalid else f"invalid judge reply after {g.attempts} attempt(s)",
        "judge.attempts": g.attempts,
        "judge.cost_usd": g.cost_usd,
        "judge.prompt_tokens": g.prompt_tokens,
        "judge.output_tokens": g.output_tokens,
    }
    if g.error:
        details["judge.error"] = g.error
    return Score(values, details)


@SCORERS.register("judge")
def judge_scorer(inputs: Sequence[ScoreInput], task: Any, ctx: ScoringContext) -> list[Score]:
    """The pointwise judge's grade of each output (examples whose generation failed are not judged)."""
    rubric = from_task(task)
    todo = [i for i, it in enumerate(inputs) if it.response.ok]
    scores = [Score({}, {"judge.grade": None, "judge.skipped": "no output: the generation failed"})] * len(inputs)
    if not todo:
        return list(scores)
    judge = open_for(task, ctx)
    try:
        grades = grade(judge, rubric, items_of([inputs[i] for i in todo]))
    finally:
        judge.close()
    out = list(scores)
    for i, g in zip(todo, grades, strict=True):
        out[i] = to_score(g)
    return out


def check(task: Any) -> None:
    """Before any model work: the scale, the template (renders), the judge model (exists, credentials)."""
    from_task(task)
    cfg, plugin, _ = resolve_model(task.judge.model, task.judge.model_overrides)
    if plugin.check_credentials:
        plugin.check_credentials(cfg)


def run_tags(task: Any, ctx: ScoringContext) -> dict[str, str]:
    """MLflow tags naming the judge of a run (model config, identity, template hash, scale)."""
    from harness.judge.model import describe

    rubric = from_task(task)
    _, _, ident = resolve_model(task.judge.model, task.judge.model_overrides)
    return {
        "harness.judge.model": task.judge.model,
        "harness.judge.identity": describe(task.judge.model, ident),
        "harness.judge.template_hash": rubric.template_hash,
        "harness.judge.template": rubric.source,
        "harness.judge.grades": ",".join(rubric.grades),
        "harness.judge.reference": "guided" if rubric.guided else "free",
    }


SCORER_HOOKS.register("judge")(ScorerHooks(check=check, run_tags=run_tags))
