"""The `code_exec` scorer: run every candidate against the problem's tests.

All candidates of the whole batch go to `harness.code.sandbox.run_programs` at
once, `ctx.workers` at a time. Per example the scorer reports `pass@1` and
`pass@k` for each configured k <= n (see harness.code.passk for why k > n
is left out), and the sandbox outcome of each candidate in `details`.

n is the number of candidates the task asked for (`task.n_samples`), not
the number that came back: a candidate missing because the request errored
(or the backend returned fewer) is a failed candidate. So every example
reports the same pass@k keys, an errored one as 0, and each pass@k mean in
metrics.json is over the same items as pass@1 and as the comparison, which
counts a missing score as 0.

It only counts outcomes; it refuses to run anything unless both halves of
the double opt-in are given (`task.execute` and the run's
`allow_code_execution`), even though the runner checks this first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.code import assemble, languages, sandbox
from harness.code.passk import pass_at_ks
from harness.core.errors import ConfigError
from harness.core.records import Score
from harness.scorers.base import SCORERS, ScoreInput, ScoringContext

_STDERR_IN_DETAILS = 2000


def candidate_source(row: dict[str, Any], text: str, language: str, mode: str) -> str:
    """The full program text for one candidate reply."""
    if mode == "instruction":
        return assemble.instruction_program(row, text, language)
    completion = assemble.truncate_completion(str(row["prompt"]), text, language)
    return assemble.completion_program(row, completion, language)


@SCORERS.register("code_exec")
def code_exec(items: Sequence[ScoreInput], task: Any, ctx: ScoringContext) -> list[Score]:
    """Execute each candidate in the sandbox; pass@k per example."""
    if not (getattr(task, "execute", False) and ctx.allow_code_execution):
        raise ConfigError("code_exec runs model-written code: it needs task.execute=true and allow_code_execution=true")
    lang = languages.get_language(task.language)
    if task.mode not in ("completion", "instruction"):
        raise ConfigError(f"unknown task.mode {task.mode!r}; known: completion, instruction")
    programs: list[sandbox.Program] = []
    owners: list[int] = []
    for i, item in enumerate(items):
        row = dict(item.sample.fields)
        for text in item.response.texts:
            programs.append(languages.program(lang, candidate_source(row, text, task.language, task.mode)))
            owners.append(i)
    limits = languages.limits_for(lang, task.timeout_s, task.memory_mb)
    outcomes = sandbox.run_programs(programs, limits, workers=ctx.workers)
    per_item: list[list[sandbox.Outcome]] = [[] for _ in items]
    for owner, outcome in zip(owners, outcomes, strict=True):
        per_item[owner].append(outcome)
    asked = max(1, int(getattr(task, "n_samples", 1)))
    return [_score(outs, list(task.k), asked) for outs in per_item]


def _score(outs: list[sandbox.Outcome], ks: list[int], asked: int) -> Score:
    n = max(len(outs), asked)  # candidates asked for but never returned failed
    c = sum(o.passed for o in outs)
    values = pass_at_ks(n, c, [1, *ks])
    details = {
        "n": len(outs),
        "missing": n - len(outs),
        "passed": c,
        "undefined_k": [k for k in ks if k > n],
        "candidates": [
            {
                "passed": o.passed,
                "reason": o.reason,
                "phase": o.phase,
                "exit_code": o.exit_code,
                "timed_out": o.timed_out,
                "duration_s": round(o.duration_s, 3),
                "stderr": o.stderr[:_STDERR_IN_DETAILS],
            }
            for o in outs
        ],
    }
    return Score(values=values, details=details)
