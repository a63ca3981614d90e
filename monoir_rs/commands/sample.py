"""`monoir sample`: write the synthetic RGB source pool (five sources in their public release layouts)."""

from __future__ import annotations

import argparse
import json
import time

EXAMPLE = """example:
  monoir sample --out pool                     # 1,200 scenes (800/100/300), seed 0, about 10 s
  monoir sample --out pool-small --scenes 240 --seed 1
  monoir build --pool pool --out monoir-rs     # then build the IR corpus from it
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sample", help="write a synthetic RGB source pool in the five sources' layouts",
        description="Write a deterministic, procedurally rendered RGB remote-sensing source pool standing in for "
                    "RS5M, SkyScript, NWPU-Captions, RSICD and RSITMD, each in its public release layout "
                    "(caption JSONs / metadata CSVs + image folders), plus POOL/pool_summary.json. "
                    "Same seed -> byte-identical files.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, metavar="POOL", help="folder to write the pool into")
    p.add_argument("--scenes", type=int, default=1200, metavar="N", help="number of scenes/images (default 1200)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from monoir_rs.errors import UserError
    from monoir_rs.sample import write_pool

    if args.scenes < 1:
        raise UserError(f"--scenes {args.scenes}: need at least 1 scene (default 1200)")
    t0 = time.perf_counter()
    summary = write_pool(args.out, scenes=args.scenes, seed=args.seed, progress=not args.no_progress)
    print(json.dumps({k: summary[k] for k in ("scenes", "seed", "counts", "split_totals", "rgb_test_paths")},
                     indent=1))
    print(f"wrote {summary['scenes']} scenes in {len(summary['classes'])} classes to {args.out} "
          f"in {time.perf_counter() - t0:.1f} s (summary: {args.out}/pool_summary.json)")
    return 0
