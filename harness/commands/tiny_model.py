"""`monoir tiny-model --kind K --out DIR`: a tiny random-weight model for offline tests and demos."""

from __future__ import annotations

import argparse

from harness.models.tiny import KINDS

EXAMPLES = """examples:
  monoir tiny-model --kind clip --out /tmp/tiny-clip            # transformers CLIPModel + CLIPProcessor
  monoir tiny-model --kind open_clip --out /tmp/tiny-openclip   # open_clip local-dir: folder
  monoir-eval --model /tmp/tiny-clip --tasks retrieval --data ./monoir-rs
"""


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("tiny-model", help="write a tiny random-weight model for offline tests",
                              description=__doc__, epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", required=True, choices=KINDS)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from harness.models.tiny import make_tiny

    out = make_tiny(args.kind, args.out)
    print(out)
    return 0
