"""Retrieval task (paper §5.2, Tables 6/7/12): I2T and T2I R@1/5/10 + mR on the pooled test set, plus
`per_source` pools (each source's images scored only against that source's captions) and bootstrap CIs.

Images and captions: each row is an image with its caption. Rows sharing the value of the task option
`group_by` (e.g. `image_path`) are one image with several captions, encoded once; a `captions` list column
(CLIP_benchmark style) is also accepted. Embeddings are cached (harness/cache.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from harness.cache import EmbeddingCache, cache_key
from harness.data import ids_digest, image_loader
from harness.metrics.bootstrap import bootstrap_ci
from harness.metrics.retrieval import Ranks, compute_ranks, metrics_from_ranks
from monoir_rs.errors import UserError


@dataclass
class Pool:
    """Image rows (indices into the dataset), captions, and the caption → image map."""

    image_rows: list[int]
    image_ids: list[str]
    image_sources: list[str]
    captions: list[str]
    caption_ids: list[str]
    text_to_image: np.ndarray


def build_pool(dataset, group_by: str | None = None) -> Pool:
    """Group dataset rows into images and captions (see module docstring)."""
    cols = dataset.column_names
    for col in ("id",):
        if col not in cols:
            raise UserError(f"retrieval needs an `{col}` column; the dataset has {', '.join(cols)}")
    ids = [str(x) for x in dataset["id"]]
    sources = [str(x) for x in dataset["source"]] if "source" in cols else ["all"] * len(ids)
    if "captions" in cols:
        caps_col = dataset["captions"]
        t2i, captions, cap_ids = [], [], []
        for i, caps in enumerate(caps_col):
            if not caps:
                raise UserError(f"record {ids[i]} has an empty `captions` list")
            for j, c in enumerate(caps):
                t2i.append(i), captions.append(str(c)), cap_ids.append(f"{ids[i]}#{j}")
        return Pool(list(range(len(ids))), ids, sources, captions, cap_ids, np.asarray(t2i))
    if "caption" not in cols:
        raise UserError(f"retrieval needs a `caption` (or `captions`) column; the dataset has {', '.join(cols)}")
    if group_by and group_by not in cols:
        raise UserError(f"task option group_by={group_by!r} is not a dataset column ({', '.join(cols)})")
    keys = [str(x) for x in dataset[group_by]] if group_by else ids
    index: dict[str, int] = {}
    image_rows: list[int] = []
    t2i = []
    for r, k in enumerate(keys):
        if k not in index:
            index[k] = len(image_rows)
            image_rows.append(r)
        t2i.append(index[k])
    return Pool(image_rows, [ids[r] for r in image_rows], [sources[r] for r in image_rows],
                [str(c) for c in dataset["caption"]], ids, np.asarray(t2i))


def _progress(enabled: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    disable=not enabled, transient=True)


def image_batches(model, dataset, rows: list[int], ctx):
    """Iterator of preprocessed image batches; creating it starts the workers, which prefetch meanwhile."""
    subset = dataset.select(rows) if rows != list(range(len(dataset))) else dataset
    transform = getattr(model, "image_transform", model.preprocess_image)
    return iter(image_loader(subset, transform, ctx.batch_size, ctx.num_workers))


def encode_images(model, batches, total: int, progress) -> torch.Tensor:
    bar = progress.add_task("encoding images", total=total)
    out = []
    for batch in batches:
        out.append(model.encode_images(batch))
        progress.advance(bar, len(batch))
    return torch.cat(out) if out else torch.empty(0, 0)


def encode_texts(model, texts: list[str], ctx, progress) -> torch.Tensor:
    bar = progress.add_task("encoding texts", total=len(texts))
    out = []
    bs = max(1, ctx.batch_size)
    for a in range(0, len(texts), bs):
        out.append(model.encode_texts(model.tokenize(texts[a:a + bs])))
        progress.advance(bar, len(texts[a:a + bs]))
    return torch.cat(out) if out else torch.empty(0, 0)


def embeddings(model, dataset, pool: Pool, ctx) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Image and text embeddings, from the cache when present; returns timings and cache hits too.

    When both must be computed, the image DataLoader is started first so its workers decode and preprocess
    images while the main process encodes the captions."""
    cache = EmbeddingCache(ctx.cache_dir, enabled=ctx.use_cache)
    base = dict(model=model.info.cache_key(), preprocess=model.preprocess_key,
                adapter_revision=model.info.extra.get("adapter_revision"))
    img_key = cache_key(**base, kind="image", data=ctx.dataset_fingerprint, rows=ids_digest(pool.image_ids))
    txt_key = cache_key(**base, kind="text", texts=ids_digest(pool.captions))
    img = cache.load(img_key, len(pool.image_rows))
    txt = cache.load(txt_key, len(pool.captions))
    stats = {"image_cache_hit": img is not None, "text_cache_hit": txt is not None}
    with _progress(ctx.progress) as progress:
        t0 = time.perf_counter()
        batches = image_batches(model, dataset, pool.image_rows, ctx) if img is None else None
        if txt is None:
            txt = encode_texts(model, pool.captions, ctx, progress)
            cache.save(txt_key, txt, {"model": model.info.id, "kind": "text"})
        t1 = time.perf_counter()
        if img is None:
            img = encode_images(model, batches, len(pool.image_rows), progress)
            cache.save(img_key, img, {"model": model.info.id, "kind": "image"})
        stats.update(encode_texts_s=round(t1 - t0, 4), encode_images_s=round(time.perf_counter() - t1, 4))
    return img, txt, stats


