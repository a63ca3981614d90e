"""`rules`: a deterministic, model-free IR-aware rewriter (R_ω without a VLM).

It keeps every word of the source caption except visible-light appearance terms, which it rewrites in context:

1. A *colour phrase* is a run of colour words (every K_RGB term plus the achromatic and other visible-band
   colour words of `COLOUR_WORDS`: white, black, grey/gray, silver, khaki, cream, ...), optionally led by a
   modifier (dark, light, pale, deep, bright), joined by "and"/"or"/commas/hyphens, optionally followed by
   "colo(u)red" / "in colo(u)r" ("dark blue", "green and white", "cream colored", "blue-green").
2. The phrase is mapped to an infrared intensity word by the **material of the noun it modifies** (the next
   lexicon noun within the clause, or the subject before a copula for "the roof is red"):
   water → "dark"; vegetation → "mid-gray" ("green trees" → "trees with mid-gray texture" when the noun
   follows directly); roofs, buildings, pavement, bare soil, sand → "bright" ("dark" when the phrase itself is
   black/dark); vehicles, ships, tanks → "bright"/"dark" by the phrase's lightness; snow/ice → "dark".
   Land surfaces (farmland, field, land, mountain, ...) take their material from the colour: green → vegetation,
   else bare soil. "colorful" → "high-contrast"; a phrase with no material noun becomes an intensity word when
   achromatic (white → bright, black → dark, gray → mid-gray), "vegetation" when a bare green noun, else is
   dropped; a predicate with nothing to map ("it is red") becomes "visible in grayscale".
3. "colo(u)r(s)" nouns become "intensity"/"intensities"; unsupported material adjectives of K_over
   (metallic, reflective, ...) are dropped; a/an before a replaced word is fixed.
4. When the result has no K_IR term, a short infrared framing is prepended (one of `FRAMINGS`, picked by a
   hash of the caption, so the output is deterministic).
A final pass guarantees that no K_RGB term survives.
"""

from __future__ import annotations

import hashlib
import re

from monoir_rs.errors import UserError
from monoir_rs.keywords import K_IR, K_RGB, KEYWORDS_VERSION, has_keyword, keyword_pattern

RULES_VERSION = "1.0"

ACHROMATIC = {"white", "whitish", "black", "blackish", "grey", "gray", "greyish", "grayish", "silver", "silvery"}
EXTRA_COLOURS = {"khaki", "cream", "emerald", "crimson", "azure", "navy", "violet", "ivory", "scarlet", "maroon",
                 "greenish", "reddish", "yellowish", "bluish", "blueish", "brownish", "orangish", "pinkish",
                 "purplish", "aqua"}
COLOUR_WORDS = set(K_RGB) | ACHROMATIC | EXTRA_COLOURS
COLOURFUL = {"colorful", "colourful", "multicolored", "multicoloured", "multi-colored", "multi-coloured"}
# Lead words that belong to a colour phrase only when a colour word follows ("off white", "brick red").
MODIFIERS = {"dark", "light", "pale", "deep", "bright", "dull", "pure", "milky", "brilliant", "snow", "off", "brick",
             "sky", "sea", "olive", "bottle", "lime", "royal", "baby", "dirty", "muddy", "vivid", "faint", "soft"}
SUFFIXES = {"colored", "coloured", "color", "colour", "toned"}
GREENS = {"green", "greenish", "emerald", "turquoise", "cyan", "aqua"}
DARK_TONES = {"black", "blackish", "navy"}
CONNECTORS = {"and", "or"}
COPULAS = {"is", "are", "was", "were", "be", "been", "being", "looks", "look", "looked", "appears", "appear",
           "seems", "seem", "painted", "becomes", "become", "turns", "turn", "turned", "remains", "remain"}
ADVERBS = {"very", "mostly", "all", "mainly", "so", "quite", "almost", "largely", "partly", "completely",
           "totally", "entirely", "also", "both", "either", "pretty", "rather", "slightly", "not"}
CLAUSE_BREAKS = {"is", "are", "was", "were", "with", "of", "in", "on", "near", "beside", "by", "at", "to",
                 "from", "which", "that", "while", "where", "there", "between", "around", "along", "across",
                 "surrounded", "next", "lies", "lie", "stands", "stand", "has", "have", "and", "or", "but"}
OVERCLAIM_ADJECTIVES = {"metallic", "reflective", "radiant", "emissive"}

