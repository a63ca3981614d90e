"""Lexical VLM diagnostics of paper Appendix A.7 (eq. 33–37), as pure functions.

Per answer y (see `sample_hits`):
- ir_cue / rgb_color / overclaim: hit(y, K) with the keyword sets of `monoir_rs.keywords` (whole word or phrase,
  case-insensitive; eq. 33–35).
- class_hit: 1[tokens(y) ∩ C_i ≠ ∅] (eq. 36) with C_i = `class_tokens(scene_class)`.
- words: |words(y)| (eq. 37).
- empty: the answer is empty or a generic failure (`is_generic_failure`); beyond the paper.

Rates are percentages over all n answers (eq. 33–36), avg_words a plain mean (eq. 37).
A record with no `scene_class` has C_i = ∅, so it counts as a class-hit miss, exactly as eq. 36 reads;
`class_hit_rate_labeled` reports the same rate over records that do have a class.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from monoir_rs.keywords import K_IR, K_OVER, K_RGB, KEYWORDS_VERSION, has_keyword, tokens, words

LEXICAL_METRICS = ("ir_cue_rate", "rgb_color_rate", "overclaim_rate", "class_hit_rate", "avg_words")

# Source class names written as one word (RSICD / RSITMD file prefixes) -> their words.
COMPOUND_CLASSES = {
    "bareland": "bare land", "baseballfield": "baseball field", "basketballcourt": "basketball court",
    "denseresidential": "dense residential", "mediumresidential": "medium residential",
    "sparseresidential": "sparse residential", "railwaystation": "railway station",
    "storagetanks": "storage tanks", "storagetank": "storage tank", "tenniscourt": "tennis court",
    "golfcourse": "golf course", "parkinglot": "parking lot", "groundtrackfield": "ground track field",
    "mobilehomepark": "mobile home park", "seaice": "sea ice", "thermalpowerstation": "thermal power station",
    "circularfarmland": "circular farmland", "rectangularfarmland": "rectangular farmland",
    "commercialarea": "commercial area", "industrialarea": "industrial area", "trainstation": "train station",
}
# Words of a class name that say nothing about the class; dropped unless nothing else is left.
GENERIC_CLASS_WORDS = frozenset({"a", "an", "and", "of", "the", "area", "areas", "scene", "scenes", "region",
                                 "regions", "other", "misc"})

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_FAILURE = re.compile(
    r"^\W*(?:i['’]?m sorry|sorry\b|i cannot\b|i can['’]?t\b|i am unable|i['’]?m unable|unable to\b|as an ai\b|"
    r"n/?a\W*$|none\W*$|unknown\W*$|no answer\b|i don['’]?t know\b|cannot (?:determine|answer|tell)\b)",
    re.IGNORECASE)


def _variants(word: str) -> set[str]:
    """A word plus its simple singular/plural forms (tank/tanks, church/churches, city/cities)."""
    out = {word}
    if word.endswith("ies") and len(word) > 4:
        out.add(word[:-3] + "y")
    elif word.endswith(("ches", "shes", "sses", "xes")):
        out.add(word[:-2])
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        out.add(word[:-1])
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        out.add(word[:-1] + "ies")
    elif word.endswith(("ch", "sh", "ss", "x")):
        out.add(word + "es")
    elif not word.endswith("s"):
        out.add(word + "s")
    return out


def class_words(scene_class: str | None) -> list[str]:
    """The words of a source class name, lower-case, generic words dropped.

    "dense_residential", "Dense Residential", "denseResidential", "denseresidential" -> [dense, residential];
    "storagetanks" -> [storage, tanks]; "commercial_area" -> [commercial] ("area" is generic); a name made
    only of generic words keeps them all.
    """
    if not scene_class or not str(scene_class).strip():
        return []
    text = _CAMEL.sub(" ", str(scene_class).strip())
    raw: list[str] = []
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        raw.extend(COMPOUND_CLASSES.get(w, w).split())
    kept = [w for w in raw if w not in GENERIC_CLASS_WORDS]
    return kept or raw


def class_tokens(scene_class: str | None) -> frozenset[str]:
    """C_i of eq. 36: the class words plus their simple singular/plural variants ("storage tanks" -> tank(s))."""
    out: set[str] = set()
    for w in class_words(scene_class):
        out |= _variants(w)
    return frozenset(out)


def is_generic_failure(text: str | None) -> bool:
    """Empty / whitespace / punctuation-only answers, refusals ("I'm sorry", "I cannot ..."), bare "N/A" or
    "unknown", and degenerate repetition (>= 6 words of which one word makes >= 80%)."""
    ws = [w.lower().strip(".,;:!?\"'()") for w in words(text or "")]
    if not ws:
        return True
    if _FAILURE.search(text or ""):
        return True
    if len(ws) >= 6 and max(ws.count(w) for w in set(ws)) >= 0.8 * len(ws):
        return True
    return False


def sample_hits(text: str | None, scene_class: str | None = None) -> dict:
    """Per-answer indicators of eq. 33–37 (the per-sample log's `hits`)."""
    text = text or ""
    c = class_tokens(scene_class)
    return {
        "ir_cue": int(has_keyword(text, K_IR)),
        "rgb_color": int(has_keyword(text, K_RGB)),
        "overclaim": int(has_keyword(text, K_OVER)),
        "class_hit": int(bool(tokens(text) & c)),
        "words": len(words(text)),
        "empty": int(is_generic_failure(text)),
    }


def aggregate(hits: Sequence[dict], labeled: Sequence[bool] | None = None) -> dict:
    """Task-level vector m_tau of eq. 38 (+ empty_rate, class_hit_rate_labeled) from `sample_hits` dicts."""
    n = len(hits)
    if n == 0:
        return {k: None for k in (*LEXICAL_METRICS, "empty_rate")}
    rate = lambda key: 100.0 * sum(h[key] for h in hits) / n  # noqa: E731
    out = {"ir_cue_rate": rate("ir_cue"), "rgb_color_rate": rate("rgb_color"), "overclaim_rate": rate("overclaim"),
           "class_hit_rate": rate("class_hit"), "avg_words": sum(h["words"] for h in hits) / n,
           "empty_rate": rate("empty")}
    if labeled is not None:
        lab = [h for h, ok in zip(hits, labeled, strict=False) if ok]
        out["class_hit_rate_labeled"] = 100.0 * sum(h["class_hit"] for h in lab) / len(lab) if lab else None
    return out


def lexical_metrics(answers: Iterable[str], scene_classes: Iterable[str | None] | None = None) -> dict:
    """eq. 33–37 over answers (and their records' scene classes); records the keyword version."""
    answers = list(answers)
    classes = list(scene_classes) if scene_classes is not None else [None] * len(answers)
    if len(classes) != len(answers):
        raise ValueError(f"{len(answers)} answers but {len(classes)} scene classes")
    hits = [sample_hits(a, c) for a, c in zip(answers, classes, strict=False)]
    out = aggregate(hits, [bool(class_words(c)) for c in classes])
    out["keywords_version"] = KEYWORDS_VERSION
    return out
