"""Gemini supervised tuning: export a train split, launch and poll a job, write the tuned model's config.

    export_task_train(task, "train.jsonl")        # {"contents": [user turn, model turn]} per line
    job = launch(client, base_cfg, spec)          # client.tunings.tune(...)
    job = wait(client, job.name)                  # polls with an injectable sleep
    path = write_model_config(conf_dir, spec.name, base_cfg, base_name, job)

Tuning runs on Vertex AI: the training file must be in Cloud Storage
(`spec.training_uri`, gs://...). The Developer API's tuning service is
discontinued, and google-genai 3.x silently drops inline examples on that
path (`_CreateTuningJobParametersPrivate_to_mldev` discards the dataset), so
`launch` refuses `api: developer` instead of starting an empty job.

The written `conf/model/<name>.yaml` serves the tuned endpoint with
`variant: tuned` and `base_model: <base config>`, so comparisons pair it
with its base.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config.schema import GeminiModelConfig, TaskConfig
from harness.core.errors import ConfigError, HarnessError
from harness.core.records import Sample

log = logging.getLogger(__name__)

_ADAPTER_SIZES = {1: "ONE", 2: "TWO", 4: "FOUR", 8: "EIGHT", 16: "SIXTEEN", 32: "THIRTY_TWO"}
_DONE = frozenset({"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"})


class TuningFailed(HarnessError):
    """The tuning job ended in a state other than succeeded."""


@dataclass(frozen=True)
class TuningSpec:
    """What to tune and how. `training_uri` is the gs:// copy of an exported JSONL."""

    name: str  # config name of the tuned model: conf/model/<name>.yaml
    training_uri: str | None = None
    epochs: int | None = None
    learning_rate_multiplier: float | None = None
    adapter_size: int | None = None  # 1, 2, 4, 8, 16 (Vertex)
    display_name: str | None = None
    training_file: str | None = None  # local copy of training_uri: written as tuning_data (leakage audit)


# ------------------------------------------------------------------ export


def sft_row(prompt: str, answer: str) -> dict[str, Any]:
    """One supervised example in Gemini's tuning format."""
    return {"contents": [{"role": "user", "parts": [{"text": prompt}]}, {"role": "model", "parts": [{"text": answer}]}]}


def sft_rows(samples: Iterable[Sample], render: Callable[[Sample], str] | None = None) -> Iterator[dict[str, Any]]:
    for s in samples:
        if not s.target:
            raise ConfigError(f"sample {s.id} has no reference answer to tune on")
        yield sft_row(render(s) if render else s.input, s.target)


def export_sft_jsonl(samples: Iterable[Sample], path: str | Path, render: Callable[[Sample], str] | None = None) -> int:
    """Write samples as Gemini tuning JSONL; returns the number of rows."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for row in sft_rows(samples, render):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def export_task_train(task: TaskConfig, path: str | Path) -> int:
    """A task's train split, rendered with its own zero-shot prompt template, as tuning JSONL."""
    from harness.data.prompts import PromptBuilder
    from harness.data.samples import load_task_data

    zero_shot = dataclasses.replace(task, shots=0)
    train = load_task_data(zero_shot).train
    if not train:
        raise ConfigError(f"task {task.name} has no train split to tune on (task.data.train_path / train_split)")
    prompts = PromptBuilder(zero_shot, ())
    return export_sft_jsonl(train, path, prompts.render)


# ------------------------------------------------------------------ jobs


def require_vertex(base: GeminiModelConfig) -> None:
    if base.api != "vertex":
        raise ConfigError(
            f"model {base.name}: Gemini tuning jobs run on Vertex AI (api: vertex, project, location); "
            "the Developer API no longer tunes models"
        )


