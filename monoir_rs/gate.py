"""The quality gate Q of paper eq. 6 and the split rule of eq. 7.

    m_i = 1[I_i^ir exists ∧ |t_i| > 0 ∧ s_i ∈ {train, val, test} ∧ Q(x_i) = pass]

`record_reason` checks the record-level terms (source known, image path safe, split valid), `image_reason`
whether the IR image could be made (source exists and decodes, synthesis ran), and `caption_reasons` the text
terms of Q (empty, too short, K_RGB colour term, K_over overclaim, no K_IR cue = weak IR description), shared
with the model rewriters through `monoir_rs.rewrite.quality`. A rejected item is counted under its first
failing reason, in the order of `REASONS`; all of its failing reasons are kept in `rejected.jsonl`.

Split rule (documented choice): the source's own split is kept (normalised by `schema.normalize_split`). A
source without a split gets one from a stable hash of its id: u = first 8 bytes of SHA-256(id) / 2^64,
test if u < 1/60, validation if u < 2/60, else train — the 10,000 / 10,000 / 580,000 proportions of paper
Table 3. A split that is present but not one of the known names fails the gate (`invalid_split`).
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from monoir_rs.schema import is_source_name, normalize_split

# Reasons in the order they are tested; readers' BadItem reasons (e.g. malformed_row) are counted as given.
CAPTION_REASONS = ("empty", "too_short", "rgb_color", "overclaim", "weak_ir")
REASONS = ("unknown_source", "unsafe_path", "invalid_split", "missing_image", "corrupt_image", "synth_failed",
           *CAPTION_REASONS, "duplicate_id", "image_path_collision", "near_duplicate_split")
FALLBACK_VAL_FRAC = 1 / 60
FALLBACK_TEST_FRAC = 1 / 60


def settings(min_words: int | None = None) -> dict:
    """What the gate checks, for the build report."""
    from monoir_rs.rewrite.quality import MIN_WORDS

    return {"reasons": list(REASONS), "min_words": MIN_WORDS if min_words is None else int(min_words),
            "caption_checks": "empty, too_short, rgb_color (K_RGB), overclaim (K_over), weak_ir (no K_IR)",
            "split_fallback": {"rule": "sha256(id)[:8] / 2^64 -> test < 1/60 <= validation < 2/60 <= train",
                               "validation_frac": FALLBACK_VAL_FRAC, "test_frac": FALLBACK_TEST_FRAC}}


def hash_split(rid: str) -> str:
    """Fallback split of a record whose source has none: a stable function of its id."""
    u = int.from_bytes(hashlib.sha256(rid.encode("utf-8")).digest()[:8], "big") / 2.0 ** 64
    if u < FALLBACK_TEST_FRAC:
        return "test"
    if u < FALLBACK_TEST_FRAC + FALLBACK_VAL_FRAC:
        return "validation"
    return "train"


def resolve_split(rid: str, split: str | None) -> str | None:
    """The record's split: the source's own (normalised), the hash fallback when absent, None when invalid."""
    if split is None or str(split).strip() == "":
        return hash_split(rid)
    return normalize_split(split)


def unsafe_path(path: str) -> bool:
    """True for a pool path that is absolute or climbs out of the pool (`..`)."""
    if not path or path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        return True
    return ".." in PurePosixPath(path.replace("\\", "/")).parts


def record_reason(source: str, image_path: str, split: str | None) -> str | None:
    """First failing record-level term of eq. 6 (`split` already resolved), or None."""
    if not is_source_name(source):
        return "unknown_source"
    if unsafe_path(image_path):
        return "unsafe_path"
    if split is None:
        return "invalid_split"
    return None


def caption_reasons(text: str | None, min_words: int | None = None) -> list[str]:
    """The failing text terms of Q (empty list = pass)."""
    from monoir_rs.rewrite.quality import MIN_WORDS, check_caption

    return check_caption(text, min_words=MIN_WORDS if min_words is None else int(min_words))
