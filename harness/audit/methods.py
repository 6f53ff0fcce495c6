"""The four overlap methods, each an index built once over the training side and queried per test item.

Every method turns a text into 64-bit keys; `KeyIndex` holds the training
side's keys sorted, with the training item each came from, and answers a
batch of test keys with binary search. Building is O(train keys log), each
query O(log): the audit grows linearly with test + train size, and memory is
16 bytes per training key (no per-key Python objects).

- exact:    one key, the normalised text (harness.audit.normalise.normalise)
- ngram:    one key per word n-gram (n = audit.ngram, 13 as in lm-eval's decontamination);
            a text shorter than n words has none (exact still covers it)
- near:     MinHash over word shingles with datasketch's permutation family, banded as
            datasketch.MinHashLSH would band it for the threshold; a band hit is kept when the
            estimated Jaccard (share of equal signature slots) reaches audit.near_threshold
- template: the masked form (numbers, dates, money, names masked), and the masked form with one
            span of up to audit.template_max_slot tokens cut out (the token(s) that vary across
            otherwise-identical rows), counted only for frames that at least two different training
            rows share; a key needs audit.template_min_frame literal words around its placeholders.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from harness.audit.normalise import is_literal, template_tokens, words

NO_MATCH = -1
_MASK32 = np.uint64(0xFFFFFFFF)


class KeyIndex:
    """The training side's keys, sorted, with the item each came from; duplicates keep the first item."""

    def __init__(self, keys: NDArray[np.int64], owners: NDArray[np.int64]) -> None:
        order = np.argsort(keys, kind="stable")  # stable: equal keys stay in item order, the first wins
        self.keys = keys[order]
        self.owners = owners[order]

    @classmethod
    def build(cls, key_lists: Iterable[Sequence[int]]) -> KeyIndex:
        keys, owners = _flatten(key_lists)
        return cls(keys, owners)

    def shared(self) -> KeyIndex:
        """Only the keys that more than one entry holds (sorted order kept, no second sort)."""
        same = self.keys[1:] == self.keys[:-1]
        keep = np.zeros(self.keys.size, dtype=bool)
        keep[1:] |= same
        keep[:-1] |= same
        out = KeyIndex.__new__(KeyIndex)
        out.keys, out.owners = self.keys[keep], self.owners[keep]
        return out

    def first_owner(self, key_lists: Iterable[Sequence[int]], n_items: int) -> NDArray[np.int64]:
        """Per query item: the lowest training item sharing any of its keys, or NO_MATCH."""
        keys, items = _flatten(key_lists)
        return self.first_owner_flat(keys, items, n_items)

    def first_owner_flat(self, keys: Any, items: Any, n_items: int) -> NDArray[np.int64]:
        """`first_owner` for flat arrays of keys and the query item each belongs to."""
        keys = np.frombuffer(keys, dtype=np.int64) if isinstance(keys, array) else keys
        items = np.frombuffer(items, dtype=np.int64) if isinstance(items, array) else items
        best = np.full(n_items, np.iinfo(np.int64).max, dtype=np.int64)
        if keys.size and self.keys.size:
            pos = np.minimum(np.searchsorted(self.keys, keys), self.keys.size - 1)
            hit = self.keys[pos] == keys
            np.minimum.at(best, items[hit], self.owners[pos[hit]])
        return np.where(best == np.iinfo(np.int64).max, NO_MATCH, best)

    def owners_of(self, key: int, limit: int) -> NDArray[np.int64]:
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        return self.owners[lo : min(hi, lo + limit)]


