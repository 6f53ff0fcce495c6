"""Registers the structured-config schemas with Hydra's ConfigStore.

YAMLs extend them through their defaults lists, e.g. conf/task/x.yaml:

    defaults:
      - /schema/task/classification@_here_
      - _self_
"""

from __future__ import annotations

import functools

from hydra.core.config_store import ConfigStore

from harness.config import schema as s

TASK_SCHEMAS: dict[str, type[s.TaskConfig]] = {
    "classification": s.ClassificationTask,
    "summarization": s.SummarizationTask,
    "json": s.JsonTask,
    "code": s.CodeTask,
}
MODEL_SCHEMAS: dict[str, type[s.ModelConfig]] = {
    "hf": s.HFModelConfig,
    "gemini": s.GeminiModelConfig,
    "openai": s.OpenAIModelConfig,
    "replay": s.ReplayModelConfig,
}


@functools.cache
def register() -> None:
    """Once per process: ConfigStore is a process-wide singleton and these schemas never change.

    Storing them again would be harmless but not free (~0.05 s each time: OmegaConf builds a
    config from every dataclass), and every compose and entry point calls this.
    """
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=s.RunConfig)
    cs.store(group="schema", name="judge", node=s.JudgeConfig)  # conf/judge_scale/ presets extend it
    for name, node in TASK_SCHEMAS.items():
        cs.store(group="schema/task", name=name, node=node)
    for name, model_node in MODEL_SCHEMAS.items():
        cs.store(group="schema/model", name=name, node=model_node)
