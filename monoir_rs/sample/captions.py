"""Per-source caption styles for the sample pool, modelled on the public releases.

RSICD: lower-case sentences ending in " ." (five per image). RSITMD and NWPU-Captions: sentence case with a
final period (five per image). RS5M: one web-style alt text. SkyScript: `title` and `title_multi_objects`.
"""

from __future__ import annotations

import numpy as np

_WEB_PREFIX = ("Aerial view of the scene: ", "Satellite image: ", "Drone photo - ", "Bird's eye view: ", "")


def _sentence(s: str) -> str:
    return s[:1].upper() + s[1:] + "."


def rsicd(sentences: list[str]) -> list[str]:
    return [f"{s} ." for s in sentences]


def rsitmd(sentences: list[str]) -> list[str]:
    return [_sentence(s) for s in sentences]


nwpu = rsitmd


def rs5m(sentences: list[str], rng: np.random.Generator) -> list[str]:
    prefix = _WEB_PREFIX[int(rng.integers(len(_WEB_PREFIX)))]
    text = prefix + sentences[0]
    return [text[:1].upper() + text[1:]]


def skyscript(sentences: list[str], class_name: str) -> list[str]:
    title = f"a satellite image of {class_name}: {sentences[0]}"
    return [title, f"{title}; around it, {sentences[1]}"]


def tokens(text: str) -> list[str]:
    """Karpathy-style tokens: lower-case words without punctuation."""
    return [w for w in "".join(ch if ch.isalnum() or ch == "-" else " " for ch in text.lower()).split()]
