"""`monoir-eval` (== `monoir eval`): evaluate any CLIP / VLM (alias, Hub ID or local folder) on MonoIR-RS tasks."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from monoir_rs.console import run_command
from monoir_rs.errors import UserError

EXAMPLES = """examples:
  monoir-eval --model openai-clip-vit-b-32 --tasks retrieval --data ./monoir-rs --output runs/clip-zs
  monoir-eval --model remoteclip-vit-b-32 --tasks retrieval --limit 200          # smoke run
  monoir-eval --model ViT-B-32-quickgelu@/ckpt/RemoteCLIP-ViT-B-32.pt --tasks retrieval
  monoir-eval --model runs/clip-ft --tasks retrieval --compare-to runs/clip-zs/results.json
  monoir-eval --model qwen2.5-vl-7b --tasks vlm --device cuda --dtype bfloat16
  monoir tiny-model --kind clip --out /tmp/tiny-clip && monoir-eval --model /tmp/tiny-clip --tasks retrieval

model aliases:
{aliases}
"""


def default_workers() -> int:
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def add_arguments(p: argparse.ArgumentParser) -> None:
    from harness.models.aliases import alias_table

    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EXAMPLES.format(aliases=alias_table())
    p.add_argument("--model", required=True, help="alias, Hub ID, local folder, hf-hub:/local-dir: or ARCH@CKPT")
    p.add_argument("--tasks", required=True, help="comma-separated task names or groups (vlm, all)")
    p.add_argument("--data", default=None, help="built dataset folder or Hub repo (default: ./monoir-rs, "
                                                "else $MONOIR_RS_REPO)")
    p.add_argument("--output", default=None, help="output folder (default: results/<model name>)")
    p.add_argument("--limit", type=int, default=None, help="evaluate only the first N items (smoke runs)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps ...")
    p.add_argument("--dtype", default=None, choices=["float32", "float16", "bfloat16"],
                   help="weights dtype (default: float32 for CLIP; the VLM adapter's choice for VLMs)")
    p.add_argument("--adapter", default=None, help="PEFT (LoRA) adapter folder or Hub ID applied on top")
    p.add_argument("--revision", default=None, help="Hub revision (branch, tag or commit) of the model")
    p.add_argument("--min-pixels", type=int, default=None, help="Qwen-VL: smallest image area in pixels")
    p.add_argument("--max-pixels", type=int, default=None, help="Qwen-VL: largest image area in pixels "
                   "(default: the family's quirk, 1280*28*28)")
    p.add_argument("--num-workers", type=int, default=default_workers(),
                   help="DataLoader workers that decode + preprocess images")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    p.add_argument("--cache-dir", default=None, help="cache folder (default: $MONOIR_CACHE or ~/.cache/monoir_rs)")
    p.add_argument("--trust-remote-code", action="store_true", help="allow models with custom code (off by default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for 95%% CIs (0: none)")
    p.add_argument("--compare-to", default=None, help="another results.json: also write comparison.{md,json}")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--quiet", action="store_true", help="do not print the results table")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name.rstrip("/")).name or name)


def run(args: argparse.Namespace) -> int:
    from harness.context import default_cache_dir
    from harness.report import compare, load_results, print_markdown, render_markdown, write_comparison
    from harness.runner import run_eval

    if args.limit is not None and args.limit <= 0:
        raise UserError("--limit must be a positive number of items")
    if args.batch_size <= 0:
        raise UserError("--batch-size must be positive")
    output = Path(args.output or Path("results") / _slug(args.model))
    recorded = {k: v for k, v in vars(args).items() if k != "func"}
    results = run_eval(
        args.model, args.tasks, data=args.data, output=output, adapter=args.adapter, device=args.device,
        dtype=args.dtype, trust_remote_code=args.trust_remote_code, args=recorded,
        model_options={"revision": args.revision, "min_pixels": args.min_pixels, "max_pixels": args.max_pixels},
        batch_size=args.batch_size, limit=args.limit, num_workers=args.num_workers, seed=args.seed,
        bootstrap=args.bootstrap, use_cache=not args.no_cache, progress=not args.no_progress,
        cache_dir=Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    md = render_markdown(results)
    if args.compare_to:
        md += "\n" + write_comparison(compare(load_results(args.compare_to), results), output)
    if not args.quiet:
        print_markdown(md)
        print(f"results written to {output / 'results.json'}", file=sys.stderr)
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("eval", help="evaluate a model on MonoIR-RS tasks (same as monoir-eval)",
                              description=__doc__)
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="monoir-eval", description=__doc__)
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(args.func, args, "interrupted; cached embeddings and sample logs are kept, a re-run resumes")


if __name__ == "__main__":
    sys.exit(main())
