"""`monoir tables RESULTS...`: the paper's tables from several runs — retrieval per CLIP backbone (Tables 6/13),
VLM diagnostics averaged over backbones (Table 9) and per backbone (Table 16)."""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = """examples:
  monoir tables runs/clip-zs runs/remoteclip-zs runs/clip-ft            # retrieval table
  monoir tables runs/qwen runs/llava runs/instructblip --output runs/   # VLM tables, also runs/tables.md"""


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("tables", help="the paper's tables from several results.json", description=__doc__,
                              epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", help="results.json files (or the folders holding them)")
    p.add_argument("--output", default=None, help="folder to also write tables.md into")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from harness.report import print_markdown
    from harness.tables import load_results, tables_markdown

    md = tables_markdown(load_results(args.results))
    if args.output:
        Path(args.output).mkdir(parents=True, exist_ok=True)
        (Path(args.output) / "tables.md").write_text(md, encoding="utf-8")
    print_markdown(md)
    return 0
