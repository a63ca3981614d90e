"""`monoir compare A/results.json B/results.json`: two runs side by side with Δ = B − A (Table 6 style)."""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = """examples:
  monoir compare runs/clip-zs/results.json runs/clip-ft/results.json
  monoir compare runs/clip-zs runs/clip-ft --output runs/compare     # writes comparison.md + comparison.json
"""


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("compare", help="put two results side by side with deltas", description=__doc__,
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a", help="baseline results.json (or its folder), e.g. zero-shot")
    p.add_argument("b", help="results.json to compare (or its folder), e.g. fine-tuned")
    p.add_argument("--output", default=None, help="folder for comparison.md and comparison.json")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from harness.report import (
        compare,
        load_results,
        print_markdown,
        render_compare_markdown,
        write_comparison,
    )

    cmp = compare(load_results(args.a), load_results(args.b))
    md = write_comparison(cmp, Path(args.output)) if args.output else render_compare_markdown(cmp)
    print_markdown(md)
    return 0
