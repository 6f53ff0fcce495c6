"""The tune command end to end: a real tiny LoRA tune, its adapter, config, MLflow run and reuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tune_fixtures import Workspace, tiny_config

from harness.config.load import compose_run
from harness.core.errors import ConfigError
from harness.tune.cli import load_config
from harness.tune.data import IGNORE, CompletionCollator, TokenExample, text_pairs, train_samples
from harness.tune.local import MANIFEST, TuneResult, tune


def test_examples_are_train_split_with_the_eval_prompt() -> None:
    cfg = load_config(["max_train_examples=5"])
    samples = train_samples(cfg.task, 5, seed=1)  # type: ignore[attr-defined]
    assert len(samples) == 5 and all(s.id.startswith("train-") for s in samples)
    pairs = text_pairs(cfg.task, samples, " ")  # type: ignore[attr-defined]
    assert pairs[0].prompt.endswith("Sentiment:") and "Review: " + samples[0].input in pairs[0].prompt
    assert pairs[0].completion == " " + samples[0].target


def test_collator_labels_only_completion_tokens() -> None:
    batch = CompletionCollator(pad_id=0)([TokenExample((5, 6, 7), (8, 1)), TokenExample((5,), (9, 9, 1))])
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8, 1], [0, 5, 9, 9, 1]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [0, 1, 1, 1, 1]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 3, 4], [0, 0, 1, 2, 3]]
    # last 4 positions kept (longest completion 3, +1 for the shift); the first kept label is never trained on
    assert batch["logits_to_keep"] == 4
    assert batch["labels"].tolist() == [[IGNORE, IGNORE, 8, 1], [IGNORE, 9, 9, 1]]


def test_bad_tune_configs_fail_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"lora\.rnk"):
        load_config(["lora.rnk=4"])
    with pytest.raises(ConfigError, match="base model's own config name"):
        tune(load_config(["name=gemma3_270m"]))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="HF model"):
        tune(load_config(["model=gemini_flash", "name=x"]))  # type: ignore[arg-type]


@pytest.mark.slow
def test_tiny_tune_writes_adapter_config_and_mlflow_run(tiny_tune: TuneResult, workspace: Workspace) -> None:
    from mlflow.tracking import MlflowClient

    assert not tiny_tune.cached and tiny_tune.n_examples == 8
    assert (tiny_tune.adapter_dir / "adapter_model.safetensors").exists()
    manifest = json.loads((tiny_tune.adapter_dir / MANIFEST).read_text())
    assert manifest["key"] == tiny_tune.key and manifest["hyperparameters"]["rank"] == 4
    assert tiny_tune.trainable_params > 0 and tiny_tune.examples_per_s > 0

    run_cfg = compose_run(["task=classification", "model=tiny_lora", *workspace.overrides()])
    model = run_cfg.model
    assert (model.variant, model.base_model, model.path) == ("lora", "gemma3_270m", "embedded:gemma3-270m")
    assert model.adapter.path == str(tiny_tune.adapter_dir) and model.chat_template is False

    run = MlflowClient(workspace.tracking_uri).get_run(str(tiny_tune.run_id))
    tags = run.data.tags
    assert tags["harness.kind"] == "tuning" and tags["harness.base_model"] == "gemma3_270m"
    assert tags["harness.adapter"] == tiny_tune.adapter_hash
    assert "harness.model" not in tags  # would make compare mistake it for an evaluation run
    assert run.data.metrics["trainable_params"] == tiny_tune.trainable_params
    assert run.data.metrics["tuning_cost_usd"] >= 0 and run.data.metrics["tuning.wall_s"] > 0
    history = MlflowClient(workspace.tracking_uri).get_metric_history(run.info.run_id, "train.loss")
    assert [m.step for m in history] == [1, 2]
    pointer = json.loads(Path(MlflowClient(workspace.tracking_uri).download_artifacts(
        run.info.run_id, "adapter/pointer.json", str(workspace.root))).read_text())
    assert pointer["path"] == str(tiny_tune.adapter_dir.resolve()) and pointer["hash"] == tiny_tune.adapter_hash
    weights = tiny_tune.adapter_dir / "adapter_model.safetensors"
    assert pointer["files"]["adapter_model.safetensors"] == weights.stat().st_size
    assert run.data.params["tune.rank"] == "4"


@pytest.mark.slow
def test_same_tune_again_reuses_the_adapter(tiny_tune: TuneResult, workspace: Workspace) -> None:
    again = tune(tiny_config(workspace))
    assert again.cached and again.key == tiny_tune.key and again.adapter_hash == tiny_tune.adapter_hash
    assert again.run_id is None  # nothing trained, nothing logged


def test_changed_hyperparameters_change_the_key(workspace: Workspace) -> None:
    from harness.tune.local import hyperparameters

    a, b = tiny_config(workspace), tiny_config(workspace, "tiny_lora", "lora.rank=8")
    assert hyperparameters(a) != hyperparameters(b)
