"""Bootstrap 95% confidence intervals of the retrieval metrics (percentile method, seeded).

Resampling unit (documented choice): the *image query* together with its captions. The candidate pool stays
fixed (ranks are not recomputed), so the interval reflects which queries were drawn — the usual query
bootstrap. With one caption per image this is the same as resampling image–caption pairs. The resampling
itself is `harness.metrics.resample.clustered_bootstrap` (clusters = images), shared with the VLM metrics.
"""

from __future__ import annotations

import numpy as np

from .resample import clustered_bootstrap
from .retrieval import METRIC_KEYS, Ranks, per_image_hits


def _stat(sums: np.ndarray) -> np.ndarray:
    """(B, 8) summed per-image contributions → (B, 7) metrics in percent."""
    i2t = 100.0 * sums[:, 0:3] / np.maximum(sums[:, 7:8], 1.0)     # hits / images drawn
    t2i = 100.0 * sums[:, 3:6] / np.maximum(sums[:, 6:7], 1.0)     # caption hits / captions drawn
    return np.concatenate([i2t, t2i, np.concatenate([i2t, t2i], 1).mean(1, keepdims=True)], 1)


def bootstrap_ci(ranks: Ranks, n_resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, list[float]]:
    """{metric: [low, high]} percentile intervals for the seven metrics (percent); {} when disabled/empty."""
    if n_resamples <= 0 or ranks.i2t.size == 0:
        return {}
    hits = per_image_hits(ranks)                                       # (N, 7)
    values = np.column_stack([hits, np.ones(len(hits))])               # + image count
    lo_hi = clustered_bootstrap(values, np.arange(len(hits)), _stat, n_resamples, seed, level)
    return {k: [float(lo_hi[0, i]), float(lo_hi[1, i])] for i, k in enumerate(METRIC_KEYS)}
