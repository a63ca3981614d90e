"""The prompt card for IR-aware caption generation (paper §C.2, Fig. 4) and the shared pre/post-processing of
the model rewriters (`openai:`, `hf:`).

The paper prints the card as a figure; this is a faithful text version of its recipe (§3.2: "generated ...
from the source text and infrared evidence, preserving scene semantics while replacing RGB-dependent
descriptions with infrared-grounded cues and discouraging unsupported color terms"), with the quality gate's
terms spelled out so the model knows what is rejected. `PROMPT_VERSION` goes into the rewriter settings and
the cache key: changing the card never reuses old rewrites.
"""

from __future__ import annotations

import re

PROMPT_VERSION = "1.0"

SYSTEM_PROMPT = ("You write training captions for infrared (thermal) remote-sensing images. You describe only what "
                 "a single-channel infrared image can show.")

PROMPT_CARD = """Rewrite the source caption so that it describes the infrared remote-sensing image.

Source caption: {source_caption}
Scene class: {scene_class}

Rules:
1. Keep the scene semantics of the source caption: the scene type, the objects, their number and their spatial layout.
2. Ground the description in infrared evidence: grayscale intensity, bright and dark regions, contrast between objects and background, texture, outlines and shapes.
3. Do not use colour words (red, green, blue, yellow, orange, brown, white, black, golden, colorful, ...) or any other visible-light appearance.
4. Do not claim temperatures, heat sources, materials, emissivity or reflectivity; say how things look in intensity, not why.
5. Write one or two fluent sentences of 10 to 40 words. Answer with the caption only."""

RETRY_NOTE = ("\n\nYour previous answer was rejected because it {problems}. Write the caption again and follow "
              "every rule.")

PROBLEM_TEXT = {"empty": "was empty", "too_short": "was too short", "rgb_color": "used a colour word",
                "overclaim": "claimed temperatures or materials", "weak_ir": "did not describe infrared evidence "
                "(intensity, brightness, contrast, texture or outlines)"}


def build_prompt(source_caption: str, scene_class: str | None, problems: list[str] | None = None) -> str:
    """The user prompt of the card for one item (with a corrective note when a first answer failed the gate)."""
    text = PROMPT_CARD.format(source_caption=(source_caption or "").strip() or "(none)",
                              scene_class=scene_class or "unknown")
    if problems:
        text += RETRY_NOTE.format(problems=" and ".join(PROBLEM_TEXT.get(p, p) for p in problems))
    return text


def clean_output(text: str | None) -> str:
    """Strip a model answer to the caption: drop a leading "Caption:" label, surrounding quotes, extra lines."""
    text = (text or "").strip()
    text = re.sub(r"^(?:\*\*)?(?:ir-aware |infrared |rewritten )?caption(?:\*\*)?\s*:\s*", "", text, flags=re.I)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    text = " ".join(lines[:2]) if lines else ""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'“”":
        text = text[1:-1].strip()
    return text.strip("“”\"").strip()
