"""Generation tasks (the seven VLM prompts): generate, log per sample, score (lexical + semantic), resume.

`evaluate(task, model, dataset, ctx)` returns the task block of results.json (SPEC §5). Per-sample JSONL
(`samples_{task}.jsonl` in `ctx.output_dir`) is appended batch by batch as generation goes; a re-run with the same
model/prompt/settings skips every id already there, so a killed run resumes. Batches are fixed slices of the
ordered pool (pending ids only), so a resumed run batches exactly like an uninterrupted one and greedy results
are identical. A sample whose image cannot be decoded or whose generation fails is logged with `error` and
counted in `n_failed`, never fatal; failed samples are retried on the next run. Metrics use successful samples.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from harness.metrics import semantic
from harness.metrics.lexical import aggregate, class_words, sample_hits
from harness.metrics.resample import clustered_bootstrap, mean_ci
from monoir_rs.errors import UserError
from monoir_rs.keywords import KEYWORDS_VERSION

SCENE_METRICS = ("scene_accuracy", "scene_unparseable_rate")
CAPTION_METRICS = ("bleu4", "rouge_l", "cider")


# ---------------------------------------------------------------- dataset access
def iter_records(dataset, limit: int | None = None):
    """Rows as dicts with the image left undecoded (decoding happens per sample, so a bad image is one error)."""
    try:
        import datasets

        if isinstance(dataset, datasets.Dataset) and "image" in dataset.features:
            dataset = dataset.cast_column("image", datasets.Image(decode=False))
    except ImportError:  # pragma: no cover - datasets is a dependency
        pass
    n = len(dataset) if limit is None else min(limit, len(dataset))
    for i in range(n):
        yield dict(dataset[i])


def decode_image(value):
    """PIL image (RGB) from a PIL image, {"bytes", "path"} dict, bytes or a path."""
    from PIL import Image

    if isinstance(value, Image.Image):
        img = value
    elif isinstance(value, dict) and value.get("bytes"):
        img = Image.open(io.BytesIO(value["bytes"]))
    elif isinstance(value, dict) and value.get("path"):
        img = Image.open(value["path"])
    elif isinstance(value, (bytes, bytearray)):
        img = Image.open(io.BytesIO(value))
    elif isinstance(value, (str, Path)):
        img = Image.open(value)
    else:
        raise ValueError(f"no image data ({type(value).__name__})")
    img.load()
    return img.convert("RGB")


# ---------------------------------------------------------------- per-sample log
def run_key(task, model, max_new_tokens: int, gen_kwargs: dict) -> str:
    """What makes two runs' generations interchangeable: weights, prompt, generation settings."""
    info = getattr(model, "info", None)
    parts = [info.cache_key() if info else repr(model), task.prompt, max_new_tokens,
             json.dumps(gen_kwargs, sort_keys=True, default=str)]
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:16]


def read_samples(path: Path) -> dict[str, dict]:
    """id -> last logged line. A torn last line (killed mid-write) is dropped and the file rewritten."""
    if not path.exists():
        return {}
    good, torn = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            good.append(json.loads(line))
        except json.JSONDecodeError:
            torn = True
    if torn:
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in good), encoding="utf-8")
        os.replace(tmp, path)
    return {r["id"]: r for r in good}


def score_sample(task, generation: str, rec: dict) -> dict:
    hits = sample_hits(generation, rec.get("scene_class"))
    if any(m in task.metrics for m in SCENE_METRICS):
        sh = semantic.scene_hits([generation], [rec.get("scene_class")])[0]
        if sh is not None:
            hits.update(scene_correct=sh["correct"], scene_parsed=sh["parsed"], scene_predicted=sh["predicted"])
    return hits


# ---------------------------------------------------------------- generation loop
def _generate_batch(model, task, batch: list[dict], max_new_tokens: int, gen_kwargs: dict) -> list[dict]:
    """Log lines for one batch; falls back to one-by-one so a single failing sample only fails itself."""
    lines, ready = [], []
    for rec in batch:
        try:
            ready.append((rec, decode_image(rec.get("image"))))
        except Exception as err:  # noqa: BLE001 - any decode failure is this sample's error
            lines.append({"id": rec["id"], "error": f"bad image: {type(err).__name__}: {err}"})
    if not ready:
        return lines
    try:
        outs = model.generate([im for _, im in ready], [task.prompt] * len(ready), max_new_tokens, **gen_kwargs)
        results = [(rec, out, None) for (rec, _), out in zip(ready, outs, strict=False)]
    except Exception:  # noqa: BLE001 - retry one by one to isolate the failing sample (or survive a batch OOM)
        _free_accelerator_memory()
        results = []
        for rec, im in ready:
            try:
                results.append((rec, model.generate([im], [task.prompt], max_new_tokens, **gen_kwargs)[0], None))
            except Exception as err:  # noqa: BLE001
                results.append((rec, None, f"generation failed: {type(err).__name__}: {err}"))
    for rec, out, err in results:
        lines.append({"id": rec["id"], "error": err} if err else {"id": rec["id"], "generation": out})
    return lines


def _free_accelerator_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _progress(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="sample", disable=not enabled, leave=False)


