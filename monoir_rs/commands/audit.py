"""`monoir audit DATA`: release integrity checks of a built dataset (paper §3.3, §5.5)."""

from __future__ import annotations

import argparse

EXAMPLE = """examples:
  monoir audit monoir-rs                                  # table; exit 1 on a hard failure
  monoir audit monoir-rs --json monoir-rs/audit_report.json
  monoir audit monoir-rs --write-manifest                 # (re)write monoir-rs/SHA256SUMS, then audit
hard failures: split overlap by id or pixels, missing/undecodable images, duplicate paths, empty captions,
colour terms, clean_test rule, config consistency, vlm_instruct leakage, manifest mismatch.
warnings: cross-split near-duplicates (pHash64, Hamming radius 4, connected components), missing manifest.
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "audit", help="integrity checks of a built dataset (exit 1 on hard failure)",
        description="Audit a built MonoIR-RS dataset in the Hub layout: split overlap by id, exact pixel hash "
                    "and perceptual hash; missing or undecodable images; duplicate paths; RGB-named paths "
                    "(what clean_test removes); colour-term leakage and empty captions; config consistency; "
                    "the SHA256SUMS release manifest.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", metavar="DATA", help="dataset folder written by `monoir build --out`")
    p.add_argument("--json", metavar="PATH", help="also write the full report as JSON")
    p.add_argument("--write-manifest", action="store_true",
                   help="write DATA/SHA256SUMS (SHA-256 of every file) before auditing")
    p.add_argument("--no-near-dup", action="store_true", help="skip the perceptual-hash near-duplicate check")
    p.add_argument("--radius", type=int, default=4, help="pHash Hamming radius for near-duplicates (default 4)")
    p.add_argument("--workers", type=int, default=1, help="processes that decode and hash images (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from monoir_rs.audit import audit, format_report, save_report, write_manifest
    from monoir_rs.errors import UserError

    if args.radius < 0 or args.radius > 16:
        raise UserError(f"--radius {args.radius}: use 0..16 (the FusionRS rule is 4)")
    if args.write_manifest:
        from pathlib import Path

        if not Path(args.data).is_dir():
            raise UserError(f"{args.data} is not a folder; give the folder `monoir build --out` wrote")
        print(f"wrote {write_manifest(args.data)}")
    report = audit(args.data, near_dup=not args.no_near_dup, radius=args.radius, progress=not args.no_progress,
                   workers=args.workers)
    print(format_report(report))
    if args.json:
        save_report(report, args.json)
        print(f"report: {args.json}")
    return 0 if report["ok"] else 1