def launch(client: Any, base: GeminiModelConfig, spec: TuningSpec) -> Any:
    """Start a supervised tuning job of `base.model_id`; returns the SDK's TuningJob."""
    from google.genai import types

    require_vertex(base)
    if not spec.training_uri or not spec.training_uri.startswith("gs://"):
        raise ConfigError("Vertex AI tuning reads its data from Cloud Storage: give training_uri=gs://...")
    dataset = types.TuningDataset(gcs_uri=spec.training_uri)
    adapter = None
    if spec.adapter_size is not None:
        if spec.adapter_size not in _ADAPTER_SIZES:
            raise ConfigError(f"adapter_size must be one of {sorted(_ADAPTER_SIZES)}, got {spec.adapter_size}")
        adapter = types.AdapterSize(f"ADAPTER_SIZE_{_ADAPTER_SIZES[spec.adapter_size]}")
    config = types.CreateTuningJobConfig(
        tuned_model_display_name=spec.display_name or spec.name,
        epoch_count=spec.epochs,
        learning_rate_multiplier=spec.learning_rate_multiplier,
        adapter_size=adapter,
    )
    job = client.tunings.tune(base_model=base.model_id, training_dataset=dataset, config=config)
    log.info("tuning job %s started for %s", job.name, base.model_id)
    return job


def state(job: Any) -> str:
    return str(getattr(job.state, "value", job.state))


def wait(
    client: Any,
    name: str,
    *,
    poll_s: float = 60.0,
    timeout_s: float = 24 * 3600.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Any:
    """Poll `client.tunings.get` until the job is done; raises TuningFailed unless it succeeded."""
    start = clock()
    job = client.tunings.get(name=name)
    while state(job) not in _DONE:
        if clock() - start > timeout_s:
            raise TuningFailed(f"tuning job {name} still {state(job)} after {timeout_s:.0f}s")
        sleep(poll_s)
        job = client.tunings.get(name=name)
    if state(job) != "JOB_STATE_SUCCEEDED":
        raise TuningFailed(f"tuning job {name} ended {state(job)}: {job.error}")
    return job


def tuned_model_id(base: GeminiModelConfig, job: Any) -> str:
    """The Vertex endpoint that serves the tuned model."""
    tuned = job.tuned_model
    if tuned is None or not tuned.endpoint:
        raise TuningFailed(f"tuning job {job.name} succeeded without an endpoint")
    return str(tuned.endpoint)


def model_yaml(
    name: str, base: GeminiModelConfig, base_name: str, model_id: str, job_name: str, tuning_data: str | None = None
) -> str:
    """conf/model/<name>.yaml text for the tuned model (same API, prices and settings as its base)."""
    lines = [
        f"# Written by harness.backends.gemini.tuning from tuning job {job_name}.",
        "defaults:",
        "  - /schema/model/gemini@_here_",
        "  - _self_",
        "",
        f"name: {name}",
        f"model_id: {json.dumps(model_id)}",
        "api: vertex",
        "variant: tuned",
        f"base_model: {base_name}",
        f"concurrency: {base.concurrency}",
    ]
    lines += [f"project: {base.project}", f"location: {base.location}"]
    if base.base_url:
        lines.append(f"base_url: {json.dumps(base.base_url)}")
    if tuning_data:  # the leakage audit checks test items against it (docs/audit.md)
        lines.append(f"tuning_data: {json.dumps(tuning_data)}")
    p = base.prices
    lines += [
        "prices:",
        f"  input_per_mtok: {p.input_per_mtok}",
        f"  output_per_mtok: {p.output_per_mtok}",
        f"  cached_per_mtok: {p.cached_per_mtok}",
    ]
    return "\n".join(lines) + "\n"


def write_model_config(
    conf_dir: str | Path, name: str, base: GeminiModelConfig, base_name: str, job: Any, tuning_data: str | None = None
) -> Path:
    path = Path(conf_dir) / "model" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = model_yaml(name, base, base_name, tuned_model_id(base, job), str(job.name), tuning_data)
    path.write_text(text, encoding="utf-8")
    return path


def tune(
    base: GeminiModelConfig,
    spec: TuningSpec,
    conf_dir: str | Path,
    *,
    client: Any = None,
    poll_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """Launch, wait, and write conf/model/<spec.name>.yaml; returns its path."""
    from harness.backends.gemini.client import make_client

    require_vertex(base)
    client = client or make_client(base)
    job = launch(client, base, spec)
    done = wait(client, str(job.name), poll_s=poll_s, sleep=sleep)
    local = str(Path(spec.training_file).resolve()) if spec.training_file else None
    path = write_model_config(conf_dir, spec.name, base, base.name, done, local)
    log.info("tuned model config written to %s", path)
    return path
