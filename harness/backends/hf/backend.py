"""The transformers backend: any causal LM by Hub id or folder, plus PEFT adapters.

`model.path=embedded:gemma3-270m` is the embedded default model (see
harness.backends.hf.embedded). Identity (for the cache and MLflow) is the
model's content hash or pinned revision plus the adapter's content hash, so
two adapters of one base never share cache entries. torch, transformers and
peft are imported only when a model is actually loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.backends.base import BACKENDS, Backend, BackendIdentity, BackendPlugin, Capability
from harness.backends.hf.embedded import EMBEDDED_PREFIX, embedded_revision, resolve_embedded
from harness.config.schema import HFModelConfig
from harness.core.errors import ConfigError
from harness.core.records import Request, RequestKind, Response

log = logging.getLogger(__name__)

CAPABILITIES = frozenset({Capability.CHOICES, Capability.CANDIDATES, Capability.SAMPLING})
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".json", ".model", ".gguf")


def folder_hash(folder: Path) -> str:
    """Content hash of a model or adapter folder (weights, configs, tokenizer).

    Hashing a 1 GB folder takes about a second, so the digest is cached in a
    stamp file keyed by the files' names, sizes and mtimes.
    """
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    if not files:
        raise ConfigError(f"no model or adapter files in {folder}")
    meta = json.dumps([(str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files])
    from harness.backends.hf.embedded import cache_root

    stamp = cache_root() / "hashes" / hashlib.sha256(f"{folder.resolve()}|{meta}".encode()).hexdigest()
    if stamp.exists():
        return stamp.read_text().strip()
    digest = hashlib.sha256()
    for p in files:
        digest.update(str(p.relative_to(folder)).encode())
        with p.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    value = digest.hexdigest()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(value)
    return value


def _revision(path: str, revision: str | None) -> str:
    if path.startswith(EMBEDDED_PREFIX):
        return "gguf-sha256:" + embedded_revision()
    local = Path(path)
    if local.is_dir():
        return "sha256:" + folder_hash(local)
    if revision:
        return revision
    raise ConfigError(
        f"model.path={path!r} is not a local folder; pin model.revision=<commit> for a Hub id "
        "so results stay comparable"
    )


def identify(cfg: HFModelConfig) -> BackendIdentity:
    adapter = ""
    if cfg.adapter.path:
        local = Path(cfg.adapter.path).expanduser()
        if (local.is_absolute() or cfg.adapter.path.startswith((".", "~"))) and not local.is_dir():
            raise ConfigError(
                f"adapter folder not found: {cfg.adapter.path} (model.adapter.path of model {cfg.name}); "
                "create it with `python -m harness.tune` or fix the path"
            )
        adapter = _revision(cfg.adapter.path, cfg.adapter.revision)
        if cfg.adapter.merge:
            adapter += "+merged"
    return BackendIdentity(
        backend="hf",
        model=cfg.path,
        revision=_revision(cfg.path, cfg.revision),
        adapter=adapter,
        variant=cfg.variant,
        base_model=cfg.base_model or cfg.name,
    )


def resolve_path(path: str) -> str:
    if path.startswith(EMBEDDED_PREFIX):
        return str(resolve_embedded(path[len(EMBEDDED_PREFIX) :]))
    return path


class HFBackend:
    """Batched greedy/sampled generation and choice log-likelihoods on one device."""

    capabilities = CAPABILITIES

    def __init__(self, cfg: HFModelConfig) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.identity = identify(cfg)
        self._cfg = cfg
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if cfg.device == "auto" else cfg.device
        dtype: Any = cfg.dtype
        if cfg.dtype == "auto":
            dtype = torch.bfloat16 if self.device.startswith("cuda") else torch.float32
        path = resolve_path(cfg.path)
        kwargs: dict[str, Any] = {"revision": cfg.revision, "trust_remote_code": cfg.trust_remote_code}
        if cfg.gguf_file:
            kwargs["gguf_file"] = cfg.gguf_file
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **kwargs)
        except OSError as exc:
            raise ConfigError(f"cannot load model {cfg.path!r} (model.path): {str(exc).splitlines()[0]}") from None
        if cfg.adapter.path:
            model = _apply_adapter(model, cfg)
        self.model = model.to(self.device).eval()  # type: ignore[arg-type]
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        release_load_garbage(self.tokenizer)

    def render(self, request: Request) -> str:
        """The exact text fed to the model (chat template or plain completion)."""
        if self._cfg.chat_template and self.tokenizer.chat_template:
            messages = ([{"role": "system", "content": request.system}] if request.system else []) + [
                {"role": "user", "content": request.prompt}
            ]
            return str(self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
        return f"{request.system}\n\n{request.prompt}" if request.system else request.prompt

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        from harness.backends.hf import generate as hf_generate

        out: list[Response | None] = [None] * len(requests)
        gen = [i for i, r in enumerate(requests) if r.kind is RequestKind.GENERATE]
        cho = [i for i, r in enumerate(requests) if r.kind is RequestKind.CHOICES]
        for idx, resp in zip(gen, hf_generate.generate(self, [requests[i] for i in gen]), strict=True):
            out[idx] = resp
        for idx, resp in zip(cho, hf_generate.choice_logprobs(self, [requests[i] for i in cho]), strict=True):
            out[idx] = resp
        return [r for r in out if r is not None]

    @property
    def batch_size(self) -> int:
        return max(1, self._cfg.batch_size)

    def close(self) -> None:
        del self.model


def release_load_garbage(tokenizer: Any) -> None:
    """Hand back memory that loading left behind.

    transformers 5 keeps the Python vocab dict and merges list a BPE
    tokenizer was built from (`_vocab`, `_merges`; only its __init__ reads
    them). For Gemma's 262k-token vocabulary they and the heap they leave
    fragmented hold ~200 MB, a fifth of the model's weights, for the whole
    run; malloc_trim returns the freed heap to the OS (glibc only).
    """
    import ctypes
    import ctypes.util
    import gc

    for name in ("_vocab", "_merges"):
        if isinstance(getattr(tokenizer, name, None), (dict, list)):
            setattr(tokenizer, name, None)
    gc.collect()
    libc = ctypes.util.find_library("c")
    if libc:
        trim = getattr(ctypes.CDLL(libc), "malloc_trim", None)
        if trim is not None:
            trim(0)


def _apply_adapter(model: Any, cfg: HFModelConfig) -> Any:
    try:
        from peft import PeftModel
    except ImportError:
        raise ConfigError("model.adapter needs the 'peft' package: pip install peft") from None
    assert cfg.adapter.path
    try:
        model = PeftModel.from_pretrained(model, cfg.adapter.path, revision=cfg.adapter.revision)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load adapter {cfg.adapter.path!r} (model.adapter.path): {exc}") from None
    if cfg.adapter.merge and model.active_peft_config.is_prompt_learning:
        raise ConfigError(f"model.adapter.merge: the adapter {cfg.adapter.path!r} is prefix/prompt tuning, "
                          "which has no weights to merge; set model.adapter.merge=false")
    return model.merge_and_unload() if cfg.adapter.merge else model


def _load(cfg: HFModelConfig) -> Backend:
    return HFBackend(cfg)


BACKENDS.register("hf")(BackendPlugin(identify=identify, load=_load, capabilities=CAPABILITIES))