def _block(ranks: Ranks, ctx, with_ci: bool) -> dict:
    out = {"n": int(ranks.i2t.size), "n_captions": int(ranks.t2i.size), "metrics": metrics_from_ranks(ranks)}
    if with_ci:
        out["ci95"] = bootstrap_ci(ranks, int(ctx.bootstrap or 0), seed=int(ctx.seed))
    return out


def score_pool(img: torch.Tensor, txt: torch.Tensor, pool: Pool, ctx) -> tuple[dict, Ranks, dict]:
    """Pooled block (with CIs) + per-source blocks: each source's images vs only that source's captions."""
    ranks = compute_ranks(img, txt, pool.text_to_image)
    block = _block(ranks, ctx, with_ci=True)
    per_source, src_ranks = {}, {}
    img_src = np.asarray(pool.image_sources)
    for source in sorted(set(pool.image_sources)):
        imgs = np.flatnonzero(img_src == source)
        caps = np.flatnonzero(np.isin(pool.text_to_image, imgs))
        remap = np.full(len(pool.image_rows), -1)
        remap[imgs] = np.arange(len(imgs))
        r = compute_ranks(img[imgs], txt[caps], remap[pool.text_to_image[caps]])
        per_source[source] = _block(r, ctx, with_ci=bool(ctx.bootstrap))
        src_ranks[source] = (imgs, caps, r)
    block["per_source"] = per_source
    return block, ranks, src_ranks


def write_rank_log(path: Path, pool: Pool, ranks: Ranks, src_ranks: dict) -> None:
    """Per-query ranks (pooled and within the query's source) as JSONL."""
    src_i2t = np.zeros(len(pool.image_rows), dtype=int)
    src_t2i = np.zeros(len(pool.captions), dtype=int)
    for imgs, caps, r in src_ranks.values():
        src_i2t[imgs], src_t2i[caps] = r.i2t, r.t2i
    with open(path, "w", encoding="utf-8") as fh:
        for i, iid in enumerate(pool.image_ids):
            fh.write(json.dumps({"direction": "i2t", "id": iid, "source": pool.image_sources[i],
                                 "rank": int(ranks.i2t[i]), "rank_in_source": int(src_i2t[i])}) + "\n")
        for t, cid in enumerate(pool.caption_ids):
            i = int(pool.text_to_image[t])
            fh.write(json.dumps({"direction": "t2i", "id": cid, "image_id": pool.image_ids[i],
                                 "source": pool.image_sources[i], "rank": int(ranks.t2i[t]),
                                 "rank_in_source": int(src_t2i[t])}) + "\n")


def evaluate(task, model, dataset, ctx) -> dict:
    """The `retrieval` block of results.json (SPEC §5)."""
    if len(dataset) == 0:
        raise UserError(f"task {task.name}: the dataset ({task.dataset.config}/{task.dataset.split}) is empty")
    if ctx.limit:
        dataset = dataset.select(range(min(int(ctx.limit), len(dataset))))
    pool = build_pool(dataset, task.options.get("group_by"))
    img, txt, stats = embeddings(model, dataset, pool, ctx)
    t0 = time.perf_counter()
    block, ranks, src_ranks = score_pool(img, txt, pool, ctx)
    stats["scoring_s"] = round(time.perf_counter() - t0, 4)
    out_dir = Path(ctx.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_name = f"ranks_{task.name}.jsonl"
    write_rank_log(out_dir / log_name, pool, ranks, src_ranks)
    block.update(samples=log_name, timing=stats)
    return block
