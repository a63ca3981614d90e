"""64-bit perceptual hash (pHash) and near-duplicate grouping for the split audit.

`phash` reproduces `imagehash.phash(image, hash_size=8, highfreq_factor=4)` bit for bit (int(str(h), 16)):
grayscale, LANCZOS resize to 32×32, 2-D DCT-II (unnormalised), top-left 8×8 block, bit = coefficient > median,
bits read row-major, most significant first. No imagehash dependency.

`near_duplicate_groups` finds every pair within Hamming distance `radius` without comparing all pairs
(multi-index hashing: cut the 64 bits into radius+1 chunks; by the pigeonhole principle two hashes within the
radius agree exactly on at least one chunk, so only items sharing a chunk value are compared), then returns the
connected components (union-find) — the FusionRS rule "pHash64, radius 4, connected components".
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.fft import dct

HASH_SIZE = 8
HIGHFREQ_FACTOR = 4


def phash(image: Image.Image) -> int:
    """64-bit pHash of a PIL image as an unsigned int."""
    size = HASH_SIZE * HIGHFREQ_FACTOR
    pixels = np.asarray(image.convert("L").resize((size, size), Image.Resampling.LANCZOS), dtype=np.float64)
    coeffs = dct(dct(pixels, axis=0), axis=1)
    low = coeffs[:HASH_SIZE, :HASH_SIZE]
    bits = (low > np.median(low)).ravel()
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    return (int(a) ^ int(b)).bit_count()


class _UnionFind:
    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _chunks(radius: int) -> list[tuple[int, int]]:
    """(shift, width) of radius+1 near-equal bit chunks covering 64 bits."""
    k = radius + 1
    widths = [64 // k + (1 if i < 64 % k else 0) for i in range(k)]
    out, shift = [], 0
    for w in widths:
        out.append((shift, w))
        shift += w
    return out


def _close_pairs(h: np.ndarray, radius: int, block: int = 256):
    """Yield (i, j) index arrays of pairs of distinct hashes within `radius` bits (multi-index hashing)."""
    for shift, width in _chunks(radius):
        key = (h >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        order = np.argsort(key, kind="stable")
        bounds = np.flatnonzero(np.diff(key[order])) + 1
        for grp in np.split(order, bounds):
            if len(grp) < 2:
                continue
            sub = h[grp]
            for s in range(0, len(grp), block):
                dist = np.bitwise_count(sub[s:s + block, None] ^ sub[None, :])
                ii, jj = np.nonzero(dist <= radius)
                keep = jj > ii + s
                yield grp[ii[keep] + s], grp[jj[keep]]


def near_duplicate_pairs(hashes, radius: int = 4) -> set[tuple[int, int]]:
    """All index pairs (i < j) whose hashes differ in at most `radius` bits (for small inputs and tests)."""
    h = np.asarray(hashes, dtype=np.uint64)
    pairs: set[tuple[int, int]] = set()
    uniq, inverse = np.unique(h, return_inverse=True)
    members: dict[int, list[int]] = {}
    for i, u in enumerate(inverse.tolist()):
        members.setdefault(u, []).append(i)
    for m in members.values():
        pairs.update((a, b) for k, a in enumerate(m) for b in m[k + 1:])
    for ua, ub in _close_pairs(uniq, radius):
        for a, b in zip(ua.tolist(), ub.tolist(), strict=True):
            pairs.update((min(x, y), max(x, y)) for x in members[a] for y in members[b])
    return pairs


def component_labels(hashes, radius: int = 4) -> np.ndarray:
    """Per hash, the smallest index of its connected component (hashes within `radius` bits are linked).

    Identical hashes are merged first and everything stays in numpy arrays, so memory is a few bytes per item."""
    h = np.asarray(hashes, dtype=np.uint64)
    if len(h) == 0:
        return np.zeros(0, dtype=np.int64)
    uniq, inverse = np.unique(h, return_inverse=True)
    uf = _UnionFind(len(uniq))
    for ua, ub in _close_pairs(uniq, radius):
        for a, b in zip(ua.tolist(), ub.tolist(), strict=True):
            uf.union(a, b)
    roots = np.array([uf.find(u) for u in range(len(uniq))], dtype=np.int64)[inverse]
    first = np.full(len(uniq), len(h), dtype=np.int64)
    np.minimum.at(first, roots, np.arange(len(h)))
    return first[roots]


def nearest_rank(hashes, ranks, radius: int = 4) -> np.ndarray:
    """Per item, the highest `rank` among items whose hash is within `radius` bits of its own (itself included).

    Direct neighbours only (not connected components), so a chain of look-alikes cannot pull in unrelated
    images; numpy arrays throughout."""
    h = np.asarray(hashes, dtype=np.uint64)
    r = np.asarray(ranks, dtype=np.int64)
    if len(h) == 0:
        return np.zeros(0, dtype=np.int64)
    uniq, inverse = np.unique(h, return_inverse=True)
    top = np.full(len(uniq), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(top, inverse, r)
    best = top.copy()
    for ua, ub in _close_pairs(uniq, radius):
        np.maximum.at(best, ua, top[ub])
        np.maximum.at(best, ub, top[ua])
    return best[inverse]


def near_duplicate_groups(hashes, radius: int = 4) -> list[list[int]]:
    """Connected components (size ≥ 2, sorted) of the graph linking hashes within `radius` bits."""
    labels = component_labels(hashes, radius)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return sorted((g.tolist() for g in np.split(order, bounds) if len(g) > 1), key=lambda g: g[0])
