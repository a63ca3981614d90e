"""IR-aware caption rewriting R_ω (paper §3, eq. 5): plug-ins that turn an RGB-era caption into one that
describes infrared evidence (intensity, contrast, texture, outlines) without visible-light colour words.

`get_rewriter(name, **opts)` returns an object with `name`, `settings() -> dict` and
`rewrite_batch(list[RewriteInput]) -> list[str]`. Names: `rules` (deterministic, no model),
`openai:BASE_URL` (an OpenAI-compatible chat-completions server, e.g. vLLM serving Qwen2.5-VL-72B as in the
paper), `hf:MODEL` (any VLM through the harness's VLM runner). Model output is screened by `check_caption`
(the same checks the build's quality gate Q applies).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monoir_rs.errors import UserError


@dataclass(frozen=True)
class RewriteInput:
    """One caption to rewrite. `rgb_path` is the source RGB image; `ir_image` the synthesized IR image
    (a PIL image, mode "L") when the build has it, else None (model rewriters then read `rgb_path`)."""

    id: str
    source_caption: str
    scene_class: str | None = None
    rgb_path: Path | str | None = None
    ir_image: Any = None


from monoir_rs.rewrite.quality import MIN_WORDS, check_caption  # noqa: E402

REWRITERS = ("rules", "hf:MODEL", "openai:BASE_URL")


def get_rewriter(name: str, **opts):
    """Rewriter by name: `rules`, `hf:MODEL` or `openai:BASE_URL` (options: see each class)."""
    if name == "rules":
        from monoir_rs.rewrite.rules import RulesRewriter

        return RulesRewriter(**opts)
    if name.startswith("openai:"):
        from monoir_rs.rewrite.openai import OpenAIRewriter

        return OpenAIRewriter(base_url=name[len("openai:"):], **opts)
    if name.startswith("hf:"):
        from monoir_rs.rewrite.hf import HFRewriter

        return HFRewriter(model=name[len("hf:"):], **opts)
    raise UserError(f"unknown rewriter {name!r}: use one of {', '.join(REWRITERS)} "
                    "(e.g. `--rewriter rules` or `--rewriter openai:http://localhost:8000/v1`)")


__all__ = ["RewriteInput", "get_rewriter", "REWRITERS", "check_caption", "MIN_WORDS"]
