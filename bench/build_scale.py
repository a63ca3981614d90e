"""Build throughput and memory at scale: `python bench/build_scale.py --n 10000,100000[,600000]`.

For each N it writes a metadata-only pool in the generic JSONL layout (`rs5m/data.jsonl`, N records with
varied captions and the source's train/val/test split; the images are `--distinct-images` tiny 16×16 JPEGs
that records share, so the pool costs little disk), then runs the full `monoir build` (synthesis, rules
rewriting, gate, merge, parquet export, card; audit off unless `--audit`) in a fresh subprocess and prints one
JSON line per N: records/s over the whole build and per stage, peak RSS (ru_maxrss) of the build process and
its RSS sampled at the end of each stage. Flat memory = peak RSS that does not grow with N.

What can grow: the parquet writer keeps the page index of the shard it is writing until the shard closes, so
the export's memory grows with the rows of one shard and is capped by `--max-shard-size` (not by N); the
source readers keep a per-source set of ids (duplicate check), about 70 bytes per record.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

OBJECTS = ["storage tanks", "tennis courts", "a bridge", "parking lots", "dense houses", "a river", "a harbor",
           "a baseball field", "an airport runway", "circular farmland", "an industrial area", "a forest"]
LAYOUT = ["beside a road", "near a lake", "in the north part of the scene", "along a river", "next to trees",
          "surrounded by buildings", "at the image centre", "between two roads"]


def write_pool(root: Path, n: int, distinct: int) -> Path:
    """N generic-JSONL records sharing `distinct` tiny random-texture images (split 96.6/1.7/1.7 % like paper
    Table 3). An image belongs to one split, so the build's split hygiene keeps every record."""
    import numpy as np
    from PIL import Image

    src = root / "rs5m"
    (src / "img").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(distinct):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(src / "img" / f"{i}.jpg")
    with open(src / "data.jsonl", "w") as fh:
        for i in range(n):
            image = i % distinct
            split = "test" if image % 60 == 0 else "val" if image % 60 == 1 else "train"
            cap = f"{OBJECTS[i % len(OBJECTS)]} {LAYOUT[(i // 12) % len(LAYOUT)]} with {i % 9 + 2} small cars"
            fh.write(json.dumps({"id": str(i), "image": f"img/{image}.jpg", "caption": cap,
                                 "split": split}) + "\n")
    return root


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_one(n: int, distinct: int, workers: int, audit: bool, keep: str | None, ir_synth: str = "thermal-proxy",
            max_shard_size: str = "500MB") -> dict:
    """Build one pool of N records in this process; returns the figures."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from monoir_rs.build import build

    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix=f"monoir-bench-{n}-"))
    try:
        t0 = time.perf_counter()
        pool = write_pool(root / "pool", n, distinct)
        t_pool = time.perf_counter() - t0
        samples: list[float] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                samples.append(_rss_mb())
                stop.wait(0.5)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        t1 = time.perf_counter()
        report = build(pool, root / "monoir-rs", workers=workers, progress=False, run_audit=audit, ir_synth=ir_synth,
                       max_shard_size=max_shard_size)
        wall = time.perf_counter() - t1
        stop.set()
        thread.join()
        peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        q = [samples[int(len(samples) * f) - 1] for f in (0.25, 0.5, 0.75, 1.0)] if samples else []
        tm = report["timings"]
        return {"n": n, "records": report["n_records"], "rejected": report["n_rejected"], "workers": workers,
                "ir_synth": ir_synth, "max_shard_size": max_shard_size,
                "parquet_files": sum(len(m["files"]) for c in report["configs"].values() for m in c.values()),
                "distinct_images": distinct, "pool_write_s": round(t_pool, 1), "build_s": round(wall, 1),
                "records_per_s": round(n / wall, 1),
                "stage_s": {k: tm.get(k) for k in ("process_s", "merge_s", "export_s", "audit_s") if k in tm},
                "process_records_per_s": round(n / tm["process_s"], 1) if tm.get("process_s") else None,
                "peak_rss_mb": round(peak_self, 1), "peak_rss_workers_mb": round(peak_children, 1),
                "rss_mb_at_25_50_75_100pct_time": [round(x, 1) for x in q]}
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="10000,100000,600000", help="comma-separated pool sizes")
    ap.add_argument("--distinct-images", type=int, default=1024)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--ir-synth", default="thermal-proxy", help="IR synthesizer (gray isolates pipeline cost)")
    ap.add_argument("--max-shard-size", default="500MB", help="parquet shard bound (export memory scales with it)")
    ap.add_argument("--audit", action="store_true", help="include the final audit")
    ap.add_argument("--keep", help="build under this folder and keep it (one N only)")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.n.split(",") if x.strip()]
    if args.one:
        print(json.dumps(run_one(sizes[0], args.distinct_images, args.workers, args.audit, args.keep, args.ir_synth,
                                 args.max_shard_size)))
        return 0
    for n in sizes:  # a fresh process per N so peak RSS is that N's alone
        cmd = [sys.executable, __file__, "--one", "--n", str(n), "--distinct-images", str(args.distinct_images),
               "--workers", str(args.workers), "--ir-synth", args.ir_synth, "--max-shard-size", args.max_shard_size, *(["--audit"] if args.audit else []),
               *(["--keep", args.keep] if args.keep else [])]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
            return out.returncode
        print(out.stdout.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
