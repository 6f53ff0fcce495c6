"""One pass over the training side builds every method's index; one pass over the test items queries them.

Each text is normalised once (words for exact, n-gram and shingles; masked tokens
for templates) and its keys go straight into flat arrays, so a million training
items never exist as a million Python key lists. MinHash signatures are computed
a chunk of items at a time. See harness.audit.methods for the methods themselves.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from harness.audit import methods as m
from harness.audit.normalise import template_tokens, words

CHUNK = 2048  # items per signature batch


@dataclass(frozen=True)
class AuditSettings:
    """What decides a flag; part of the cache key."""

    ngram: int = 13
    near_threshold: float = 0.8
    near_shingle: int = 2
    num_perm: int = 64
    template_max_slot: int = 2
    template_min_frame: int = 4


class _Keys:
    """Flat key/owner arrays for one method."""

    def __init__(self) -> None:
        self.keys, self.owners = array("q"), array("q")

    def add(self, item: int, keys: Sequence[int]) -> None:
        self.keys.extend(keys)
        self.owners.extend([item] * len(keys))

    def index(self) -> m.KeyIndex:
        return m.KeyIndex(np.frombuffer(self.keys, dtype=np.int64), np.frombuffer(self.owners, dtype=np.int64))


def _signatures(texts_words: Iterable[list[str]], s: AuditSettings) -> tuple[NDArray[np.uint32], NDArray[np.bool_]]:
    parts, empty, chunk = [], [], []
    for ws in texts_words:
        chunk.append(m._shingles(ws, s.near_shingle))
        empty.append(not ws)
        if len(chunk) == CHUNK:
            parts.append(m.signatures(chunk, s.num_perm))
            chunk = []
    if chunk or not parts:
        parts.append(m.signatures(chunk, s.num_perm))
    return np.concatenate(parts), np.asarray(empty, dtype=bool)


class AuditIndex:
    """Every method's index over the training texts."""

    def __init__(self, texts: Sequence[str], s: AuditSettings) -> None:
        self.s = s
        exact, ngram, full, slots = _Keys(), _Keys(), _Keys(), _Keys()
        seen: set[int] = set()  # masked rows already counted: duplicates do not make a frame vary
        all_words: list[list[str]] = []
        sig_parts = []
        empty: list[bool] = []
        for i, text in enumerate(texts):
            ws = words(text)
            exact.add(i, m._exact(ws))
            ngram.add(i, m._ngrams(ws, s.ngram))
            f, sl = m._template(template_tokens(text), s.template_max_slot, s.template_min_frame)
            full.add(i, f)
            if not f or f[0] not in seen:
                seen.update(f)
                slots.add(i, sl)
            all_words.append(ws)
            if len(all_words) == CHUNK:
                sig, emp = _signatures(all_words, s)
                sig_parts.append(sig)
                empty += emp.tolist()
                all_words = []
        if all_words or not sig_parts:
            sig, emp = _signatures(all_words, s)
            sig_parts.append(sig)
            empty += emp.tolist()
        self.exact, self.ngram, self.full = exact.index(), ngram.index(), full.index()
        self.slots = slots.index().shared()  # frames at least two different training rows fill
        self.sig = np.concatenate(sig_parts)
        self.empty = np.asarray(empty, dtype=bool)
        self.b, self.r = m.bands(s.near_threshold, s.num_perm)
        ids = np.arange(len(texts), dtype=np.int64)
        self.bands = [m.KeyIndex(k, ids) for k in m.band_keys(self.sig, self.b, self.r)]

    def query(self, texts: Sequence[str], bucket_limit: int = 16) -> dict[str, NDArray[np.int64]]:
        """Per method, per test item: the matching training item (the lowest index), or NO_MATCH."""
        s, n = self.s, len(texts)
        exact, ngram, full, slots = _Keys(), _Keys(), _Keys(), _Keys()
        all_words = []
        for i, text in enumerate(texts):
            ws = words(text)
            exact.add(i, m._exact(ws))
            ngram.add(i, m._ngrams(ws, s.ngram))
            f, sl = m._template(template_tokens(text), s.template_max_slot, s.template_min_frame)
            full.add(i, f)
            slots.add(i, sl)
            all_words.append(ws)
        out = {"exact": self.exact.first_owner_flat(exact.keys, exact.owners, n),
               "ngram": self.ngram.first_owner_flat(ngram.keys, ngram.owners, n)}
        by_full = self.full.first_owner_flat(full.keys, full.owners, n)
        by_slot = self.slots.first_owner_flat(slots.keys, slots.owners, n)
        out["template"] = np.where(by_full != m.NO_MATCH, by_full, by_slot)
        sig, empty = _signatures(all_words, s)
        out["near"] = self._near(sig, empty, bucket_limit)
        return out

    def _near(self, sig: NDArray[np.uint32], empty: NDArray[np.bool_], bucket_limit: int) -> NDArray[np.int64]:
        keys = m.band_keys(sig, self.b, self.r)
        best = np.full(sig.shape[0], m.NO_MATCH, dtype=np.int64)
        hits = np.zeros(sig.shape[0], dtype=bool)
        for table, k in zip(self.bands, keys, strict=True):
            if table.keys.size:
                pos = np.minimum(np.searchsorted(table.keys, k), table.keys.size - 1)
                hits |= table.keys[pos] == k
        for i in np.flatnonzero(hits & ~empty):
            found = [t.owners_of(int(k[i]), bucket_limit) for t, k in zip(self.bands, keys, strict=True)]
            cands = np.unique(np.concatenate(found))
            cands = cands[~self.empty[cands]]
            if not cands.size:
                continue
            est = (self.sig[cands] == sig[i]).mean(axis=1)  # estimated Jaccard: share of equal slots
            top = int(np.argmax(est))  # first of the best: the lowest item index among ties
            if est[top] >= self.s.near_threshold:
                best[i] = int(cands[top])
        return best