_NOUNS = {
    "water": "water waters sea seas ocean oceans river rivers lake lakes pond ponds pool pools swimming seawater "
             "bay bays stream streams canal canals reservoir reservoirs lagoon lagoons creek creeks",
    "vegetation": "tree trees plant plants grass grasses grassland grasslands forest forests lawn lawns "
                  "vegetation wood woods woodland woodlands crop crops bush bushes shrub shrubs hedge hedges "
                  "leaves foliage greenery turf orchard orchards",
    "built": "roof roofs roofed roofing rooftop rooftops building buildings house houses housing factory "
             "factories workshop workshops road roads street streets pavement parking lot lots runway runways "
             "apron aprons court courts square squares bridge bridges stadium stadiums church churches station "
             "stations warehouse warehouses block blocks awning awnings ceiling ceilings dome domes track tracks "
             "railway railways viaduct viaducts port ports dock docks pier piers wharf terminal terminals "
             "structure structures school schools tower towers villa villas residence residences wall walls "
             "hall halls shed sheds platform platforms highway highways path paths concrete asphalt cement "
             "tile tiles plaza overpass",
    "object": "car cars vehicle vehicles truck trucks bus buses plane planes airplane airplanes aircraft "
              "aircrafts ship ships boat boats tank tanks storage container containers wave waves cloud clouds "
              "umbrella umbrellas tent tents seat seats stand stands box boxes yacht yachts train trains "
              "chimney chimneys pipe pipes",
    "soil": "beach beaches sand sands desert deserts bareland barelands soil soils dirt dune dunes rock rocks "
            "stone stones gravel shore coast",
    "snow": "snow ice glacier glaciers frost",
    "land": "farmland farmlands field fields land lands area areas ground grounds mountain mountains hill hills "
            "meadow meadows plain plains playground playgrounds garden gardens park parks terrain slope slopes "
            "patch patches strip strips belt belts golf course courses island islands",
}
NOUN_MATERIAL = {w: m for m, ws in _NOUNS.items() for w in ws.split()}

FRAMINGS = ("In this infrared image, {c}", "In the thermal infrared view, {c}", "Infrared scene: {c}")

_TOKEN = re.compile(r"[A-Za-z]+(?:[-'][A-Za-z]+)*|[^A-Za-z]+")


def _is_word(tok: str) -> bool:
    return tok[:1].isalpha()


def _is_colour(word: str) -> bool:
    parts = word.lower().split("-")
    return all(p in COLOUR_WORDS or p in MODIFIERS or p in SUFFIXES for p in parts) and any(
        p in COLOUR_WORDS for p in parts)


def _material(word: str) -> str | None:
    w = word.lower()
    for cand in (w, w.split("-")[-1]):
        if cand in NOUN_MATERIAL:
            return NOUN_MATERIAL[cand]
    return None


class _Caption:
    """Token list of one caption with the scanning helpers used by the rewrite."""

    def __init__(self, text: str):
        self.toks = _TOKEN.findall(text)

    def words(self, start: int, step: int):
        """(index, lower word) of word tokens from `start` in direction `step`, stopping at punctuation."""
        i = start
        while 0 <= i < len(self.toks):
            tok = self.toks[i]
            if not _is_word(tok):
                if tok.strip() and tok.strip() != "-":
                    return
            else:
                yield i, tok.lower()
            i += step

    def phrase_end(self, i: int) -> int:
        """Index one past the colour phrase starting at word token i (colours, connectors, suffixes)."""
        end = i + 1
        j = i + 1
        while j < len(self.toks):
            tok = self.toks[j]
            if not _is_word(tok):
                if tok.strip() not in {"", ","}:
                    break
                j += 1
                continue
            w = tok.lower()
            nxt = self._next_word(j)
            if _is_colour(w) or w in SUFFIXES:
                end = j = j + 1
            elif w in MODIFIERS and nxt and (_is_colour(nxt) or nxt in SUFFIXES):
                j += 1
            elif w in CONNECTORS and nxt and (_is_colour(nxt) or (nxt in MODIFIERS and _is_colour(
                    self._next_word(self._next_index(j)) or ""))):
                j += 1
            elif w == "in" and nxt in {"color", "colour", "colors", "colours"}:
                end = j = self._next_index(j) + 1
            else:
                break
        return end

    def _next_index(self, j: int) -> int:
        k = j + 1
        while k < len(self.toks) and not _is_word(self.toks[k]):
            k += 1
        return k

    def _next_word(self, j: int) -> str | None:
        k = self._next_index(j)
        return self.toks[k].lower() if k < len(self.toks) else None


