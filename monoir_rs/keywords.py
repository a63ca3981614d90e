"""Keyword sets of the lexical diagnostics (paper eq. 33–36, SPEC §4): the one place they are defined.

Matching rule (documented choice): a keyword hits when it occurs as a whole word or whole phrase,
case-insensitively; a phrase matches across any run of whitespace or hyphens between its words
("heat-source" == "heat source"). Plural forms are listed explicitly, never inferred.
Results record `KEYWORDS_VERSION` so scores from different lists are never mixed silently.
"""

from __future__ import annotations

import re
from functools import lru_cache

KEYWORDS_VERSION = "1.0"

K_IR: tuple[str, ...] = ("infrared", "thermal", "grayscale", "intensity", "contrast", "texture", "bright",
                         "brightness", "dark", "outline", "outlines")

K_RGB: tuple[str, ...] = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "brown", "cyan",
                          "magenta", "beige", "gold", "golden", "turquoise", "colorful", "colourful")

K_OVER: tuple[str, ...] = ("temperature", "temperatures", "heat", "heated", "heat source", "heat signature",
                           "heat signatures", "hot", "cold", "warm", "emissivity", "emissive", "reflectivity",
                           "reflective", "radiance", "radiant", "metallic", "material", "materials",
                           "conductivity", "thermal anomaly", "thermal signature", "thermal signatures")

KEYWORD_SETS = {"ir": K_IR, "rgb": K_RGB, "over": K_OVER}

_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=64)
def keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern:
    """One compiled regex matching any keyword as a whole word/phrase (longest first)."""
    parts = []
    for kw in sorted(set(keywords), key=len, reverse=True):
        words = kw.lower().split()
        parts.append(r"[\s\-]+".join(re.escape(w) for w in words))
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + r")(?![a-z0-9])", re.IGNORECASE)


def find_keywords(text: str, keywords: tuple[str, ...]) -> list[str]:
    """Every keyword occurrence in `text`, lower-cased, in order."""
    return [m.group(0).lower() for m in keyword_pattern(tuple(keywords)).finditer(text or "")]


def has_keyword(text: str, keywords: tuple[str, ...]) -> bool:
    """hit(y, K) of eq. 33–35."""
    return keyword_pattern(tuple(keywords)).search(text or "") is not None


def words(text: str) -> list[str]:
    """words(y) of eq. 37: whitespace-separated tokens (punctuation-only tokens dropped)."""
    return [w for w in (text or "").split() if _WORD.search(w.lower())]


def tokens(text: str) -> set[str]:
    """tokens(y) of eq. 36: lower-case alphanumeric tokens."""
    return set(_WORD.findall((text or "").lower()))
