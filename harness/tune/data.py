"""Training examples for local PEFT tuning: the evaluation's own prompt plus the target.

An example is the task's zero-shot prompt rendered exactly as the HF backend
renders it for evaluation (same template, same chat-template choice, same
special tokens), followed by the target as the completion. Prompt and
completion are tokenized separately, the way the evaluation sees them: the
prompt is encoded alone and the model then produces the completion's tokens.

The collator pads on the left and keeps logits only for the last positions,
where the completions are. Gemma's 262k-token output layer is most of the
model's cost per token; computing it only where the loss is taken makes a
CPU tune roughly twice as fast, and the loss is the same (prompt positions
carry label -100 either way).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.config.schema import TaskConfig
from harness.core.errors import ConfigError
from harness.core.records import Request, Sample

IGNORE = -100  # label value the loss skips (transformers' convention)


@dataclass(frozen=True)
class TextPair:
    """One training example before tokenization."""

    sample_id: str
    prompt: str  # the rendered task prompt (before any chat template)
    system: str | None
    completion: str  # the target with its separator, e.g. " positive"


@dataclass(frozen=True)
class TokenExample:
    """One tokenized example: the prompt's ids and the completion's ids (ending in EOS)."""

    prompt_ids: tuple[int, ...]
    completion_ids: tuple[int, ...]


def nested_subset(n: int, k: int, seed: int) -> list[int]:
    """Indices (ascending) of a seeded k-subset of range(n) that grows by inclusion with k.

    The first k of one seeded shuffle: for one seed, the subset of 25 lies inside
    the subset of 50, and so on (a learning curve over training-set sizes needs
    that). `random.sample` with different k is not nested: it switches algorithm
    with k, plain tune runs keep it so that existing adapters stay reusable.
    """
    order = list(range(n))
    random.Random(f"tune-nested:{seed}").shuffle(order)
    return sorted(order[: min(k, n)])


def train_samples(task: TaskConfig, cap: int | None, seed: int, nested: bool = False) -> tuple[Sample, ...]:
    """The task's TRAIN split (never test), optionally a seeded subset of `cap` kept in file order.

    nested=True draws the subset with `nested_subset` (subsets of one seed grow by inclusion).
    """
    from harness.data.samples import load_task_data

    zero_shot = dataclasses.replace(task, shots=0, limit=None)
    train = load_task_data(zero_shot).train
    if not train:
        raise ConfigError(f"task {task.name} has no train split to tune on (task.data.train_path / train_split)")
    if cap is not None:
        if cap <= 0:
            raise ConfigError(f"max_train_examples must be positive, got {cap}")
        if cap < len(train):
            if nested:
                keep = nested_subset(len(train), cap, seed)
            else:
                keep = sorted(random.Random(f"tune:{seed}").sample(range(len(train)), cap))
            train = tuple(train[i] for i in keep)
    missing = [s.id for s in train if not s.target]
    if missing:
        raise ConfigError(f"task {task.name}: train sample {missing[0]} has no target to tune on")
    return train


def text_pairs(task: TaskConfig, samples: Sequence[Sample], separator: str) -> list[TextPair]:
    """Zero-shot prompts from the task's own template, each with its target as the completion."""
    from harness.data.prompts import PromptBuilder

    builder = PromptBuilder(dataclasses.replace(task, shots=0), ())
    return [TextPair(s.id, builder.render(s), builder.system, separator + s.target) for s in samples]


def pairs_fingerprint(pairs: Sequence[TextPair]) -> str:
    """Hash of exactly what is trained on (covers data, template, cap and separator)."""
    digest = hashlib.sha256()
    for p in pairs:
        digest.update(json.dumps([p.sample_id, p.system, p.prompt, p.completion], ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def tokenize(backend: Any, chat_template: bool, pairs: Sequence[TextPair]) -> list[TokenExample]:
    """Token ids as the HF backend would see them (its `render`, its special-token rule)."""
    tok = backend.tokenizer
    # the same rule as the backend's encoder: a chat template already starts with <bos>
    special = not (chat_template and tok.chat_template)
    eos = tok.eos_token_id
    out = []
    for p in pairs:
        text = backend.render(Request(sample_id=p.sample_id, prompt=p.prompt, system=p.system))
        prompt_ids = tok(text, add_special_tokens=special)["input_ids"]
        completion_ids = [*tok(p.completion, add_special_tokens=False)["input_ids"], eos]
        out.append(TokenExample(tuple(prompt_ids), tuple(completion_ids)))
    return out


class CompletionCollator:
    """Left-pads a batch and labels only completion tokens; logits are kept for the last positions only."""

    def __init__(self, pad_id: int, all_logits: bool = False) -> None:
        self.pad_id = pad_id
        # prompt tuning prepends virtual tokens to inputs and labels alike, so its labels must span
        # the whole row and no logits may be dropped (and it ignores position_ids)
        self.all_logits = all_logits

    def __call__(self, batch: Sequence[TokenExample]) -> dict[str, Any]:
        import torch

        rows = [list(e.prompt_ids) + list(e.completion_ids) for e in batch]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
        for i, (row, e) in enumerate(zip(rows, batch, strict=True)):
            ids[i, width - len(row) :] = torch.tensor(row)
            mask[i, width - len(row) :] = 1
            labels[i, width - len(e.completion_ids) :] = torch.tensor(e.completion_ids)
        # The logit at position t predicts token t+1, so keeping the last k+1
        # positions covers every completion token of length <= k; the model's
        # loss shifts labels within the kept window.
        keep = max(len(e.completion_ids) for e in batch) + 1
        if self.all_logits:
            return {"input_ids": ids, "attention_mask": mask, "labels": labels}
        return {
            "input_ids": ids,
            "attention_mask": mask,
            # positions from the mask, so left padding matches an unpadded pass (as in evaluation)
            "position_ids": (mask.cumsum(-1) - 1).clamp(min=0),
            "labels": labels[:, -keep:],
            "logits_to_keep": keep,
        }
