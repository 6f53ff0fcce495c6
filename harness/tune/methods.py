"""The PEFT methods `python -m harness.tune method=...` offers, each with its own typed settings.

    lora    LoRA: low-rank updates of the attention projections       (peft.LoraConfig)
    qlora   LoRA on a 4-bit base loaded through bitsandbytes; CUDA only (peft.LoraConfig + BitsAndBytesConfig)
    ia3     IA3: learned rescaling of keys, values and the MLP          (peft.IA3Config)
    prefix  prefix tuning: trained keys/values in front of every layer  (peft.PrefixTuningConfig)
    prompt  prompt tuning: trained virtual tokens in front of the input (peft.PromptTuningConfig)

Each method reads only its own node of conf/tune.yaml (`lora:` serves lora and
qlora, `qlora:` adds the quantisation); a node changed from its defaults while
another method is chosen is a user mistake (e.g. `lora.rank=16 method=prefix`),
refused in one line before any model loads, so a setting never silently does nothing.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.core.errors import ConfigError

METHODS = ("lora", "qlora", "ia3", "prefix", "prompt")
LABELS = {"lora": "LoRA", "qlora": "QLoRA", "ia3": "IA3", "prefix": "prefix tuning", "prompt": "prompt tuning"}
# A method's usual learning rate when `learning_rate` is null: the virtual-token methods train a
# handful of vectors from scratch and need far larger steps than a LoRA update.
DEFAULT_LR = {"lora": 5e-4, "qlora": 5e-4, "ia3": 3e-3, "prefix": 1e-2, "prompt": 3e-2}
# the settings nodes each method reads: QLoRA trains a LoRA adapter, so it reads `lora:` too
_NODES = {"lora": ("lora",), "qlora": ("lora", "qlora"), "ia3": ("ia3",), "prefix": ("prefix",),
          "prompt": ("prompt",)}


@dataclass
class LoraSettings:
    """peft.LoraConfig fields the harness exposes (method=lora and method=qlora)."""

    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class QLoraSettings:
    """The 4-bit base of method=qlora (bitsandbytes); its adapter takes the `lora:` settings."""

    quant_type: str = "nf4"  # nf4 or fp4
    double_quant: bool = True
    compute_dtype: str = "bfloat16"


@dataclass
class IA3Settings:
    """peft.IA3Config fields: which modules are rescaled, and which of them are feed-forward."""

    target_modules: list[str] = field(default_factory=lambda: ["k_proj", "v_proj", "down_proj"])
    feedforward_modules: list[str] = field(default_factory=lambda: ["down_proj"])


@dataclass
class PrefixSettings:
    """peft.PrefixTuningConfig fields."""

    num_virtual_tokens: int = 16
    prefix_projection: bool = False  # True: train through an MLP (more parameters, often steadier)


@dataclass
class PromptSettings:
    """peft.PromptTuningConfig fields (random initialisation of the virtual tokens)."""

    num_virtual_tokens: int = 16


def check(cfg: Any) -> None:
    """The chosen method exists, only its own settings were changed, and QLoRA has a GPU."""
    method = cfg.method
    if method not in METHODS:
        close = difflib.get_close_matches(str(method), METHODS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"method={method!r} is unknown{hint}; choose one of {', '.join(METHODS)}")
    defaults = {"lora": LoraSettings(), "qlora": QLoraSettings(), "ia3": IA3Settings(),
                "prefix": PrefixSettings(), "prompt": PromptSettings()}
    for node, default in defaults.items():
        if node in _NODES[method]:
            continue
        changed = [k for k, v in asdict(getattr(cfg, node)).items() if v != getattr(default, k)]
        if changed:
            users = [m for m, nodes in _NODES.items() if node in nodes]
            raise ConfigError(
                f"{node}.{changed[0]} does not apply to method={method} (the {node}: settings are for "
                f"method={'|'.join(users)}); drop it or choose that method"
            )
    if method in ("lora", "qlora") and (cfg.lora.rank <= 0 or cfg.lora.alpha <= 0):
        raise ConfigError(f"lora.rank and lora.alpha must be positive, got {cfg.lora.rank} and {cfg.lora.alpha}")
    if method in ("prefix", "prompt") and getattr(cfg, method).num_virtual_tokens <= 0:
        raise ConfigError(f"{method}.num_virtual_tokens must be positive")
    if method == "qlora":
        _check_qlora(cfg.qlora)


def _check_qlora(q: QLoraSettings) -> None:
    import importlib.util

    import torch

    if not torch.cuda.is_available():
        raise ConfigError("method=qlora loads the base in 4 bits through bitsandbytes and needs a CUDA GPU; "
                          "none is visible here: use method=lora on this machine")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ConfigError("method=qlora needs the 'bitsandbytes' package: pip install bitsandbytes")
    if q.quant_type not in ("nf4", "fp4"):
        raise ConfigError(f"qlora.quant_type={q.quant_type!r}: use nf4 or fp4")
    if q.compute_dtype not in ("bfloat16", "float16", "float32"):
        raise ConfigError(f"qlora.compute_dtype={q.compute_dtype!r}: use bfloat16, float16 or float32")


def learning_rate(cfg: Any) -> float:
    """The configured learning rate, or the method's usual one when it is null."""
    return float(cfg.learning_rate) if cfg.learning_rate is not None else DEFAULT_LR[cfg.method]


