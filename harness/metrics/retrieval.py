"""Bidirectional retrieval metrics, paper Appendix A.5 (eq. 23–25). Pure functions on embeddings/ranks.

eq. 23  rank(q) = 1 + |{ c ≠ gt : s(q, c) > s(q, gt) }|  with s the cosine similarity (embeddings are
        L2-normalised, so the dot product). The comparison is strict: a candidate that *ties* the ground truth
        does not push it down, i.e. ties count in the query's favour (documented choice, tested).
eq. 24  R@k = 100 · (1/N) Σ_q 1[rank(q) ≤ k]   (percent, like the paper's tables)
eq. 25  mR  = mean of I2T R@1/5/10 and T2I R@1/5/10.

Several captions per image (CLIP_benchmark convention): `text_to_image[t]` is the image of caption t. An image
query is a hit at k if *any* of its captions is in the top k, i.e. its rank is that of its best-scored caption;
a caption query's single ground truth is its image.

Scores are computed in chunks of queries against the whole pool: memory O(N · chunk), never N × N at once.
The ground-truth score is read from the same matmul as the candidates', so a tie is an exact tie.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

KS = (1, 5, 10)
METRIC_KEYS = ("i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10", "mR")
CHUNK_ELEMENTS = 1 << 26  # 64 Mi float32 scores (256 MiB) per chunk


@dataclass
class Ranks:
    """1-based ranks per image query (i2t) and per caption query (t2i), plus the caption → image map."""

    i2t: np.ndarray
    t2i: np.ndarray
    text_to_image: np.ndarray


def _chunk_rows(n_candidates: int, chunk: int | None) -> int:
    return max(1, chunk if chunk else CHUNK_ELEMENTS // max(1, n_candidates))


def _as_tensor(x) -> torch.Tensor:
    t = torch.as_tensor(x)
    return t.float() if t.dtype not in (torch.float32, torch.float64) else t


def _buffer(rows: int, cols: int, dtype) -> torch.Tensor:
    """Score buffer reused by every chunk (no per-chunk allocation / page faults)."""
    return torch.empty((rows, cols), dtype=dtype)


def _count_greater(scores: torch.Tensor, thresh: torch.Tensor, block: int = 64) -> torch.Tensor:
    """Per row, how many scores are strictly greater than the row's threshold (eq. 23). Counted in blocks
    of rows because torch's bool reductions make an int64 copy of their input."""
    out = torch.empty(scores.shape[0], dtype=torch.long)
    for a in range(0, scores.shape[0], block):
        out[a:a + block] = (scores[a:a + block] > thresh[a:a + block, None]).sum(1)
    return out


def compute_ranks(image_emb, text_emb, text_to_image, chunk: int | None = None) -> Ranks:
    """Ranks of eq. 23 for both directions; `chunk` = query rows scored at once (default: ~256 MiB of scores)."""
    img, txt = _as_tensor(image_emb), _as_tensor(text_emb)
    txt = txt.to(img.dtype)
    t2img = torch.as_tensor(np.asarray(text_to_image), dtype=torch.long)
    n_img, n_txt = img.shape[0], txt.shape[0]
    if t2img.shape != (n_txt,):
        raise ValueError(f"text_to_image must have one entry per caption ({n_txt}), got {tuple(t2img.shape)}")
    if n_txt and (t2img.min() < 0 or t2img.max() >= n_img):
        raise ValueError("text_to_image holds an index outside the image pool")
    if n_img and torch.bincount(t2img, minlength=n_img).min() == 0:
        raise ValueError("every image needs at least one caption")

    # I2T: best ground-truth score per image = max over its captions, taken from the same score rows.
    i2t = torch.empty(n_img, dtype=torch.long)
    order = torch.argsort(t2img, stable=True)           # captions grouped by image
    starts = torch.searchsorted(t2img[order], torch.arange(n_img + 1))
    step = _chunk_rows(n_txt, chunk)
    buf = _buffer(min(step, n_img), n_txt, img.dtype)
    for a in range(0, n_img, step):
        b = min(n_img, a + step)
        scores = torch.matmul(img[a:b], txt.T, out=buf[: b - a])     # (chunk, n_txt), reused buffer
        caps = order[starts[a]:starts[b]]                # captions of images a..b-1
        rows = t2img[caps] - a
        best = torch.full((b - a,), -torch.inf, dtype=scores.dtype)
        best.scatter_reduce_(0, rows, scores[rows, caps], reduce="amax")
        i2t[a:b] = 1 + _count_greater(scores, best)

    buf = scores = None  # release the I2T buffer before allocating the T2I one

    # T2I: one ground-truth image per caption.
    t2i = torch.empty(n_txt, dtype=torch.long)
    step = _chunk_rows(n_img, chunk)
    buf = _buffer(min(step, n_txt), n_img, img.dtype)
    for a in range(0, n_txt, step):
        b = min(n_txt, a + step)
        scores = torch.matmul(txt[a:b], img.T, out=buf[: b - a])     # (chunk, n_img)
        gt = scores[torch.arange(b - a), t2img[a:b]]
        t2i[a:b] = 1 + _count_greater(scores, gt)
    return Ranks(i2t.numpy(), t2i.numpy(), t2img.numpy())


def recall_at(ranks: np.ndarray, k: int) -> float:
    """eq. 24 in percent; NaN for an empty query set."""
    ranks = np.asarray(ranks)
    return float(100.0 * np.mean(ranks <= k)) if ranks.size else float("nan")


def metrics_from_ranks(ranks: Ranks) -> dict[str, float]:
    """The seven numbers of Table 6: I2T/T2I R@1/5/10 and mR (eq. 24–25), in percent."""
    out = {f"i2t_r{k}": recall_at(ranks.i2t, k) for k in KS}
    out.update({f"t2i_r{k}": recall_at(ranks.t2i, k) for k in KS})
    out["mR"] = float(np.mean([out[k] for k in METRIC_KEYS[:-1]]))
    return out


def retrieval_metrics(image_emb, text_emb, text_to_image, chunk: int | None = None) -> dict[str, float]:
    return metrics_from_ranks(compute_ranks(image_emb, text_emb, text_to_image, chunk))


def per_image_hits(ranks: Ranks) -> np.ndarray:
    """(n_images, 7) array of per-image contributions, used by the bootstrap: I2T hits (0/1) at k, then
    the number of the image's captions hit at k (T2I), then the image's caption count."""
    n_img = ranks.i2t.shape[0]
    cols = [(ranks.i2t <= k).astype(np.float64) for k in KS]
    cols += [np.bincount(ranks.text_to_image, weights=(ranks.t2i <= k).astype(np.float64), minlength=n_img)
             for k in KS]
    cols.append(np.bincount(ranks.text_to_image, minlength=n_img).astype(np.float64))
    return np.stack(cols, axis=1)
