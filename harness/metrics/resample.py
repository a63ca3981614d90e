"""Bootstrap 95% CIs clustered by image, for per-sample generation metrics (percentile method, seeded).

Resampling unit: the image (cluster). Every sample of a drawn image enters the resample together, so answers
to several prompts about one image are never treated as independent. A statistic is either a mean of one
per-sample value (rates, avg words, accuracy, per-sample ROUGE-L / CIDEr) or a ratio/functional of summed
per-sample vectors (`stat` over column sums, e.g. corpus BLEU from n-gram counts); both are recomputed on each
resample from per-cluster sums, so B resamples cost one (B x C) @ (C x D) product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def cluster_sums(values: np.ndarray, clusters: Sequence) -> np.ndarray:
    """(N, D) per-sample values -> (C, D) per-cluster sums (clusters in first-seen order)."""
    index: dict = {}
    ids = np.array([index.setdefault(c, len(index)) for c in clusters])
    out = np.zeros((len(index), values.shape[1]))
    np.add.at(out, ids, values)
    return out


def clustered_bootstrap(values: np.ndarray, clusters: Sequence, stat: Callable[[np.ndarray], np.ndarray],
                        n_resamples: int = 1000, seed: int = 0, level: float = 0.95) -> np.ndarray:
    """(2, K) [low; high] of `stat(summed (B, D) vectors) -> (B, K)` over image-clustered resamples."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    sums = cluster_sums(values, clusters)
    c = sums.shape[0]
    rng = np.random.default_rng(seed)
    stats = []
    for start in range(0, n_resamples, 256):
        b = min(256, n_resamples - start)
        counts = rng.multinomial(c, np.full(c, 1.0 / c), size=b).astype(np.float64)   # (b, C)
        stats.append(np.asarray(stat(counts @ sums)).reshape(b, -1))
    stats = np.concatenate(stats)
    alpha = (1.0 - level) / 2.0
    return np.quantile(stats, [alpha, 1.0 - alpha], axis=0)


def mean_ci(values: Sequence[float], clusters: Sequence, n_resamples: int = 1000, seed: int = 0,
            scale: float = 1.0) -> list[float] | None:
    """[low, high] of scale * mean(values) under image-clustered resampling (None when empty or disabled)."""
    if n_resamples <= 0 or len(values) == 0:
        return None
    v = np.column_stack([np.asarray(values, dtype=np.float64), np.ones(len(values))])
    lo_hi = clustered_bootstrap(v, clusters, lambda s: scale * s[:, 0] / np.maximum(s[:, 1], 1.0),
                                n_resamples, seed)
    return [float(lo_hi[0, 0]), float(lo_hi[1, 0])]
