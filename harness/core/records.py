"""Typed records that cross module boundaries.

Every record is a small frozen dataclass: a sample read from data, a request
sent to a backend, the backend's response, a score, and the result of a run.
Nothing here imports a heavy library.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Sample:
    """One evaluation example.

    `input` is the text the prompt is built from; `references` holds one or
    more gold answers (summaries, a label, a JSON document as text); `fields`
    keeps the whole source row so templates and scorers can reach any column
    (HumanEval-X needs `declaration`, `test`, ...).
    """

    id: str
    input: str
    references: tuple[str, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """The first reference, or '' when the sample has none."""
        return self.references[0] if self.references else ""


class RequestKind(StrEnum):
    """What a backend is asked to do with a request."""

    GENERATE = "generate"
    CHOICES = "choices"  # log-likelihood of each continuation in `choices`


@dataclass(frozen=True)
class GenerationParams:
    """Decoding parameters; part of the cache key."""

    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    n: int = 1  # candidates per request (pass@k sampling)
    json_schema: str | None = None  # JSON text of a schema to constrain output

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0


@dataclass(frozen=True)
class Request:
    """A single call to a model: a rendered prompt plus decoding parameters."""

    sample_id: str
    prompt: str
    params: GenerationParams = GenerationParams()
    system: str | None = None
    kind: RequestKind = RequestKind.GENERATE
    choices: tuple[str, ...] = ()

    def cache_payload(self) -> dict[str, Any]:
        """Everything about the request that can change the model's answer.

        The sample id is deliberately absent: two samples with the same
        prompt get the same answer, so they share one cache entry.
        """
        return {
            "prompt": self.prompt,
            "system": self.system,
            "kind": self.kind.value,
            "choices": list(self.choices),
            "params": asdict(self.params),
        }


class ErrorKind(StrEnum):
    """How a backend classifies a failure. The runner decides what to do."""

    RATE_LIMITED = "rate_limited"  # retry after a delay (429)
    TRANSIENT = "transient"  # retry (5xx, timeout, malformed body)
    FATAL = "fatal"  # do not retry (bad request, auth, unknown model)


@dataclass(frozen=True)
class BackendError:
    """A classified failure of one request."""

    kind: ErrorKind
    message: str
    retry_after_s: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind is not ErrorKind.FATAL


@dataclass(frozen=True)
class Response:
    """What a backend returned for one request.

    A safety-blocked or empty reply is a normal response with empty texts and
    the backend's finish reason; only failures to get any reply set `error`.
    """

    texts: tuple[str, ...] = ()
    prompt_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    latency_s: float = 0.0
    finish_reason: str = "stop"
    error: BackendError | None = None
    choice_logprobs: tuple[float, ...] = ()
    from_cache: bool = False

    @property
    def text(self) -> str:
        return self.texts[0] if self.texts else ""

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("from_cache")
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Response:
        data = json.loads(text)
        err = data.pop("error")
        return cls(
            texts=tuple(data.pop("texts")),
            choice_logprobs=tuple(data.pop("choice_logprobs")),
            error=None if err is None else BackendError(ErrorKind(err["kind"]), err["message"], err["retry_after_s"]),
            from_cache=True,
            **data,
        )


@dataclass(frozen=True)
class Score:
    """A scorer's verdict on one example.

    `values` are numbers that aggregate across examples (means with
    confidence intervals); `details` are JSON-able facts shown per example
    (the extracted label, the sandbox outcome, ...).
    """

    values: Mapping[str, float]
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExampleResult:
    """Everything known about one example after scoring."""

    sample: Sample
    request: Request
    response: Response
    score: Score
    cost_usd: float = 0.0

    def to_row(self) -> dict[str, Any]:
        """The flat row written to predictions.jsonl and the MLflow table."""
        row: dict[str, Any] = {
            "id": self.sample.id,
            "input": self.sample.input,
            "reference": self.sample.target,
            "prompt": self.request.prompt,
            "output": self.response.text,
            "outputs": list(self.response.texts),
            "finish_reason": self.response.finish_reason,
            "error": None if self.response.error is None else self.response.error.message,
            "prompt_tokens": self.response.prompt_tokens,
            "output_tokens": self.response.output_tokens,
            "latency_s": round(self.response.latency_s, 6),
            "cost_usd": self.cost_usd,
        }
        row.update({f"score.{k}": v for k, v in sorted(self.score.values.items())})
        row.update({f"detail.{k}": v for k, v in sorted(self.score.details.items())})
        return row


@dataclass(frozen=True)
class MetricValue:
    """An aggregate with its 95% confidence interval (None when not defined)."""

    value: float
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class RunResult:
    """The outcome of one (task, model) cell."""

    task: str
    model: str
    metrics: Mapping[str, MetricValue]
    examples: tuple[ExampleResult, ...]
    counters: Mapping[str, float]
    output_dir: str
    dataset_fingerprint: str
    mlflow_run_id: str | None = None

    def flat_metrics(self) -> dict[str, float]:
        """Flat metric keys: `name`, `name.ci_low`, `name.ci_high`, counters."""
        flat: dict[str, float] = {}
        for name, mv in sorted(self.metrics.items()):
            flat[name] = mv.value
            if mv.ci_low is not None and mv.ci_high is not None:
                flat[f"{name}.ci_low"] = mv.ci_low
                flat[f"{name}.ci_high"] = mv.ci_high
        flat.update({k: float(v) for k, v in sorted(self.counters.items())})
        return flat
