"""`monoir train clip|vlm`: the paper's fine-tuning recipes (IR-CLIP: Table 18, Algorithm 2; IR-VLM LoRA:
Table 19, Algorithm 3). Defaults come from the paper per backbone; every flag overrides its default."""

from __future__ import annotations

import argparse
import json

CLIP_EXAMPLES = """examples:
  monoir train clip --model openai-clip-vit-b-32 --data monoir-rs --output runs/clip-b32      # Table 18 row
  monoir train clip --model openai-clip-vit-l-14 --data monoir-rs --output runs/clip-l14
  monoir train clip --model runs/clip-l14 --data monoir-rs --output runs/clip-l14-s2 --stage 2 \\
      --epochs 6 --batch-size 128 --lr 5e-7                          # ViT-L/14 stage-2 resume (Table 18)
  monoir train clip --model georsclip-vit-b-32 --data monoir-rs --output runs/geo --captions source  # Table 8
  monoir tiny-model --kind clip --out tiny-clip && monoir train clip --model tiny-clip --data monoir-rs \\
      --output runs/tiny-clip                                        # CPU demo
Then: monoir-eval --model runs/clip-b32 --tasks retrieval --data monoir-rs
A killed run resumes from OUT/checkpoint-last when re-run with the same arguments."""

VLM_EXAMPLES = """examples:
  monoir instruct --data monoir-rs                                  # writes the vlm_instruct config first
  monoir train vlm --model qwen2.5-vl-7b --data monoir-rs --output runs/qwen-lora
  monoir train vlm --model llava-1.5-7b --data monoir-rs --output runs/llava-lora --gradient-checkpointing
  monoir train vlm --model instructblip-flan-t5-xl --data monoir-rs --output runs/iblip --adapter-only
Then: monoir-eval --model qwen2.5-vl-7b --adapter runs/qwen-lora --tasks vlm --data monoir-rs
A killed run resumes from OUT/checkpoints when re-run with the same arguments."""


def _common(p) -> None:
    p.add_argument("--model", required=True, help="alias, Hub ID or local folder of the base model")
    p.add_argument("--data", default="monoir-rs", help="built dataset folder or Hub repo (default monoir-rs)")
    p.add_argument("--output", required=True, help="output folder (weights / adapter + monoir_training.json)")
    p.add_argument("--epochs", type=float, help="epochs (default: the paper's value for the backbone)")
    p.add_argument("--batch-size", type=int, help="per-device batch size (default: paper value)")
    p.add_argument("--lr", type=float, help="peak learning rate (default: paper value)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="cuda, cuda:N or cpu (default: cuda when available)")
    p.add_argument("--limit", type=int, help="use only the first N training examples (smoke runs)")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="continue from the last checkpoint in OUTPUT when there is one (default); "
                        "--no-resume starts over")
    p.add_argument("--stop-after-steps", type=int, help=argparse.SUPPRESS)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="the paper's fine-tuning recipes: `train clip`, `train vlm`",
                              description=__doc__)
    sub = p.add_subparsers(dest="recipe", metavar="RECIPE", required=True)
    fmt = argparse.RawDescriptionHelpFormatter

    c = sub.add_parser("clip", help="IR-CLIP: frozen text tower, contrastive fine-tuning (Table 18)",
                       description="IR-CLIP contrastive fine-tuning (paper §4.3, eq. 18-22, Algorithm 2).",
                       epilog=CLIP_EXAMPLES, formatter_class=fmt)
    _common(c)
    c.add_argument("--captions", choices=("ir", "source"), default="ir",
                   help="train on IR-aware captions (default) or the original source captions (Table 8 ablation)")
    c.add_argument("--eval-steps", type=int, help="also validate (and keep the best) every N steps")
    c.add_argument("--save-steps", type=int, help="write the resume checkpoint every N steps (default: at "
                                                  "each validation)")
    c.add_argument("--weight-decay", type=float, help="AdamW weight decay (default 0.1)")
    c.add_argument("--warmup-steps", type=int, help="linear warm-up steps (default 20)")
    c.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"),
                   help="auto: fp16 AMP on CUDA, fp32 on CPU")
    c.add_argument("--stage", type=int, choices=(1, 2), default=1,
                   help="2: the OpenAI ViT-L/14 stage-2 schedule of Table 18 (pass the stage-1 output as --model)")
    c.add_argument("--num-workers", type=int, default=0, help="DataLoader workers for image decoding")
    c.set_defaults(func=run_clip)

    v = sub.add_parser("vlm", help="IR-VLM: LoRA instruction tuning on vlm_instruct (Table 19)",
                       description="IR-VLM LoRA instruction tuning (paper §4.4, eq. 28-32, Algorithm 3).",
                       epilog=VLM_EXAMPLES, formatter_class=fmt)
    _common(v)
    v.add_argument("--adapter-only", action="store_true",
                   help="train LoRA only; keep the multimodal projector frozen")
    v.add_argument("--grad-accum", type=int, help="gradient accumulation steps (default: Table 19)")
    v.add_argument("--max-len", type=int, help="max sequence length (default: Table 19)")
    v.add_argument("--max-steps", type=int, help="stop after N optimiser steps (the schedule follows it)")
    v.add_argument("--save-steps", type=int, default=200, help="checkpoint every N steps (default 200)")
    v.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"),
                   help="auto: bf16 where the GPU supports it, else fp32")
    v.add_argument("--gradient-checkpointing", action="store_true", help="trade compute for memory")
    v.add_argument("--trust-remote-code", action="store_true", help="allow custom model code from the Hub")
    v.set_defaults(func=run_vlm)



def run_clip(args) -> int:
    from monoir_rs.train.clip import ClipTrainArgs, train_clip

    epochs = None if args.epochs is None else int(args.epochs)
    summary = train_clip(ClipTrainArgs(
        model=args.model, data=args.data, output=args.output, epochs=epochs, batch_size=args.batch_size,
        lr=args.lr, weight_decay=args.weight_decay, warmup_steps=args.warmup_steps, captions=args.captions,
        eval_steps=args.eval_steps, save_steps=args.save_steps, seed=args.seed, device=args.device,
        precision=args.precision, num_workers=args.num_workers, resume=args.resume,
        stop_after_steps=args.stop_after_steps, limit=args.limit, stage=args.stage, progress=not args.no_progress))
    print(json.dumps({"output": args.output, "best": summary.get("best"), "completed": summary.get("completed")}))
    return 0


def run_vlm(args) -> int:
    from monoir_rs.train.vlm import VlmTrainArgs, train_vlm

    summary = train_vlm(VlmTrainArgs(
        model=args.model, data=args.data, output=args.output, adapter_only=args.adapter_only, epochs=args.epochs,
        batch_size=args.batch_size, grad_accum=args.grad_accum, lr=args.lr, max_len=args.max_len,
        max_steps=args.max_steps, save_steps=args.save_steps, seed=args.seed, device=args.device,
        precision=args.precision, limit=args.limit, resume=args.resume, stop_after_steps=args.stop_after_steps,
        gradient_checkpointing=args.gradient_checkpointing, trust_remote_code=args.trust_remote_code,
        progress=not args.no_progress))
    print(json.dumps({"output": args.output, "best": summary.get("best"), "completed": summary.get("completed")}))
    return 0
