"""PEFT adapters through the HF backend: identity, evaluation, other PEFT types, merging, errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tune_fixtures import Workspace

from harness.backends.base import BackendIdentity
from harness.backends.hf.backend import HFBackend, identify
from harness.config.load import compose_run
from harness.config.schema import AdapterConfig, HFModelConfig
from harness.core.errors import ConfigError
from harness.core.records import GenerationParams, Request, RequestKind
from harness.run.cache import cache_key
from harness.tune.local import TuneResult

BASE = HFModelConfig(name="gemma3_270m", path="embedded:gemma3-270m", chat_template=False, batch_size=4)
PROMPTS = ("Classify the sentiment of each review as positive, negative, neutral.\n\n"
           "Review: The soup was cold and bland.\nSentiment:", "The capital of France is")


def variant(path: Path, *, merge: bool = False, kind: str = "lora") -> HFModelConfig:
    return dataclasses.replace(BASE, name=f"v_{kind}", variant=kind, base_model="gemma3_270m",
                               adapter=AdapterConfig(path=str(path), merge=merge))


@pytest.mark.slow  # the made_adapters fixture loads the base model
def test_adapter_hash_is_in_identity_and_cache_key(made_adapters: dict[str, Path]) -> None:
    ids: list[BackendIdentity] = [identify(BASE), identify(variant(made_adapters["ia3"], kind="ia3")),
                                  identify(variant(made_adapters["lora_random"]))]
    assert ids[0].adapter == "" and all(i.adapter.startswith("sha256:") for i in ids[1:])
    request = Request("1", PROMPTS[0])
    assert len({cache_key(i, request) for i in ids}) == 3
    merged = identify(variant(made_adapters["lora_random"], merge=True))
    assert merged.adapter == ids[2].adapter + "+merged"


def test_missing_adapter_is_one_line_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        identify(variant(tmp_path / "no_such_adapter"))
    message = str(err.value)
    assert "\n" not in message and "model.adapter.path" in message and "no_such_adapter" in message


@pytest.mark.slow
def test_ia3_adapter_loads_and_generates(made_adapters: dict[str, Path]) -> None:
    backend = HFBackend(variant(made_adapters["ia3"], kind="ia3"))
    try:
        [resp] = backend.generate([Request("1", PROMPTS[1], GenerationParams(max_new_tokens=3))])
        assert resp.ok and resp.output_tokens > 0
        assert backend.identity.variant == "ia3" and backend.identity.adapter.startswith("sha256:")
    finally:
        backend.close()


@pytest.mark.slow
def test_merged_and_unmerged_lora_agree(made_adapters: dict[str, Path]) -> None:
    requests = [Request(str(i), p, GenerationParams(max_new_tokens=6)) for i, p in enumerate(PROMPTS)]
    requests.append(Request("c", PROMPTS[0], kind=RequestKind.CHOICES, choices=(" positive", " negative", " neutral")))
    outputs = []
    for merge in (False, True):
        backend = HFBackend(variant(made_adapters["lora_random"], merge=merge))
        try:
            outputs.append(backend.generate(requests))
        finally:
            backend.close()
    unmerged, merged = outputs
    assert [r.texts for r in unmerged[:2]] == [r.texts for r in merged[:2]]
    assert merged[2].choice_logprobs == pytest.approx(unmerged[2].choice_logprobs, abs=1e-3)
    base = HFBackend(BASE)  # the random adapter must actually change the model, or the check above is empty
    try:
        [plain] = base.generate(requests[2:])
    finally:
        base.close()
    assert plain.choice_logprobs != pytest.approx(unmerged[2].choice_logprobs, abs=1e-2)


@pytest.mark.slow
def test_lora_variant_evaluates_beside_its_base(tiny_tune: TuneResult, workspace: Workspace) -> None:
    from mlflow.tracking import MlflowClient

    from harness.run.runner import evaluate

    client = MlflowClient(workspace.tracking_uri)
    runs = {}
    for model in ("gemma3_270m", "tiny_lora"):
        cfg = compose_run(["task=classification", f"model={model}", "task.limit=3", *workspace.overrides()])
        result = evaluate(cfg, quiet=True)
        assert len(result.examples) == 3 and "accuracy" in result.metrics
        runs[model] = client.get_run(str(result.mlflow_run_id)).data.tags
    assert runs["tiny_lora"]["harness.variant"] == "lora" and runs["tiny_lora"]["harness.base_model"] == "gemma3_270m"
    assert runs["tiny_lora"]["harness.adapter"] == tiny_tune.adapter_hash
    assert runs["gemma3_270m"]["harness.variant"] == "base" and runs["gemma3_270m"]["harness.adapter"] == ""
    assert runs["gemma3_270m"]["harness.base_model"] == "gemma3_270m"


def test_evaluate_with_missing_adapter_fails_before_loading(workspace: Workspace, tmp_path: Path) -> None:
    from harness.run.runner import evaluate

    cfg = compose_run(["task=classification", "task.limit=2", f"model.adapter.path={tmp_path / 'gone'}",
                       *workspace.overrides()])
    with pytest.raises(ConfigError, match="adapter folder not found"):
        evaluate(cfg, quiet=True)
