"""`monoir build`: paper Algorithm 1, source pool -> IR corpus in the Hub layout (see monoir_rs/build.py)."""

from __future__ import annotations

import argparse
import json

from monoir_rs.errors import UserError

EXAMPLES = """examples:
  monoir build --pool pool --out monoir-rs
  monoir build --pool pool --out monoir-rs --ir-synth gray --workers 4
  monoir build --pool pool --out monoir-rs --rewriter openai:http://localhost:8000/v1 \\
      --rewriter-opt model=Qwen/Qwen2.5-VL-72B-Instruct
  # cluster array job: one shard per task, the last one to finish merges (or run --merge afterwards)
  monoir build --pool pool --out monoir-rs --shard $SLURM_ARRAY_TASK_ID/16
  monoir build --out monoir-rs --merge
A killed build resumes from its finished chunks when re-run with the same arguments."""


def _opts(pairs: list[str] | None, flag: str) -> dict:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"{flag} {pair!r}: expected KEY=VALUE, e.g. {flag} noise=0.02")
        out[key.strip().replace("-", "_")] = _typed(value)
    return out


def _typed(value: str):
    """'3' -> 3, '0.5' -> 0.5, 'true' -> True; anything else stays a string."""
    low = value.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser("build", help="paper Algorithm 1: source pool -> IR corpus in the Hub layout",
                              description=__doc__, epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pool", help="source pool folder (`monoir sample --out POOL` writes one)")
    p.add_argument("--out", required=True, help="output dataset folder (name it monoir-rs to load it by that name)")
    p.add_argument("--ir-synth", default="thermal-proxy", help="IR synthesizer T_phi: gray, thermal-proxy, external")
    p.add_argument("--synth-opt", action="append", metavar="KEY=VALUE", help="synthesizer option (repeatable)")
    p.add_argument("--rewriter", default="rules", help="IR-aware rewriter R_omega: rules, hf:MODEL, openai:URL")
    p.add_argument("--rewriter-opt", action="append", metavar="KEY=VALUE", help="rewriter option (repeatable)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes (default 1)")
    p.add_argument("--shard", metavar="i/n", help="process only chunks k with k %% n == i (cluster array jobs)")
    p.add_argument("--merge", action="store_true", help="only merge finished shards and export")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="reuse finished chunks of an interrupted build (default); --no-resume starts over")
    p.add_argument("--chunk-size", type=int, default=64, help="items per chunk (the unit of resume; default 64)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthesizer's noise (default 0)")
    p.add_argument("--max-shard-size", default="500MB", help="parquet shard size bound (default 500MB)")
    p.add_argument("--near-dup-radius", type=int, default=4, metavar="BITS",
                   help="split hygiene: a record whose image is within BITS pHash64 bits of an image in a more "
                        "held-out split (test > validation > train) is dropped; -1 turns it off (default 4)")
    p.add_argument("--no-audit", action="store_true", help="skip the final audit")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args) -> int:
    from monoir_rs.build import build

    if not args.merge and not args.pool:
        raise UserError("--pool is required (or --merge to merge finished shards of --out)")
    report = build(pool=args.pool, out=args.out, ir_synth=args.ir_synth, rewriter=args.rewriter,
                   workers=args.workers, shard=args.shard, progress=not args.no_progress, seed=args.seed,
                   resume=args.resume, merge=args.merge, chunk_size=args.chunk_size,
                   synth_opts=_opts(args.synth_opt, "--synth-opt"),
                   rewriter_opts=_opts(args.rewriter_opt, "--rewriter-opt"),
                   max_shard_size=args.max_shard_size, run_audit=not args.no_audit,
                   near_dup_radius=args.near_dup_radius)
    if report.get("status") == "partial":
        print(f"shard done; {report['chunks_missing']} of {report['n_chunks']} chunks wait for other shards. "
              f"The last shard to finish merges, or run `monoir build --out {args.out} --merge`.")
        return 0
    summary = {"out": report["out"], "records": report["n_records"], "rejected": report["n_rejected"],
               "totals": report["totals"], "clean_test": report["clean_test"],
               "rejections": {k: v["count"] for k, v in report["rejections"].items()},
               "audit_hard_failures": report.get("audit", {}).get("hard_failures")}
    print(json.dumps(summary, indent=1))
    failures = report.get("audit", {}).get("hard_failures")
    return 1 if failures else 0
