"""Retrieval harness overhead benchmark: prints JSON.

For each model (the tiny CLIP and a random-weight ViT-B/32-shaped transformers CLIP) it measures
  harness_wall_s   `run_eval` on the clean_test pool (DataLoader decode+preprocess, batched encoding, scoring,
                   bootstrap CIs, per-query logs, results files), embedding cache off, model already loaded
  pure_encode_s    the same images and captions through the same model with no harness: a plain loop that
                   decodes, preprocesses, tokenizes and runs the forward passes in batches
  forward_only_s   forward passes alone on pre-decoded, pre-processed inputs (lower bound, for reference)
  ratio            harness_wall_s / pure_encode_s (target ≤ 1.10)
  images_per_s     images / harness_wall_s (end to end); peak_rss_mib of this process (+ largest worker)

usage: python bench/retrieval.py [--data DATA] [--scenes 1200] [--device cpu] [--batch-size 64]
                                 [--num-workers 1] [--models tiny,vitb32] [--threads N] [--repeat 3]
Each side runs --repeat times, alternating; the minimum is reported (robust to load from other processes).
Without --data the synthetic sample pool is generated and built in a temp folder (monoir_rs.build).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_sample(tmp: Path, scenes: int) -> Path:
    from monoir_rs.build import build
    from monoir_rs.sample import write_pool

    write_pool(tmp / "pool", scenes=scenes, seed=0)
    build(pool=tmp / "pool", out=tmp / "monoir-rs", ir_synth="thermal-proxy", rewriter="rules", workers=1,
          progress=False)
    return tmp / "monoir-rs"


def make_vitb32(out: Path) -> Path:
    """Random-weight CLIP with ViT-B/32 shapes (CLIPConfig defaults) and the tiny model's local tokenizer."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    from harness.models.tiny.clip import _fast_tokenizer

    tok = _fast_tokenizer(2000)
    tok.model_max_length = 77
    cfg = CLIPConfig(text_config=dict(vocab_size=len(tok), bos_token_id=tok.bos_token_id,
                                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id),
                     vision_config=dict(patch_size=32, image_size=224), projection_dim=512)
    torch.manual_seed(0)
    CLIPModel(cfg).save_pretrained(out)
    CLIPProcessor(image_processor=CLIPImageProcessor(), tokenizer=tok).save_pretrained(out)
    return out


def pure_encode(clip, dataset, captions: list[str], batch_size: int) -> tuple[float, float]:
    """(decode+preprocess+forward seconds, forward-only seconds) in a plain loop."""
    t0 = time.perf_counter()
    for a in range(0, len(dataset), batch_size):
        rows = dataset[a:a + batch_size]["image"]
        clip.encode_images(torch.stack([clip.preprocess_image(im) for im in rows]))
    for a in range(0, len(captions), batch_size):
        clip.encode_texts(clip.tokenize(captions[a:a + batch_size]))
    total = time.perf_counter() - t0
    pix = [torch.stack([clip.preprocess_image(im) for im in dataset[a:a + batch_size]["image"]])
           for a in range(0, len(dataset), batch_size)]
    toks = [clip.tokenize(captions[a:a + batch_size]) for a in range(0, len(captions), batch_size)]
    t1 = time.perf_counter()
    for p in pix:
        clip.encode_images(p)
    for t in toks:
        clip.encode_texts(t)
    return total, time.perf_counter() - t1


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((own + kids) / 1024, 1)


def bench_model(name: str, path: Path, data: Path, args, tmp: Path) -> dict:
    from harness.registry import load_model
    from harness.runner import run_eval
    from monoir_rs.hub import load

    clip = load_model(str(path), device=args.device)
    ds = load("clean_test", "test", data)
    captions = list(ds["caption"])
    # warm-up (allocator, lazy imports, first-batch costs) on a few items, so neither side pays it
    pure_encode(clip, ds.select(range(min(8, len(ds)))), captions[:8], args.batch_size)
    pures, fwds, walls = [], [], []
    for i in range(args.repeat):  # alternate the two sides; the minimum filters out noise from other load
        p_s, f_s = pure_encode(clip, ds, captions, args.batch_size)
        pures.append(p_s), fwds.append(f_s)
        t0 = time.perf_counter()
        res = run_eval(clip, "retrieval", data=data, output=tmp / f"out-{name}-{i}", use_cache=False,
                       progress=False, batch_size=args.batch_size, num_workers=args.num_workers, device=args.device)
        walls.append(time.perf_counter() - t0)
    pure_s, fwd_s, wall = min(pures), min(fwds), min(walls)
    block = res["tasks"]["retrieval"]
    return {"model": name, "n_images": block["n"], "n_captions": block["n_captions"],
            "harness_wall_s": round(wall, 3), "pure_encode_s": round(pure_s, 3), "forward_only_s": round(fwd_s, 3),
            "ratio": round(wall / pure_s, 3), "ratio_vs_forward_only": round(wall / fwd_s, 3),
            "harness_wall_all_s": [round(w, 3) for w in walls], "pure_encode_all_s": [round(p, 3) for p in pures],
            "harness_timing": block["timing"],
            "images_per_s": round(block["n"] / wall, 1),  # end to end (captions and scoring included)
            "peak_rss_mib": peak_rss_mib()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None)
    p.add_argument("--scenes", type=int, default=1200)
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--num-workers", type=int, default=1)
    p.add_argument("--models", default="tiny,vitb32")
    p.add_argument("--repeat", type=int, default=3, help="repetitions; the minimum of each side is reported")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from harness.models.tiny import make_tiny

    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmpdir:
        tmp = Path(tmpdir)
        t0 = time.perf_counter()
        data = Path(args.data) if args.data else build_sample(tmp, args.scenes)
        build_s = time.perf_counter() - t0
        makers = {"tiny": lambda: make_tiny("clip", tmp / "tiny"), "vitb32": lambda: make_vitb32(tmp / "vitb32")}
        runs = [bench_model(m, makers[m](), data, args, tmp) for m in args.models.split(",")]
    print(json.dumps({"device": args.device, "torch_threads": torch.get_num_threads(),
                      "num_workers": args.num_workers, "batch_size": args.batch_size,
                      "data": str(args.data or f"sample pool, {args.scenes} scenes (built in {build_s:.1f}s)"),
                      "target_ratio": 1.10, "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
