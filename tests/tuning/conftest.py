"""Shared fixtures: one tiny real LoRA tune and two hand-made PEFT adapters on the embedded Gemma.

Everything is session-scoped because each model load costs seconds on a
loaded 2-core machine; every file written goes under pytest's tmp folders
(adapters, model configs, MLflow store, cache), never the project's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tune_fixtures import Workspace, tiny_config

from harness.tune.local import TuneResult, tune


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("tuning")
    return Workspace(root, root / "conf", root / "adapters", f"sqlite:///{root / 'mlflow.db'}")


@pytest.fixture(scope="session")
def tiny_tune(workspace: Workspace) -> TuneResult:
    """A real tune: 8 train examples, 2 steps, rank 4, on the embedded Gemma (CPU)."""
    return tune(tiny_config(workspace))


def _base_model() -> Any:
    from transformers import AutoModelForCausalLM

    from harness.backends.hf.backend import resolve_path

    return AutoModelForCausalLM.from_pretrained(resolve_path("embedded:gemma3-270m"), dtype="float32")


@pytest.fixture(scope="session")
def made_adapters(workspace: Workspace) -> dict[str, Path]:
    """Adapters made directly with peft (no training): IA3, and a LoRA with random (non-zero) B.

    IA3 starts as the identity, so its outputs equal the base's; only its
    identity differs. The random LoRA changes outputs, which is what the
    merged-vs-unmerged comparison needs.
    """
    import copy

    import torch
    from peft import IA3Config, LoraConfig, get_peft_model

    base = _base_model()
    out: dict[str, Path] = {}
    ia3 = get_peft_model(
        copy.deepcopy(base),
        IA3Config(target_modules=["k_proj", "v_proj", "down_proj"], feedforward_modules=["down_proj"],
                  task_type="CAUSAL_LM"),
    )
    out["ia3"] = workspace.adapters / "made_ia3"
    ia3.save_pretrained(str(out["ia3"]))
    torch.manual_seed(0)
    lora = get_peft_model(
        base,
        LoraConfig(r=4, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False,
                   task_type="CAUSAL_LM"),
    )
    out["lora_random"] = workspace.adapters / "made_lora_random"
    lora.save_pretrained(str(out["lora_random"]))
    return out
