"""Batched generation and choice log-likelihoods for a loaded LM (HFBackend).

Two things here are about speed on a CPU:
- stop sequences are checked by decoding only the last few generated tokens
  of each row; transformers' `stop_strings` builds a token-level matcher
  over the whole vocabulary per call, which costs over a second with Gemma's
  262k-token vocabulary;
- log-likelihoods keep logits only at the continuation positions
  (`logits_to_keep`), instead of a full-vocabulary softmax at every position.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from harness.config.schema import HFModelConfig
from harness.core.errors import ConfigError
from harness.core.records import GenerationParams, Request, Response


class LoadedLM(Protocol):
    """What the forward passes need of a loaded model (LoadedLM is one)."""

    _cfg: HFModelConfig
    device: str
    model: Any
    tokenizer: Any

    def render(self, request: Request) -> str: ...


def _encode(b: LoadedLM, texts: Sequence[str]) -> list[list[int]]:
    # a chat template already starts with <bos>; plain prompts get it from the tokenizer
    special = not (b._cfg.chat_template and b.tokenizer.chat_template)
    return [list(ids) for ids in b.tokenizer(list(texts), add_special_tokens=special)["input_ids"]]


def _pad_left(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, width - len(r) :] = torch.tensor(r, dtype=torch.long)
            mask[i, width - len(r) :] = 1
    return ids, mask


AUTO_MAX_BATCH = 64  # past this, a CPU gains nothing and a GPU's gains flatten on small models


def batch_size(b: LoadedLM, n: int, tokens_per_row: int) -> int:
    """Rows per forward pass: `model.batch_size`, or with 0 ("auto") as many as memory allows.

    Auto sizing counts the KV cache and the fp32 logits each row needs and
    fills half of the free accelerator memory (a quarter of free RAM on a
    CPU), capped at AUTO_MAX_BATCH and at the number of rows waiting.
    """
    if b._cfg.batch_size > 0:
        return b._cfg.batch_size
    import torch

    cfg = b.model.config
    text = getattr(cfg, "text_config", cfg)
    layers: int = getattr(text, "num_hidden_layers", 32)
    heads: int = getattr(text, "num_key_value_heads", None) or text.num_attention_heads
    head_dim: int = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    elem = next(b.model.parameters()).element_size()
    per_row = 2 * layers * heads * head_dim * elem * tokens_per_row + 8 * text.vocab_size
    if b.device.startswith("cuda"):
        free = torch.cuda.mem_get_info()[0] // 2
    else:
        import psutil

        free = psutil.virtual_memory().available // 4
    return max(1, min(n, AUTO_MAX_BATCH, free // max(1, per_row)))


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Text before the earliest stop sequence, and whether one was found."""
    cut = min((pos for pos in (text.find(s) for s in stops) if pos >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _stop_criteria(b: LoadedLM, stops: Sequence[str], prompt_len: int) -> Any:
    import torch
    from transformers import StoppingCriteria

    window = max(len(s) for s in stops) + 2  # a stop of L chars spans at most L tokens

    class StopOnStrings(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            tail = input_ids[:, max(prompt_len, input_ids.shape[1] - window) :]
            texts = b.tokenizer.batch_decode(tail, skip_special_tokens=True)
            return torch.tensor([any(s in t for s in stops) for t in texts], device=input_ids.device)

    return StopOnStrings()


def generate(b: LoadedLM, requests: Sequence[Request]) -> list[Response]:
    """Left-padded batches of similar length; one generate() call per batch."""
    import torch

    if not requests:
        return []
    encoded = _encode(b, [b.render(r) for r in requests])
    groups: dict[GenerationParams, list[int]] = defaultdict(list)
    for i, r in enumerate(requests):
        groups[r.params].append(i)
    out: list[Response | None] = [None] * len(requests)
    pad_id = b.tokenizer.pad_token_id
    eos = b.model.generation_config.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos])
    for params, idxs in groups.items():
        order = sorted(idxs, key=lambda i: len(encoded[i]))
        size = batch_size(b, len(order), len(encoded[order[-1]]) + params.max_new_tokens * params.n)
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            kwargs: dict[str, Any] = {
                "max_new_tokens": params.max_new_tokens,
                "do_sample": not params.greedy,
                "num_return_sequences": params.n,
                "pad_token_id": pad_id,
            }
            shared = _shared_prefix(b, [encoded[i] for i in batch], pad_id) if params.n == 1 else None
            if shared:
                ids, mask, kwargs["past_key_values"] = shared
            else:
                ids, mask = _pad_left([encoded[i] for i in batch], pad_id)
            if not params.greedy:
                kwargs.update(temperature=params.temperature, top_p=params.top_p, top_k=params.top_k)
                if params.seed is not None:
                    torch.manual_seed(params.seed)
            else:  # silence sampling defaults a generation_config may carry
                kwargs.update(temperature=None, top_p=None, top_k=None)
            if params.stop:
                kwargs["stopping_criteria"] = [_stop_criteria(b, params.stop, ids.shape[1])]
            t0 = time.perf_counter()
            with torch.inference_mode():
                gen = b.model.generate(input_ids=ids.to(b.device), attention_mask=mask.to(b.device), **kwargs)
            latency = (time.perf_counter() - t0) / len(batch)
            new = gen[:, ids.shape[1] :].cpu()
            for j, i in enumerate(batch):
                rows = new[j * params.n : (j + 1) * params.n]
                texts, n_out, reason = [], 0, "length"
                for row in rows:
                    tokens = row.tolist()
                    ended = next((k for k, t in enumerate(tokens) if t in eos_ids or t == pad_id), None)
                    kept = tokens if ended is None else tokens[:ended]
                    n_out += len(kept) + (0 if ended is None else 1)
                    text, stopped = cut_at_stop(str(b.tokenizer.decode(kept, skip_special_tokens=True)), params.stop)
                    texts.append(text)
                    reason = "stop" if stopped or ended is not None else "length"
                out[i] = Response(
                    texts=tuple(texts), prompt_tokens=len(encoded[i]), output_tokens=n_out,
                    latency_s=latency, finish_reason=reason,
                )
    return [r for r in out if r is not None]


def virtual_tokens(b: LoadedLM) -> bool:
    """True for a prefix- or prompt-tuning adapter: peft supplies its own past_key_values (prefix) or
    prepends embeddings on every forward (prompt), so a KV cache computed here cannot be fed back."""
    config = getattr(b.model, "active_peft_config", None)
    return bool(getattr(config, "is_prompt_learning", False))


MIN_SHARED_PREFIX = 16  # tokens
# Prompt tokens a batch must save before the prefix pass is used. On a 2-core CPU, 8 rows sharing 82
# tokens (574 saved) measured no gain in an interleaved A/B (docs/benchmarks.md), so small batches skip it.
MIN_SAVED_TOKENS = 2048


def _shared_prefix(b: LoadedLM, rows: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any, Any] | None:
    """(ids, mask, cache) with the batch's common prefix encoded once, or None when there is none worth it.

    A few-shot prompt repeats the same instructions and examples in every
    row. Their keys and values are computed in one single-row pass and copied
    to every row; each row is then laid out as prefix + padding + its own
    suffix, the padding masked out, so positions (taken from the mask by
    generate) and attention match an unpadded prompt.
    """
    import torch

    if len(rows) < 2 or virtual_tokens(b):
        return None
    first, limit, p = rows[0], min(len(r) for r in rows) - 1, 0  # every row keeps one token of its own
    while p < limit and all(r[p] == first[p] for r in rows):
        p += 1
    if p < MIN_SHARED_PREFIX or p * (len(rows) - 1) < MIN_SAVED_TOKENS:
        return None
    prefix = torch.tensor([list(first[:p])], dtype=torch.long)
    with torch.inference_mode():
        cache = b.model(input_ids=prefix.to(b.device), use_cache=True, logits_to_keep=1).past_key_values
    cache.batch_repeat_interleave(len(rows))
    ids, mask = _pad_left([r[p:] for r in rows], pad_id)
    ids = torch.cat([prefix.expand(len(rows), -1), ids], dim=1)
    mask = torch.cat([torch.ones((len(rows), p), dtype=torch.long), mask], dim=1)
    return ids, mask.to(b.device), cache


def choice_logprobs(b: LoadedLM, requests: Sequence[Request]) -> list[Response]:
    """Sum of log-probabilities of each choice's tokens after the prompt.

    One pass per item for all its choices: the prompts of a batch are encoded
    once (left-padded, logits only at the last position, which gives every
    choice's first token); choices longer than one token then continue from
    that pass's KV cache, all of them in one more batched pass over their own
    tokens only. The prompt is never re-encoded per choice, which matters
    with many labels (banking77 has 77).
    """
    if not requests:
        return []
    if virtual_tokens(b):
        return _plain_choice_logprobs(b, requests)
    contexts = _encode(b, [b.render(r) for r in requests])
    conts = {
        (ri, ci): list(b.tokenizer(choice, add_special_tokens=False)["input_ids"])
        for ri, r in enumerate(requests)
        for ci, choice in enumerate(r.choices)
    }
    empty = next((requests[ri].choices[ci] for (ri, ci), c in conts.items() if not c), None)
    if empty is not None:
        raise ConfigError(f"choice {empty!r} encodes to no tokens (task.labels)")
    scores: dict[tuple[int, int], float] = {}
    times = [0.0] * len(requests)
    order = sorted(range(len(requests)), key=lambda ri: len(contexts[ri]))
    widest = max(len(c) for c in conts.values())
    rows = batch_size(b, len(conts), max(len(c) for c in contexts) + widest)
    if b._cfg.batch_size <= 0:  # auto: a continuation row keeps logits at `widest - 1` positions
        rows = max(1, rows // max(1, widest - 1))
    most = max(len(r.choices) for r in requests)
    per_batch = max(1, rows // most) if widest > 1 else rows  # items whose continuations fit one pass
    for start in range(0, len(order), per_batch):
        batch = order[start : start + per_batch]
        t0 = time.perf_counter()
        _score_items(b, batch, contexts, conts, scores, rows)
        spent = (time.perf_counter() - t0) / len(batch)
        for ri in batch:
            times[ri] += spent
    out = []
    for ri, r in enumerate(requests):
        lps = tuple(scores[(ri, ci)] for ci in range(len(r.choices)))
        best = max(range(len(lps)), key=lambda c: lps[c]) if lps else 0
        out.append(
            Response(
                texts=(r.choices[best].strip(),) if r.choices else (),
                prompt_tokens=len(contexts[ri]), output_tokens=0, latency_s=times[ri],
                finish_reason="choices", choice_logprobs=lps,
            )
        )
    return out


def _score_items(
    b: LoadedLM,
    batch: Sequence[int],
    contexts: Sequence[Sequence[int]],
    conts: dict[tuple[int, int], list[int]],
    scores: dict[tuple[int, int], float],
    rows: int,
) -> None:
    """Fill `scores` for every choice of the items in `batch` (indices into `contexts`)."""
    import copy

    import torch

    pad_id = b.tokenizer.pad_token_id
    ids, mask = _pad_left([contexts[ri] for ri in batch], pad_id)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    slot = {ri: j for j, ri in enumerate(batch)}
    mine = [(ri, ci) for (ri, ci) in conts if ri in slot]
    longer = [p for p in mine if len(conts[p]) > 1]
    with torch.inference_mode():
        out = b.model(
            input_ids=ids.to(b.device), attention_mask=mask.to(b.device), position_ids=positions.to(b.device),
            use_cache=bool(longer), logits_to_keep=1,
        )
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1).cpu()
        for ri, ci in mine:
            scores[(ri, ci)] = float(first[slot[ri], conts[(ri, ci)][0]])
        lengths = mask.sum(-1)
        for start in range(0, len(longer), rows):
            chunk = longer[start : start + rows]
            # the context's keys/values, one copy per continuation row (the last chunk may take the original)
            cache = out.past_key_values if start + rows >= len(longer) else copy.deepcopy(out.past_key_values)
            picks = torch.tensor([slot[ri] for ri, _ in chunk], dtype=torch.long)
            cache.reorder_cache(picks.to(b.device))
            # feed each choice's tokens but the last, right-padded: pads come after every real token, so
            # causal attention keeps them out of the positions read below
            k = max(len(conts[p]) for p in chunk) - 1
            cont_ids = torch.full((len(chunk), k), pad_id, dtype=torch.long)
            cont_mask = torch.zeros((len(chunk), k), dtype=torch.long)
            for row, p in enumerate(chunk):
                cont_ids[row, : len(conts[p]) - 1] = torch.tensor(conts[p][:-1], dtype=torch.long)
                cont_mask[row, : len(conts[p]) - 1] = 1
            logits = b.model(
                input_ids=cont_ids.to(b.device),
                attention_mask=torch.cat([mask[picks], cont_mask], dim=1).to(b.device),
                position_ids=(lengths[picks].unsqueeze(1) + torch.arange(k)).to(b.device),
                past_key_values=cache,
            ).logits.float()
            logp = torch.log_softmax(logits, dim=-1).cpu()
            for row, p in enumerate(chunk):
                rest = torch.tensor(conts[p][1:], dtype=torch.long).unsqueeze(1)
                scores[p] += float(logp[row, : len(rest)].gather(1, rest).sum())


def _plain_choice_logprobs(b: LoadedLM, requests: Sequence[Request]) -> list[Response]:
    """Choice log-likelihoods without reusing a KV cache (for prefix and prompt tuning adapters).

    One forward pass per item over its choices, each row prompt + choice but its last token,
    right-padded: every row starts at position 0 like an unpadded prompt (prompt tuning ignores
    position_ids), and padding after the real tokens is invisible to them under causal attention.
    Row i's j-th choice token is predicted by kept logit j (the last `widest` positions are kept).
    """
    import torch

    contexts = _encode(b, [b.render(r) for r in requests])
    pad_id = b.tokenizer.pad_token_id
    out = []
    for ri, r in enumerate(requests):
        conts = [list(b.tokenizer(c, add_special_tokens=False)["input_ids"]) for c in r.choices]
        if any(not c for c in conts):
            empty = r.choices[[len(c) for c in conts].index(0)]
            raise ConfigError(f"choice {empty!r} encodes to no tokens (task.labels)")
        widest = max(len(c) for c in conts)
        rows = [contexts[ri] + c[:-1] for c in conts]
        width = len(contexts[ri]) + widest - 1
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        t0 = time.perf_counter()
        with torch.inference_mode():
            logits = b.model(input_ids=ids.to(b.device), attention_mask=mask.to(b.device),
                             logits_to_keep=widest).logits.float()
        logp = torch.log_softmax(logits[:, -widest:], dim=-1).cpu()
        lps = tuple(float(sum(logp[i, j, t] for j, t in enumerate(c))) for i, c in enumerate(conts))
        best = max(range(len(lps)), key=lambda c: lps[c]) if lps else 0
        out.append(Response(
            texts=(r.choices[best].strip(),) if r.choices else (), prompt_tokens=len(contexts[ri]),
            output_tokens=0, latency_s=time.perf_counter() - t0, finish_reason="choices", choice_logprobs=lps,
        ))
    return out
