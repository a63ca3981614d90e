"""`monoir convert {geochat,vhm} SRC OUT`: original LLaVA-codebase checkpoints -> llava-hf folders."""

from __future__ import annotations

import argparse

EPILOG = """examples:
  hf download MBZUAI/geochat-7B --local-dir geochat-src
  monoir convert geochat geochat-src geochat-7b-hf
  monoir-eval --model geochat-7b-hf --tasks caption,scene --output runs/geochat

  hf download FitzPC/vhm_7B --local-dir vhm-src
  monoir convert vhm vhm-src vhm-7b-hf --vision-feature-layer=-2,-5   # when the config does not list the layers
"""


def _layers(text: str):
    vals = [int(x) for x in text.split(",") if x.strip()]
    return vals[0] if len(vals) == 1 else vals


def register(sub) -> None:
    p = sub.add_parser("convert", help="convert GeoChat / H2RSVLM (original LLaVA) checkpoints to llava-hf",
                       description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["geochat", "vhm"], help="source family (sets the vision resolution rules)")
    p.add_argument("src", help="folder of the original checkpoint (config.json + weights + tokenizer)")
    p.add_argument("out", help="output folder (llava-hf LlavaForConditionalGeneration + processor)")
    p.add_argument("--vision-tower", help="CLIP vision tower ID/folder when the checkpoint does not hold one "
                   "(default: the config's mm_vision_tower)")
    p.add_argument("--image-size", type=int, help="vision input size (geochat default 504: position "
                   "embeddings are interpolated to it)")
    p.add_argument("--vision-feature-layer", type=_layers, help="CLIP layer(s) fed to the projector, comma "
                   "separated; several are concatenated (VHM)")
    p.set_defaults(func=run)


def run(args) -> int:
    from harness.convert import convert

    out = convert(args.kind, args.src, args.out, vision_tower=args.vision_tower, image_size=args.image_size,
                  vision_feature_layer=args.vision_feature_layer)
    print(f"wrote {out} (llava-hf LlavaForConditionalGeneration); evaluate it with "
          f"`monoir-eval --model {out} --tasks vlm`")
    return 0
