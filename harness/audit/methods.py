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

import numpy as np
from numpy.typing import NDArray

from harness.audit.normalise import is_literal, normalise, template_tokens, words

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
    norm = normalise(text)
    return [hash(norm)] if norm else []


def ngram_keys(text: str, n: int) -> list[int]:
    ws = words(text)
    return [hash(tuple(ws[i : i + n])) for i in range(len(ws) - n + 1)]


def template_keys(text: str, max_slot: int, min_frame: int) -> tuple[list[int], list[int]]:
    """(masked-form key, slot keys): the masked form, and the masked form with each span of 1..max_slot
    tokens cut out.

    A slot key hashes (prefix, suffix): rows with the same frame around a slot share it
    whatever the slot holds and however long it is (up to max_slot tokens). Keys whose
    frame keeps fewer than min_frame literal words are left out.
    """
    toks = template_tokens(text)
    n = len(toks)
    literal = [0]
    for t in toks:
        literal.append(literal[-1] + is_literal(t))
    full = [hash(("full", *toks))] if literal[n] >= min_frame else []
    prefix = [hash(tuple(toks[:i])) for i in range(n + 1)]
    suffix = [hash(tuple(toks[j:])) for j in range(n + 1)]
    slots: set[int] = set()
    for m in range(1, min(max_slot, n) + 1):
        for i in range(n - m + 1):
            j = i + m
            if literal[i] + literal[n] - literal[j] >= min_frame:  # literal words left around the slot
                slots.add(hash((prefix[i], suffix[j])))
    return full, sorted(slots)


class TemplateIndex:
    """Masked forms of the training side, and the frames seen varying across otherwise-identical training rows.

    A slot key counts only when at least two different training rows (after masking) share it: the
    frame has been filled with different words in the training data itself. One training row that
    happens to differ from a test item in one word ("I need my card quickly" / "I need my card ASAP")
    is not a template; a frame the training data fills a dozen ways is.
    """

    def __init__(self, texts: Sequence[str], max_slot: int, min_frame: int) -> None:
        self.max_slot, self.min_frame = max_slot, min_frame
        full_keys, full_owners, keys, owners = array("q"), array("q"), array("q"), array("q")
        seen: set[int] = set()  # masked rows already counted: duplicates do not make a frame vary
        for i, text in enumerate(texts):
            full, slots = template_keys(text, max_slot, min_frame)
            full_keys.extend(full)
            full_owners.extend([i] * len(full))
            if not full or full[0] not in seen:
                seen.update(full)
                keys.extend(slots)
                owners.extend([i] * len(slots))
        self.full = KeyIndex(np.frombuffer(full_keys, dtype=np.int64), np.frombuffer(full_owners, dtype=np.int64))
        index = KeyIndex(np.frombuffer(keys, dtype=np.int64), np.frombuffer(owners, dtype=np.int64))
        self.slots = index.shared()

    def query(self, texts: Sequence[str]) -> NDArray[np.int64]:
        pairs = [template_keys(t, self.max_slot, self.min_frame) for t in texts]
        full = self.full.first_owner((p[0] for p in pairs), len(texts))
        slot = self.slots.first_owner((p[1] for p in pairs), len(texts))
        del pairs
        return np.where(full != NO_MATCH, full, slot)


def keys_of(texts: Iterable[str], fn: Callable[[str], list[int]]) -> Iterator[list[int]]:
    """Keys item by item (a generator: the index is filled without holding every key list at once)."""
    return (fn(t) for t in texts)


# ------------------------------------------------------------------ near duplicates (MinHash LSH)


def shingles(text: str, size: int) -> list[int]:
    """32-bit hashes (crc32: the same in every process) of the word shingles of a text."""
    ws = words(text)
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


class NearIndex:
    """MinHash LSH over the training side: b band tables of sorted keys."""

    def __init__(self, texts: Sequence[str], threshold: float, num_perm: int, shingle: int) -> None:
        self.threshold, self.num_perm, self.shingle = threshold, num_perm, shingle
        self.b, self.r = bands(threshold, num_perm)
        sh = [shingles(t, shingle) for t in texts]
        self.empty = np.fromiter((not s for s in sh), dtype=bool, count=len(sh))
        self.sig = signatures(sh, num_perm)
        self.tables = [KeyIndex(k, np.arange(len(texts), dtype=np.int64)) for k in band_keys(self.sig, self.b, self.r)]

    def query(self, texts: Sequence[str], bucket_limit: int = 16) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Per test item: the most similar training item at or above the threshold (or NO_MATCH).

        Also returns the estimated Jaccard of that match (0 when none).
        """
        sh = [shingles(t, self.shingle) for t in texts]
        sig = signatures(sh, self.num_perm)
        keys = band_keys(sig, self.b, self.r)
        best = np.full(len(texts), NO_MATCH, dtype=np.int64)
        best_j = np.zeros(len(texts))
        hits = np.zeros(len(texts), dtype=bool)
        for table, k in zip(self.tables, keys, strict=True):
            if table.keys.size:
                pos = np.minimum(np.searchsorted(table.keys, k), table.keys.size - 1)
                hits |= table.keys[pos] == k
        for i in np.flatnonzero(hits):
            if not sh[i]:
                continue
            found = [t.owners_of(int(k[i]), bucket_limit) for t, k in zip(self.tables, keys, strict=True)]
            cands = np.unique(np.concatenate(found))
            cands = cands[~self.empty[cands]]
            if not cands.size:
                continue
            est = (self.sig[cands] == sig[i]).mean(axis=1)
            top = int(np.argmax(est))  # first of the best: the lowest item index among ties
            if est[top] >= self.threshold:
                best[i], best_j[i] = int(cands[top]), float(est[top])
        return best, best_j
