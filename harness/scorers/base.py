"""The scorer contract and its registry.

A scorer turns a batch of (sample, response) pairs into one Score per pair.
Most scorers are per-example pure functions wrapped with `per_example`;
batch scorers exist for work that is parallel by nature (running code).
A corpus metric computes numbers that are not means of per-example values
(macro-F1, corpus BLEU); the runner bootstraps it by resampling examples.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.core.records import Response, Sample, Score
from harness.core.registry import Registry


@dataclass(frozen=True)
class ScoreInput:
    sample: Sample
    response: Response


@dataclass(frozen=True)
class ScoringContext:
    """Run-level facts a scorer may need; never secrets."""

    allow_code_execution: bool = False
    workers: int = 2
    # the run's RunConfig, for a scorer that asks a model (the judge): it goes through the run's
    # response cache, retry policy and chunk size; None outside a run (defaults apply)
    run: Any = None


ScorerFn = Callable[[Sequence[ScoreInput], Any, ScoringContext], list[Score]]
CorpusFn = Callable[[Sequence[ScoreInput], Sequence[Score], Any], dict[str, float]]
# Optional fast path for a corpus metric's bootstrap: the same numbers for every row of
# an index matrix (resamples x n) at once; must agree with calling the CorpusFn per row
# (NaN where the CorpusFn leaves a key out of that row).
ResampledFn = Callable[[Sequence[ScoreInput], Sequence[Score], Any, Any], dict[str, Any]]

SCORERS: Registry[ScorerFn] = Registry("scorer")


@dataclass(frozen=True)
class ScorerHooks:
    """Optional run-level hooks of a scorer, registered under the scorer's own name in SCORER_HOOKS.

    `check(task)` runs before data and models load (a config mistake costs no
    generation); `run_tags(task, ctx)` gives MLflow tags for the run (the
    judge's model identity and template hash).
    """

    check: Callable[[Any], None] | None = None
    run_tags: Callable[[Any, ScoringContext], dict[str, str]] | None = None


SCORER_HOOKS: Registry[ScorerHooks] = Registry("scorer hooks")  # same names as SCORERS
CORPUS_METRICS: Registry[CorpusFn] = Registry("corpus metric")
CORPUS_RESAMPLED: Registry[ResampledFn] = Registry("resampled corpus metric")  # same names as CORPUS_METRICS

# Libraries a scorer imports the first time it runs, by scorer name. `preload` imports them
# in a background thread while the model generates: rouge-score pulls in all of nltk (and
# scipy.stats), ~1.4 s of imports that a cold run would otherwise pay after generation.
PRELOAD: dict[str, tuple[str, ...]] = {}


def preload(scorer_names: Iterable[str]) -> threading.Thread | None:
    """Start importing what the named scorers will need; join the thread before scoring."""
    wanted = sorted({m for name in scorer_names for m in PRELOAD.get(name, ())} - set(sys.modules))
    if not wanted:
        return None

    def work() -> None:
        for module in wanted:
            # a failure is left to the scorer, which imports the module again and reports it
            with contextlib.suppress(Exception):
                importlib.import_module(module)

    thread = threading.Thread(target=work, name="harness-preload", daemon=True)
    thread.start()
    return thread


def per_example(fn: Callable[[Sample, Response, Any], Score]) -> ScorerFn:
    """Lift a pure per-example scorer `fn(sample, response, task)` to a batch scorer."""

    def batch(items: Sequence[ScoreInput], task: Any, ctx: ScoringContext) -> list[Score]:
        return [fn(it.sample, it.response, task) for it in items]

    batch.__name__ = getattr(fn, "__name__", "scorer")
    batch.__doc__ = fn.__doc__
    return batch