def hyperparameters(cfg: Any) -> dict[str, Any]:
    """The method's part of the adapter key (LoRA's keys are as before methods existed, so old adapters match)."""
    m = cfg.method
    if m == "lora":
        return {"peft_type": "LORA", "rank": cfg.lora.rank, "alpha": cfg.lora.alpha, "dropout": cfg.lora.dropout,
                "target_modules": sorted(cfg.lora.target_modules)}
    if m == "qlora":
        return {"peft_type": "LORA", "method": "qlora", "rank": cfg.lora.rank, "alpha": cfg.lora.alpha,
                "dropout": cfg.lora.dropout, "target_modules": sorted(cfg.lora.target_modules),
                **{f"quant_{k}": v for k, v in asdict(cfg.qlora).items()}}
    if m == "ia3":
        return {"peft_type": "IA3", "target_modules": sorted(cfg.ia3.target_modules),
                "feedforward_modules": sorted(cfg.ia3.feedforward_modules)}
    if m == "prefix":
        return {"peft_type": "PREFIX_TUNING", **asdict(cfg.prefix)}
    return {"peft_type": "PROMPT_TUNING", **asdict(cfg.prompt)}


def peft_config(cfg: Any) -> Any:
    """peft's own config object for the chosen method."""
    from peft import IA3Config, LoraConfig, PrefixTuningConfig, PromptTuningConfig

    m = cfg.method
    if m in ("lora", "qlora"):
        return LoraConfig(r=cfg.lora.rank, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                          target_modules=list(cfg.lora.target_modules), task_type="CAUSAL_LM")
    if m == "ia3":
        return IA3Config(target_modules=list(cfg.ia3.target_modules),
                         feedforward_modules=list(cfg.ia3.feedforward_modules), task_type="CAUSAL_LM")
    if m == "prefix":
        return PrefixTuningConfig(num_virtual_tokens=cfg.prefix.num_virtual_tokens,
                                  prefix_projection=cfg.prefix.prefix_projection, task_type="CAUSAL_LM")
    return PromptTuningConfig(num_virtual_tokens=cfg.prompt.num_virtual_tokens, task_type="CAUSAL_LM")


def settings_key(cfg: Any) -> str:
    """The config node a peft error is about (named in the one-line error)."""
    return {"qlora": "lora", "lora": "lora"}.get(cfg.method, cfg.method)


def load_4bit(path: str, q: QLoraSettings) -> Any:
    """The base model quantised to 4 bits on the GPU, prepared for k-bit training (QLoRA)."""
    import torch
    from peft import prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=q.quant_type,
                               bnb_4bit_use_double_quant=q.double_quant,
                               bnb_4bit_compute_dtype=getattr(torch, q.compute_dtype))
    model = AutoModelForCausalLM.from_pretrained(path, quantization_config=quant, device_map={"": 0})
    return prepare_model_for_kbit_training(model)


def keeps_all_logits(method: str) -> bool:
    """Prompt tuning prepends virtual tokens to the labels too, so its batches keep every logit."""
    return method == "prompt"