def _tone(phrase: list[str]) -> str:
    parts = {p for w in phrase for p in w.split("-")}
    if parts & DARK_TONES or (phrase[0] in {"dark", "deep"} and not parts & {"white", "light"}):
        return "dark"
    return "bright"


def _intensity(phrase: list[str], material: str | None) -> str:
    """Intensity word for a colour phrase (lower-case words) modifying a noun of `material` ('' = drop)."""
    parts = {p for w in phrase for p in w.split("-")}
    if material == "land":
        if parts & GREENS and parts - GREENS - MODIFIERS - SUFFIXES:
            return "mixed mid-gray and bright"  # "green and cream colored farmland": vegetation and bare soil
        material = "vegetation" if parts & GREENS else "soil"
    if material in ("water", "snow"):
        return "dark"
    if material == "vegetation":
        return "mid-gray"
    if material in ("built", "object", "soil"):
        return _tone(phrase)
    if parts & {"white", "whitish", "silver", "silvery"}:
        return "bright"
    if parts & {"black", "blackish"}:
        return "dark"
    if parts & {"grey", "gray", "greyish", "grayish"}:
        return "mid-gray"
    return ""


def _drop_back(out: list[str]) -> None:
    """Remove trailing whitespace and a dangling connector ("silver and [metallic]") from `out`."""
    while out and not out[-1].strip():
        out.pop()
    if out and out[-1].lower() in CONNECTORS:
        out.pop()
        while out and not out[-1].strip():
            out.pop()


def _fix_article(toks: list[str], i: int, next_word: str) -> None:
    """Make the article before token i agree with `next_word`."""
    k = i - 1
    while k >= 0 and not _is_word(toks[k]) and not toks[k].strip():
        k -= 1
    if k < 0 or toks[k].lower() not in ("a", "an") or not next_word:
        return
    want = "an" if next_word[0].lower() in "aeiou" else "a"
    toks[k] = want.capitalize() if toks[k][0].isupper() else want


def _cap_like(src: str, new: str) -> str:
    return new[:1].upper() + new[1:] if new and src[:1].isupper() else new


def rewrite_caption(text: str) -> str:
    """The `rules` rewrite of one caption (see the module docstring)."""
    cap = _Caption(text or "")
    toks = cap.toks
    out: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        low = tok.lower()
        if not _is_word(tok):
            out.append(tok)
            i += 1
            continue
        if low in COLOURFUL:
            out.append(_cap_like(tok, "high-contrast"))
            _fix_article(out, len(out) - 1, "high")
            i += 1
            continue
        if low in OVERCLAIM_ADJECTIVES:
            _drop_back(out)
            i += 1
            continue
        if low in {"color", "colour"}:
            out.append("intensity")
            i += 1
            continue
        if low in {"colors", "colours"}:
            out.append("intensities")
            i += 1
            continue
        starts = _is_colour(low) or (low in MODIFIERS and (cap._next_word(i) or "") and (
            _is_colour(cap._next_word(i)) or cap._next_word(i) in {"colored", "coloured"}))
        if "-" in low and not _is_colour(low) and any(p in COLOUR_WORDS for p in low.split("-")):
            out.append(_rewrite_hyphenated(tok))
            i += 1
            continue
        if low in {"colored", "coloured"} or not starts:
            if low in {"colored", "coloured"}:  # "colored roofs": the word alone says nothing in infrared
                if out and not out[-1].strip():
                    out.pop()
                i += 1
                continue
            out.append(tok)
            i += 1
            continue
        end = cap.phrase_end(i)
        phrase = [t.lower() for t in toks[i:end] if _is_word(t) and t.lower() not in CONNECTORS]
        replacement, consumed = _replace_phrase(cap, i, end, phrase)
        if replacement and phrase[-1] in {"color", "colour"} and " " not in replacement:
            replacement += " intensity"  # "the water with green color" -> "the water with dark intensity"
        i = end + consumed
        if replacement:
            out.append(_cap_like(tok, replacement))
            _fix_article(out, len(out) - 1, replacement)
        else:  # drop the phrase and one adjacent space
            if out and not out[-1].strip():
                out.pop()
            _fix_article(out, len(out), cap._next_word(end - 1) or "")
    result = "".join(out)
    result = re.sub(r"[ \t]{2,}", " ", result).strip()
    result = _scrub(result)
    if result and not has_keyword(result, K_IR):
        result = _frame(result)
    return result


