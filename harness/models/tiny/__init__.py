"""Tiny random-weight models for offline tests and demos: `make_tiny(kind, out) -> Path`.

Each is a few MB, has a tokenizer trained locally on caption-like text, and is saved the way the real model
family is (transformers `save_pretrained`, or an open_clip `local-dir:` folder), so the harness loads it
through the same code path as a Hub model.
"""

from __future__ import annotations

from pathlib import Path

from monoir_rs.errors import UserError

CLIP_KINDS = ("clip", "open_clip")
VLM_KINDS = ("qwen2_5_vl", "llava", "llava_next", "instructblip")
KINDS = CLIP_KINDS + VLM_KINDS


def make_tiny(kind: str, out: str | Path, **options) -> Path:
    """Write a tiny model of `kind` into `out` and return the folder."""
    out = Path(out)
    if kind in CLIP_KINDS:
        from .clip import make_tiny_clip

        return make_tiny_clip(kind, out, **options)
    if kind in VLM_KINDS:
        from .vlm import make_tiny_vlm

        return make_tiny_vlm(kind, out, **options)
    raise UserError(f"unknown tiny model kind {kind!r}; choose from {', '.join(KINDS)}")
