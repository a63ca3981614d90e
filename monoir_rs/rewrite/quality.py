"""Caption-level checks of the quality gate Q (paper eq. 6: "empty entries, ... weak IR descriptions, and
unsupported text"), shared by the model rewriters and the build's gate.

`check_caption(text)` returns the reasons a caption fails, in a fixed order (empty list = pass):
- `empty`: nothing but whitespace;
- `too_short`: fewer than `MIN_WORDS` words (eq. 37 word rule);
- `rgb_color`: a K_RGB colour term (unsupported by infrared evidence);
- `overclaim`: a K_over term (temperature / material claims a synthetic IR image cannot support);
- `weak_ir`: no K_IR term, i.e. the caption does not describe infrared evidence at all.
"""

from __future__ import annotations

from monoir_rs.keywords import K_IR, K_OVER, K_RGB, has_keyword, words

MIN_WORDS = 5
REASONS = ("empty", "too_short", "rgb_color", "overclaim", "weak_ir")


def check_caption(text: str | None, min_words: int = MIN_WORDS) -> list[str]:
    """Reasons (subset of `REASONS`, in that order) why `text` fails the caption checks; [] when it passes."""
    text = (text or "").strip()
    if not text:
        return ["empty"]
    reasons = []
    if len(words(text)) < min_words:
        reasons.append("too_short")
    if has_keyword(text, K_RGB):
        reasons.append("rgb_color")
    if has_keyword(text, K_OVER):
        reasons.append("overclaim")
    if not has_keyword(text, K_IR):
        reasons.append("weak_ir")
    return reasons