def _flatten(key_lists: Iterable[Sequence[int]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    keys, owners = array("q"), array("q")
    for i, ks in enumerate(key_lists):
        keys.extend(ks)
        owners.extend([i] * len(ks))
    return np.frombuffer(keys, dtype=np.int64), np.frombuffer(owners, dtype=np.int64)


# ------------------------------------------------------------------ keys per method


def exact_keys(text: str) -> list[int]:
    return _exact(words(text))


def ngram_keys(text: str, n: int) -> list[int]:
    return _ngrams(words(text), n)


def template_keys(text: str, max_slot: int, min_frame: int) -> tuple[list[int], list[int]]:
    """(masked-form key, slot keys): the masked form, and the masked form with each span of 1..max_slot
    tokens cut out.

    A slot key hashes (prefix, suffix): rows with the same frame around a slot share it
    whatever the slot holds and however long it is (up to max_slot tokens). Keys whose
    frame keeps fewer than min_frame literal words are left out.
    """
    return _template(template_tokens(text), max_slot, min_frame)


def _exact(ws: list[str]) -> list[int]:
    return [hash(" ".join(ws))] if ws else []


def _ngrams(ws: list[str], n: int) -> list[int]:
    return [hash(tuple(ws[i : i + n])) for i in range(len(ws) - n + 1)]


def _template(toks: list[str], max_slot: int, min_frame: int) -> tuple[list[int], list[int]]:
    n = len(toks)
    literal = [0]
    for tok in toks:
        literal.append(literal[-1] + is_literal(tok))
    full = [hash(("full", *toks))] if literal[n] >= min_frame else []
    # chained hashes: prefix[i] stands for toks[:i], suffix[j] for toks[j:], each O(1) from its neighbour
    prefix = [0] * (n + 1)
    for i, tok in enumerate(toks):
        prefix[i + 1] = hash((prefix[i], tok))
    suffix = [1] * (n + 1)
    for j in range(n - 1, -1, -1):
        suffix[j] = hash((toks[j], suffix[j + 1]))
    total = literal[n]
    slots = {
        hash((prefix[i], suffix[i + m]))
        for m in range(1, min(max_slot, n) + 1)
        for i in range(n - m + 1)
        if total - (literal[i + m] - literal[i]) >= min_frame  # literal words left around the slot
    }
    return full, list(slots)


def keys_of(texts: Iterable[str], fn: Callable[[str], list[int]]) -> Iterator[list[int]]:
    """Keys item by item (a generator: the index is filled without holding every key list at once)."""
    return (fn(t) for t in texts)


# ------------------------------------------------------------------ near duplicates (MinHash LSH)


def shingles(text: str, size: int) -> list[int]:
    """32-bit hashes (crc32: the same in every process) of the word shingles of a text."""
    return _shingles(words(text), size)


def _shingles(ws: list[str], size: int) -> list[int]:
    if not ws:
        return []
    if len(ws) < size:
        return [zlib.crc32(" ".join(ws).encode())]
    return [zlib.crc32(" ".join(ws[i : i + size]).encode()) for i in range(len(ws) - size + 1)]


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int = 1) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """datasketch's MinHash permutation family (scheme affine32): h -> a*fmix32(h) + b mod 2^32."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


@lru_cache(maxsize=8)
def bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(b, r): the banding datasketch.MinHashLSH picks for this threshold and signature length."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


def _fmix32(h: NDArray[np.uint32]) -> NDArray[np.uint32]:
    # MurmurHash3's finalizer, as datasketch's affine32 scheme applies it before permuting
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def signatures(shingle_lists: Sequence[Sequence[int]], num_perm: int, chunk: int = 2048) -> NDArray[np.uint32]:
    """MinHash signatures, one row per item, equal to datasketch.MinHash.update_batch's hashvalues.

    Computed a chunk of items at a time with one vectorized min-reduction, instead of one
    MinHash object per item (about 80 us each, most of it Python overhead). Items without
    shingles get the all-max row and are never matched (`near_owner` skips them).
    """
    a, b = permutations(num_perm)
    out = np.full((len(shingle_lists), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for start in range(0, len(shingle_lists), chunk):
            part = shingle_lists[start : start + chunk]
            lens = np.fromiter((len(s) for s in part), dtype=np.int64, count=len(part))
            nonempty = np.flatnonzero(lens)
            if not nonempty.size:
                continue
            flat = np.fromiter((h for s in part for h in s), dtype=np.uint32, count=int(lens.sum()))
            phv = _fmix32(flat)[:, None] * a + b
            starts = np.concatenate(([0], np.cumsum(lens)[:-1]))[nonempty]
            out[start + nonempty] = np.minimum.reduceat(phv, starts, axis=0)
    return out


def band_keys(sig: NDArray[np.uint32], b: int, r: int) -> list[NDArray[np.int64]]:
    """One 64-bit key per item and band (FNV-style mix of the band's r slots)."""
    out = []
    with np.errstate(over="ignore"):
        for band in range(b):
            h = np.full(sig.shape[0], np.uint64(band + 1) * np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
            for k in range(band * r, band * r + r):
                h = (h ^ sig[:, k].astype(np.uint64)) * np.uint64(0x100000001B3)
            out.append(h.view(np.int64))
    return out
