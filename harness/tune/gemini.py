"""`python -m harness.tune.gemini`: export a task's train split, or tune a Gemini model on Vertex AI.

    python -m harness.tune.gemini action=export task=classification out=train.jsonl
    python -m harness.tune.gemini action=tune model=gemini_flash name=flash_sft \\
        training_uri=gs://bucket/train.jsonl epochs=3 learning_rate_multiplier=1.0 adapter_size=4 \\
        model.api=vertex model.project=my-proj model.location=us-central1

Composed like every other entry point (conf/gemini_tune.yaml, typed by
GeminiTuneConfig); the job API itself is harness.backends.gemini.tuning.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING

from harness.core.entry import EXIT_OK, run_entry
from harness.core.errors import ConfigError

HELP = """usage: python -m harness.tune.gemini action=export|tune [task=NAME] [model=GEMINI] [key=value ...]

  action=export task=classification out=train.jsonl
      write the task's train split, rendered with its zero-shot prompt, as Gemini tuning JSONL
  action=tune model=gemini_flash name=NAME training_uri=gs://.../train.jsonl
      [epochs=3] [learning_rate_multiplier=1.0] [adapter_size=4] [display_name=...]
      [training_file=train.jsonl]   the local copy of training_uri: recorded as tuning_data (leakage audit)
      model.api=vertex model.project=P model.location=L
      run a Vertex AI supervised tuning job, then write conf/model/NAME.yaml
Docs: docs/models.md ("Gemini tuning jobs").  Config: conf/gemini_tune.yaml
"""


@dataclass
class GeminiTuneConfig:
    """conf/gemini_tune.yaml: export or tune, with the tuning job's settings."""

    task: Any = MISSING  # a task config: export uses its train split
    model: Any = MISSING  # the Gemini base model config
    action: str = MISSING  # export | tune
    out: str = ""
    name: str = ""
    training_uri: str = ""
    epochs: int | None = None
    learning_rate_multiplier: float | None = None
    adapter_size: int | None = None
    display_name: str | None = None
    training_file: str = ""  # local copy of training_uri (e.g. the export's out=): the variant's tuning_data


def load_config(overrides: Sequence[str]) -> GeminiTuneConfig:
    from hydra.core.config_store import ConfigStore

    from harness.config.load import compose_object, setup

    setup()
    ConfigStore.instance().store(name="gemini_tune_schema", node=GeminiTuneConfig)
    return compose_object(overrides, "gemini_tune", GeminiTuneConfig)


def _body(argv: list[str]) -> int:
    from harness.backends.gemini.tuning import TuningSpec, export_task_train, tune
    from harness.config.schema import GeminiModelConfig
    from harness.core.paths import conf_dir

    cfg = load_config(argv)
    if cfg.action == "export":
        if not cfg.out:
            raise ConfigError("action=export needs out=<path of the JSONL to write>")
        n = export_task_train(cfg.task, cfg.out)
        print(f"wrote {n} examples to {cfg.out}")
        return EXIT_OK
    if cfg.action != "tune":
        raise ConfigError(f"action must be export or tune, not {cfg.action!r}")
    if not isinstance(cfg.model, GeminiModelConfig):
        raise ConfigError(f"model {cfg.model.name} is not a Gemini model config")
    if not cfg.name:
        raise ConfigError("action=tune needs name=<the tuned model's config name>")
    spec = TuningSpec(
        name=cfg.name,
        training_uri=cfg.training_uri or None,
        epochs=cfg.epochs,
        learning_rate_multiplier=cfg.learning_rate_multiplier,
        adapter_size=cfg.adapter_size,
        display_name=cfg.display_name,
        training_file=cfg.training_file or None,
    )
    print(f"wrote {tune(cfg.model, spec, conf_dir())}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    return run_entry("harness.tune.gemini", HELP, _body, argv)


if __name__ == "__main__":
    sys.exit(main())