def run_generation(task, model, dataset, ctx) -> tuple[Path, list[dict]]:
    """Generate every pending sample into the JSONL; return its path and the records in pool order."""
    gen = dict(task.generation or {})
    max_new_tokens = int(gen.pop("max_new_tokens", 64))
    key = run_key(task, model, max_new_tokens, gen)
    out_dir = Path(ctx.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"samples_{task.name}.jsonl"
    done = read_samples(path)
    stale = [i for i, r in done.items() if r.get("key") != key]
    if stale:
        raise UserError(f"{path} holds samples from another model or other settings (e.g. id {stale[0]}); "
                        "use a new --output folder or delete that file to start over")
    records = list(iter_records(dataset, ctx.limit))
    if not records:
        raise UserError(f"task {task.name}: the dataset ({task.dataset.config}/{task.dataset.split}) is empty")
    render = getattr(model, "render", lambda p: p)
    rendered = render(task.prompt)
    bs = max(1, int(ctx.batch_size))
    pending_total = sum(1 for r in records if "generation" not in done.get(r["id"], {}))
    with open(path, "a", encoding="utf-8") as fh, _progress(pending_total, task.name, ctx.progress) as bar:
        for start in range(0, len(records), bs):
            batch = [r for r in records[start:start + bs] if "generation" not in done.get(r["id"], {})]
            if not batch:
                continue
            by_id = {r["id"]: r for r in batch}
            for line in _generate_batch(model, task, batch, max_new_tokens, gen):
                rec = by_id[line["id"]]
                line.update(key=key, prompt=rendered, scene_class=rec.get("scene_class"),
                            reference=rec.get("caption"))
                if line.get("error") is None:
                    line["hits"] = score_sample(task, line["generation"], rec)
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
                done[line["id"]] = line
            fh.flush()
            bar.update(len(batch))
    return path, [done[r["id"]] for r in records]


# ---------------------------------------------------------------- scoring
def score(task, lines: list[dict], n_resamples: int = 1000, seed: int = 0) -> dict:
    """metrics + ci95 from logged lines (successful ones), image-clustered bootstrap."""
    ok = [ln for ln in lines if ln.get("error") is None and "generation" in ln]
    hits = [ln["hits"] for ln in ok]
    ids = [ln["id"] for ln in ok]
    metrics = aggregate(hits, [bool(class_words(ln.get("scene_class"))) for ln in ok])
    ci: dict[str, list[float] | None] = {}
    if ok:
        for name, key in (("ir_cue_rate", "ir_cue"), ("rgb_color_rate", "rgb_color"), ("overclaim_rate", "overclaim"),
                          ("class_hit_rate", "class_hit"), ("empty_rate", "empty")):
            ci[name] = mean_ci([h[key] for h in hits], ids, n_resamples, seed, scale=100.0)
        ci["avg_words"] = mean_ci([h["words"] for h in hits], ids, n_resamples, seed)
    if any(m in task.metrics for m in SCENE_METRICS):
        lab = [ln for ln in ok if "scene_correct" in ln["hits"]]
        n = len(lab)
        metrics["scene_n"] = n
        metrics["scene_accuracy"] = 100.0 * sum(ln["hits"]["scene_correct"] for ln in lab) / n if n else None
        metrics["scene_unparseable_rate"] = (100.0 * sum(1 - ln["hits"]["scene_parsed"] for ln in lab) / n
                                             if n else None)
        if n:
            lab_ids = [ln["id"] for ln in lab]
            ci["scene_accuracy"] = mean_ci([ln["hits"]["scene_correct"] for ln in lab], lab_ids, n_resamples,
                                           seed, scale=100.0)
            ci["scene_unparseable_rate"] = mean_ci([1 - ln["hits"]["scene_parsed"] for ln in lab], lab_ids,
                                                   n_resamples, seed, scale=100.0)
    if any(m in task.metrics for m in CAPTION_METRICS):
        ref = [ln for ln in ok if ln.get("reference")]
        cands, refs = [ln["generation"] for ln in ref], [ln["reference"] for ln in ref]
        metrics.update(semantic.caption_metrics(cands, refs))
        if ref and n_resamples > 0:
            rid = [ln["id"] for ln in ref]
            ci["rouge_l"] = mean_ci([semantic.rouge_l(c, r) for c, r in zip(cands, refs, strict=False)], rid, n_resamples, seed)
            ci["cider"] = mean_ci(semantic.cider_d(cands, refs), rid, n_resamples, seed)
            stats = np.array([semantic.bleu_stats(c, r) for c, r in zip(cands, refs, strict=False)])
            lo_hi = clustered_bootstrap(stats, rid, lambda s: np.array([semantic.bleu_from_stats(row) for row in s]),
                                        n_resamples, seed)
            ci["bleu4"] = [float(lo_hi[0, 0]), float(lo_hi[1, 0])]
    return {"metrics": metrics, "ci95": {k: v for k, v in ci.items() if v is not None}}


def evaluate(task, model, dataset, ctx) -> dict:
    """The task block of results.json for one generation task."""
    path, lines = run_generation(task, model, dataset, ctx)
    failed = [ln for ln in lines if ln.get("error") is not None]
    scored = score(task, lines, n_resamples=int(getattr(ctx, "bootstrap", 1000) or 0), seed=int(ctx.seed))
    gen = dict(task.generation or {})
    return {"n": len(lines) - len(failed), "n_failed": len(failed),
            "failures": [{"id": ln["id"], "error": ln["error"]} for ln in failed[:20]],
            "metrics": scored["metrics"], "ci95": scored["ci95"], "prompt": task.prompt,
            "rendered_prompt": lines[0].get("prompt") if lines else None,
            "generation": {"max_new_tokens": int(gen.pop("max_new_tokens", 64)), "do_sample": False, **gen},
            "keywords_version": KEYWORDS_VERSION, "samples": path.name}
