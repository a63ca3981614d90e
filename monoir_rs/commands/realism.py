"""`monoir realism`: FID and grayscale-histogram distances of synthetic IR to real IR (paper Table 2)."""

from __future__ import annotations

import argparse

EXAMPLE = """examples:
  monoir realism --real aviid/ir --synthetic aviid/diffv2ir --baseline aviid/rgb --json realism.json
  monoir realism --real ../shared/realdata/hit_uav/images --synthetic renders/thermal-proxy \\
                 --baseline renders/gray --no-fid
  monoir realism --real R --synthetic S --inception-weights inception_v3_google-0cc3c7bd.pth --device cuda
--baseline may hold the visible RGB images themselves: they are converted with BT.601 luma (the paper's
RGB-to-gray baseline). FID needs torchvision's Inception-v3 IMAGENET1K_V1 weights (never downloaded here).
"""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "realism", help="FID and grayscale-histogram distances to real infrared",
        description="Compare a synthetic IR image set (and optionally a baseline) with a real IR set: FID on "
                    "Inception-v3 pool features (paper §C.6) and KL / JS / chi2 / histogram intersection of "
                    "256-bin grayscale histograms (eq. 14-17, eps 1e-10), in Table 2's layout.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--real", required=True, metavar="DIR", help="real infrared images (searched recursively)")
    p.add_argument("--synthetic", required=True, metavar="DIR", help="synthetic infrared images")
    p.add_argument("--baseline", metavar="DIR", help="baseline images, e.g. RGB-to-gray (or the RGB images)")
    p.add_argument("--json", metavar="PATH", help="write {synthetic|baseline: {fid, kl, js, chi2, hi}, ...}")
    p.add_argument("--plot", metavar="PATH", help="write the overlaid grayscale histograms as a PNG")
    p.add_argument("--no-fid", action="store_true", help="histogram metrics only (no Inception weights needed)")
    p.add_argument("--inception-weights", metavar="PATH",
                   help="Inception-v3 state dict (.pth or .safetensors); default: torchvision's cache")
    p.add_argument("--device", default="cpu", help="torch device for FID features (default cpu)")
    p.add_argument("--batch-size", type=int, default=32, help="FID feature batch size (default 32)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args) -> int:
    import json
    from pathlib import Path

    from monoir_rs.realism import format_table, plot, realism

    result = realism(args.real, args.synthetic, args.baseline, fid=not args.no_fid,
                     inception_weights=args.inception_weights, device=args.device, batch_size=args.batch_size,
                     progress=not args.no_progress)
    print(format_table(result))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.plot:
        print(f"wrote {plot(result, args.plot)}")
    return 0