def _replace_phrase(cap: _Caption, i: int, end: int, phrase: list[str]) -> tuple[str, int]:
    """(replacement, extra tokens consumed after `end`) for the colour phrase toks[i:end]."""
    toks = cap.toks
    # attributive: the next lexicon noun in the clause
    for k, (j, w) in enumerate(cap.words(end, 1)):
        if k >= 4 or (w in CLAUSE_BREAKS and w not in CONNECTORS):
            break
        material = _material(w)
        if material is None and w in CONNECTORS:
            continue
        if material is not None:
            word = _intensity(phrase, material)
            land_veg = material == "land" and word == "mid-gray"
            if word == "mid-gray" and (material == "vegetation" or land_veg) and k == 0 and not cap.toks[
                    end].strip() and _next_is_boundary(cap, j):
                return f"{toks[j]} with mid-gray texture", j + 1 - end
            return word, 0
    # predicative: "the roof is red", "the water with green color"
    before = [(j, w) for j, w in cap.words(i - 1, -1)]
    prev = next((w for _, w in before if w not in ADVERBS), None)
    subject = None
    for _j, w in before[:8]:
        if _material(w):
            subject = _material(w)
            break
    greens = bool({p for w in phrase for p in w.split("-")} & GREENS)
    if prev in COPULAS or prev in {"with", "in", "of"} and subject:
        word = _intensity(phrase, subject) or ("mid-gray" if greens else "")
        return (word or "visible in grayscale"), 0
    word = _intensity(phrase, None)
    if not word and greens:
        word = "vegetation"  # a bare green noun in remote sensing ("a piece of green") is vegetation
    return word, 0


FUNCTION_WORDS = CLAUSE_BREAKS | COPULAS | {"grow", "grows", "growing", "cover", "covers", "covered", "planted",
                                            "around", "surround", "surrounds", "beside", "besides", "under",
                                            "over", "inside", "outside", "behind", "for", "as", "so", "can",
                                            "could", "will", "would", "in", "on"}


def _next_is_boundary(cap: _Caption, j: int) -> bool:
    """True when the noun at j ends its noun phrase (punctuation, end, or a function word follows), so
    "trees with mid-gray texture" reads well; "green grass tour" keeps the adjective form instead."""
    k = j + 1
    if k < len(cap.toks) and cap.toks[k].strip():
        return True  # punctuation right after the noun
    nxt = cap._next_word(j)
    return nxt is None or nxt in FUNCTION_WORDS


def _rewrite_hyphenated(tok: str) -> str:
    """'red-roofed' -> 'bright-roofed', 'green-covered' -> 'covered' (colour parts by the rest's material)."""
    parts = tok.split("-")
    rest = [p for p in parts if p.lower() not in COLOUR_WORDS and p.lower() not in MODIFIERS]
    colour = [p.lower() for p in parts if p.lower() in COLOUR_WORDS or p.lower() in MODIFIERS]
    material = next((_material(p) for p in rest if _material(p)), None)
    word = _intensity(colour, material)
    new = "-".join(([word] if word else []) + rest)
    return _cap_like(tok, new)


def _scrub(text: str) -> str:
    """Last line of defence: drop any K_RGB word that survived the contextual rewrite."""
    text = keyword_pattern(tuple(K_RGB)).sub("", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _frame(text: str) -> str:
    idx = int(hashlib.sha256(text.encode()).hexdigest(), 16) % len(FRAMINGS)
    body = text[:1].lower() + text[1:] if text[1:2].islower() or len(text) == 1 else text
    return FRAMINGS[idx].format(c=body)


class RulesRewriter:
    """Deterministic rules rewriter; `rewrite_batch` needs no model or image."""

    name = "rules"

    def __init__(self, **opts):
        if opts:
            raise UserError(f"the rules rewriter takes no options (got {sorted(opts)}); remove --rewriter-opt")

    def settings(self) -> dict:
        return {"name": self.name, "version": RULES_VERSION, "keywords_version": KEYWORDS_VERSION,
                "framings": list(FRAMINGS)}

    def rewrite_batch(self, items) -> list[str]:
        return [rewrite_caption(it.source_caption) for it in items]
