"""`python -m harness.tune method=...`: IA3, prefix and prompt tuning end to end; bad method settings.

Each method tunes the embedded Gemma for one step on 4 train examples, writes its
adapter and `variant: <method>` model config, logs its tuning run with the method,
and its variant evaluates (generation and log-likelihood choices) into MLflow.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tune_fixtures import Workspace, tiny_config

from harness.config.load import compose_run
from harness.core.errors import ConfigError
from harness.core.paths import ROOT
from harness.tune.cli import load_config
from harness.tune.data import IGNORE, CompletionCollator, TokenExample
from harness.tune.local import MANIFEST, tune

_SETTINGS = {
    "ia3": ["ia3.target_modules=[v_proj,down_proj]"],
    "prefix": ["prefix.num_virtual_tokens=4"],
    "prompt": ["prompt.num_virtual_tokens=4"],
}


def _method_config(ws: Workspace, method: str) -> object:
    # tiny_config sets LoRA settings; other methods start from the defaults plus their own node
    cfg = load_config([
        f"method={method}", f"name=tiny_{method}", "max_train_examples=4", "batch_size=4",  # one step
        f"adapters_dir={ws.adapters}", f"conf_dir={ws.conf}", f"tracking.uri={ws.tracking_uri}",
        *_SETTINGS[method],
    ])
    return cfg


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["method=prefx"], r"method='prefx' is unknown \(did you mean prefix\?\)"),
        (["method=prefix", "lora.rank=16"], r"lora\.rank does not apply to method=prefix"),
        (["method=lora", "prompt.num_virtual_tokens=8"], r"prompt\.num_virtual_tokens does not apply to method=lora"),
        (["method=ia3", "qlora.quant_type=fp4"], r"qlora\.quant_type does not apply to method=ia3"),
        (["method=prompt", "prompt.num_virtual_tokens=0"], "num_virtual_tokens must be positive"),
    ],
)
def test_method_settings_that_do_not_fit_are_refused(overrides: list[str], message: str) -> None:
    cfg = load_config(["name=x", *overrides])
    with pytest.raises(ConfigError, match=message):
        tune(cfg)  # type: ignore[arg-type]


def test_unknown_method_setting_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"prefix\.rank"):
        load_config(["method=prefix", "prefix.rank=8"])


def test_qlora_without_cuda_is_one_line_exit_2() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible: QLoRA would run")
    proc = subprocess.run(
        [sys.executable, "-m", "harness.tune", "method=qlora", "name=q", "tracking.enabled=false"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "method=qlora" in lines[0] and "CUDA" in lines[0] and "method=lora" in lines[0]


def test_prompt_tuning_batches_keep_whole_labels() -> None:
    batch = CompletionCollator(pad_id=0, all_logits=True)([TokenExample((5, 6), (8, 1)), TokenExample((5,), (9, 1))])
    assert "logits_to_keep" not in batch and "position_ids" not in batch
    assert batch["labels"].tolist() == [[IGNORE, IGNORE, 8, 1], [IGNORE, IGNORE, 9, 1]]


def test_learning_rate_defaults_per_method_and_lora_key_unchanged() -> None:
    from harness.tune.local import hyperparameters

    lora = hyperparameters(load_config([]))  # type: ignore[arg-type]
    # the key LoRA adapters were stored under before methods existed
    assert lora == {"peft_type": "LORA", "rank": 8, "alpha": 16, "dropout": 0.05,
                    "target_modules": ["k_proj", "o_proj", "q_proj", "v_proj"], "epochs": 1.0,
                    "learning_rate": 5e-4, "batch_size": 8, "max_train_examples": None, "seed": 1234}
    assert hyperparameters(load_config(["method=prompt"]))["learning_rate"] == 3e-2  # type: ignore[arg-type]
    assert hyperparameters(load_config(["method=prompt", "learning_rate=0.1"]))["learning_rate"] == 0.1  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ia3", "prefix", "prompt"])
def test_method_tunes_evaluates_and_is_recorded(method: str, workspace: Workspace) -> None:
    from mlflow.tracking import MlflowClient

    from harness.run.runner import evaluate

    result = tune(_method_config(workspace, method))  # type: ignore[arg-type]
    assert not result.cached and result.n_examples == 4 and result.trainable_params > 0
    config = json.loads((result.adapter_dir / "adapter_config.json").read_text())
    assert config["peft_type"] == {"ia3": "IA3", "prefix": "PREFIX_TUNING", "prompt": "PROMPT_TUNING"}[method]
    manifest = json.loads((result.adapter_dir / MANIFEST).read_text())
    assert manifest["hyperparameters"]["peft_type"] == config["peft_type"]
    assert f"variant: {method}" in result.config_path.read_text()

    client = MlflowClient(workspace.tracking_uri)
    tuning = client.get_run(str(result.run_id)).data
    assert tuning.tags["harness.variant"] == method and tuning.tags["harness.tune_method"] == method
    assert tuning.params["tune.peft_type"] == config["peft_type"]

    # generation (classification) or log-likelihood choices (banking77_demo); the direct test below covers
    # the other mode of prefix and prompt tuning, which need the no-KV-cache paths
    task = "banking77_demo" if method == "prefix" else "classification"
    cfg = compose_run([f"task={task}", f"model=tiny_{method}", "task.limit=2", *workspace.overrides()])
    assert cfg.model.variant == method
    run = evaluate(cfg, quiet=True)
    assert len(run.examples) == 2 and "accuracy" in run.metrics
    tags = client.get_run(str(run.mlflow_run_id)).data.tags
    assert tags["harness.variant"] == method and tags["harness.adapter"] == result.adapter_hash


@pytest.mark.slow
@pytest.mark.parametrize("method", ["prefix", "prompt"])
def test_virtual_token_adapters_score_choices_and_generate(method: str, workspace: Workspace) -> None:
    """Choice scores equal log p(choice | prompt) summed by hand from full passes; few-shot-length batches
    (which would take the shared-prefix KV path) generate."""
    import torch

    from harness.backends.hf.backend import HFBackend
    from harness.backends.hf.generate import choice_logprobs
    from harness.config.schema import AdapterConfig, HFModelConfig
    from harness.core.records import Request, RequestKind

    result = tune(_method_config(workspace, method))  # type: ignore[arg-type]  # reused after the test above
    b = HFBackend(HFModelConfig(name="p", path="embedded:gemma3-270m", chat_template=False,
                            adapter=AdapterConfig(path=str(result.adapter_dir))))
    req = Request(sample_id="a", prompt="Card arrived?", kind=RequestKind.CHOICES,
                  choices=(" card_arrival", " yes"))
    got = choice_logprobs(b, [req])[0].choice_logprobs
    ctx = b.tokenizer(req.prompt)["input_ids"]
    for choice, lp in zip(req.choices, got, strict=True):
        cont = b.tokenizer(choice, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = b.model(input_ids=torch.tensor([ctx + cont])).logits[0].float()
        logp = torch.log_softmax(logits[-len(cont) - 1 : -1], dim=-1)
        want = float(sum(logp[j, t] for j, t in enumerate(cont)))
        assert lp == pytest.approx(want, abs=1e-4)
    from harness.backends.hf.generate import MIN_SAVED_TOKENS, generate
    from harness.core.records import GenerationParams

    rows = 8  # 7 x a ~300-token common prefix saves over MIN_SAVED_TOKENS: the KV path would be taken
    shared = "Answer with one word. " * (MIN_SAVED_TOKENS // (5 * (rows - 1)) + 4)
    params = GenerationParams(max_new_tokens=2)
    texts = generate(b, [Request(sample_id=str(i), prompt=shared + q, params=params)
                         for i, q in enumerate("abcdefgh")])
    assert len(texts) == rows and all(r.output_tokens > 0 for r in texts)


def test_lora_config_still_composes_with_tiny_settings(workspace: Workspace) -> None:
    cfg = tiny_config(workspace)
    assert cfg.method == "lora" and cfg.lora.rank == 4
