"""`monoir instruct`: build the `vlm_instruct` config (instruction data G_xi, filter h_xi) from the train split
only — conversations for the seven prompt types of Table 17 with answers derived from the IR-aware captions."""

from __future__ import annotations

import argparse
import json

EXAMPLES = """examples:
  monoir instruct --data monoir-rs                   # paper mixture size: 32,000 (capped at what the data allows)
  monoir instruct --data monoir-rs --size 5000 --seed 1
Then: monoir train vlm --model qwen2.5-vl-7b --data monoir-rs --output runs/qwen-lora"""


def register(subparsers) -> None:
    p = subparsers.add_parser("instruct", help="build the vlm_instruct config from the train split",
                              description=__doc__, epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="monoir-rs", help="built dataset folder (default monoir-rs)")
    p.add_argument("--size", type=int, default=32_000,
                   help="number of conversations (default 32000, the paper's mixture; capped at what the data allows)")
    p.add_argument("--seed", type=int, default=0, help="seed of the mixture sampling (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from monoir_rs.errors import UserError
    from monoir_rs.train.instruct import build_instruct

    if not Path(args.data).is_dir():
        raise UserError(f"--data {args.data}: not a local folder; `monoir instruct` writes into a built dataset "
                        "(`monoir build --out DATA`)")
    summary = build_instruct(args.data, size=args.size, seed=args.seed, progress=not args.no_progress)
    print(json.dumps(summary, indent=2))
    return 0
