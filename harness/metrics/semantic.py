"""Beyond the paper's lexical proxies: scene accuracy and caption reference metrics (pure functions).

Scene accuracy (`scene`, `hard_scene`): the answer's label is the *first* scene-class mention in it (both prompts
ask for the class first; `hard_scene` answers name the rejected alternative later, e.g. Table 21 "Airport; ...
more consistent than a road"). Mentions are found on normalised text (lower-case, singular forms, spaces for
underscores/hyphens) against every class of the evaluated pool plus the NWPU-RESISC45 / RSICD / RSITMD class
names and a small synonym table (NWPU "harbor" = RSICD "port"); at one position the longest match wins ("dense
residential" over "residential"); "center of" is read as a position, not the class "center". A record is correct when the mention's canonical class equals its `scene_class`'s; an answer with
no class mention is *unparseable* (a miss, also reported as a rate). Records without `scene_class` are left out.

Caption metrics (`caption` vs the record's IR-aware caption, one reference each), the COCO-caption definitions
on lower-cased word tokens (punctuation dropped; no Java PTB tokenizer):
- BLEU-4: corpus BLEU, uniform weights, clipped n-gram precision, brevity penalty on the total reference length.
- ROUGE-L: LCS F-measure with beta = 1.2 per sentence, averaged.
- CIDEr-D: TF-IDF n-gram (1..4) cosine with a Gaussian length penalty (sigma 6), clipped candidate counts,
  x10, document frequencies over the evaluated references; averaged over images.
BLEU-4 and ROUGE-L are reported 0-100 like the other metrics; CIDEr-D keeps its usual scale (0-10, x10 built in).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from harness.metrics.lexical import class_words

# Class names of the public scene datasets (NWPU-RESISC45, RSICD, RSITMD, AID), one spelling each.
KNOWN_CLASSES = (
    "airplane", "airport", "bare land", "baseball field", "basketball court", "beach", "boat", "bridge", "center",
    "chaparral", "church", "circular farmland", "cloud", "commercial", "dense residential", "desert", "farmland",
    "forest", "freeway", "golf course", "ground track field", "harbor", "industrial", "intersection", "island",
    "lake", "meadow", "medium residential", "mobile home park", "mountain", "overpass", "palace", "park",
    "parking", "playground", "pond", "port", "railway", "railway station", "rectangular farmland", "resort",
    "river", "roundabout", "runway", "school", "sea ice", "ship", "snowberg", "sparse residential", "square",
    "stadium", "storage tank", "tennis court", "terrace", "thermal power station", "viaduct", "wetland",
)
# synonym phrase -> canonical class phrase (both normalised by `_norm`)
SYNONYMS = {
    "baseball diamond": "baseball field", "train station": "railway station", "rail station": "railway station",
    "parking lot": "parking", "car park": "parking", "harbour": "port", "harbor": "port", "centre": "center",
    "oil tank": "storage tank", "storage tank": "storage tank", "barren land": "bare land", "bareland": "bare land",
    "industrial area": "industrial", "commercial area": "commercial", "factory": "industrial",
    "farm land": "farmland", "cropland": "farmland",
    "agricultural land": "farmland", "golf": "golf course", "sport field": "playground",
    "running track": "ground track field", "mobile home": "mobile home park", "highway": "freeway",
}


def _singular(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _norm(text: str) -> list[str]:
    return [_singular(w) for w in re.findall(r"[a-z0-9]+", (text or "").lower())]


def canonical_class(scene_class: str | None) -> str | None:
    """"dense_residential" / "denseresidential" / "Dense Residential" -> "dense residential";
    "storagetanks" -> "storage tank"; "parking_lot" -> "parking" (synonym table)."""
    ws = [_singular(w) for w in class_words(scene_class)] if scene_class else []
    if not ws:
        return None
    phrase = " ".join(ws)
    if phrase in SYNONYMS:
        return SYNONYMS[phrase]
    full = " ".join(_norm(str(scene_class).replace("_", " ")))  # keep generic words: "industrial area"
    return SYNONYMS.get(full, phrase)


def label_table(classes: Iterable[str | None] = ()) -> dict[tuple[str, ...], str]:
    """Phrase (tuple of normalised words) -> canonical class, for the pool's classes + known ones + synonyms."""
    table: dict[tuple[str, ...], str] = {}
    for name in (*KNOWN_CLASSES, *classes):
        canon = canonical_class(name)
        if canon:
            table[tuple(canon.split())] = canon
            table.setdefault(tuple(_norm(str(name).replace("_", " "))), canon)
    for syn, canon in SYNONYMS.items():
        table[tuple(_norm(syn))] = canon
    return table


def parse_scene(answer: str | None, table: dict[tuple[str, ...], str]) -> str | None:
    """Canonical class of the first class mention in `answer` (longest phrase at that position), or None."""
    ws = _norm(answer or "")
    longest = max((len(k) for k in table), default=0)
    for i in range(len(ws)):
        for n in range(min(longest, len(ws) - i), 0, -1):
            hit = table.get(tuple(ws[i:i + n]))
            if hit and not (hit == "center" and ws[i + n:i + n + 1] == ["of"]):  # "in the center of": a position
                return hit
    return None


def scene_hits(answers: Sequence[str | None], scene_classes: Sequence[str | None]) -> list[dict | None]:
    """Per record: {"predicted", "correct", "parsed"} or None when the record has no scene_class."""
    table = label_table(scene_classes)
    out: list[dict | None] = []
    for ans, cls in zip(answers, scene_classes, strict=False):
        truth = canonical_class(cls)
        if truth is None:
            out.append(None)
            continue
        pred = parse_scene(ans, table)
        out.append({"predicted": pred, "correct": int(pred == truth), "parsed": int(pred is not None)})
    return out


def scene_metrics(answers: Sequence[str | None], scene_classes: Sequence[str | None]) -> dict:
    hits = [h for h in scene_hits(answers, scene_classes) if h is not None]
    if not hits:
        return {"scene_accuracy": None, "scene_unparseable_rate": None, "scene_n": 0}
    n = len(hits)
    return {"scene_accuracy": 100.0 * sum(h["correct"] for h in hits) / n,
            "scene_unparseable_rate": 100.0 * sum(1 - h["parsed"] for h in hits) / n, "scene_n": n}


# ---------------------------------------------------------------- caption reference metrics
def caption_tokens(text: str | None) -> list[str]:
    """Lower-case word tokens, punctuation dropped (what all three caption metrics compare)."""
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", (text or "").lower())


def _ngrams(ws: Sequence[str], n: int) -> Counter:
    return Counter(tuple(ws[i:i + n]) for i in range(len(ws) - n + 1))


def bleu_stats(candidate: str, reference: str, max_n: int = 4) -> list[float]:
    """Per-sample sufficient statistics [cand_len, ref_len, match_1, total_1, ..., match_n, total_n]."""
    c, r = caption_tokens(candidate), caption_tokens(reference)
    stats = [float(len(c)), float(len(r))]
    for n in range(1, max_n + 1):
        cn, rn = _ngrams(c, n), _ngrams(r, n)
        stats += [float(sum(min(v, rn[g]) for g, v in cn.items())), float(max(len(c) - n + 1, 0))]
    return stats


def bleu_from_stats(total: Sequence[float], max_n: int = 4) -> float:
    """Corpus BLEU (0-100) from summed `bleu_stats`; 0 when any n-gram precision is 0 (no smoothing)."""
    c_len, r_len = total[0], total[1]
    if c_len == 0:
        return 0.0
    logs = []
    for n in range(max_n):
        match, tot = total[2 + 2 * n], total[3 + 2 * n]
        if match == 0 or tot == 0:
            return 0.0
        logs.append(math.log(match / tot))
    bp = 1.0 if c_len > r_len else math.exp(1.0 - r_len / c_len)
    return 100.0 * bp * math.exp(sum(logs) / max_n)


def corpus_bleu4(candidates: Sequence[str], references: Sequence[str]) -> float:
    total = [sum(x) for x in zip(*(bleu_stats(c, r) for c, r in zip(candidates, references, strict=False)), strict=False)]
    return bleu_from_stats(total) if total else 0.0


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(candidate: str, reference: str, beta: float = 1.2) -> float:
    """ROUGE-L F-measure (0-100), COCO's beta = 1.2."""
    c, r = caption_tokens(candidate), caption_tokens(reference)
    lcs = _lcs(c, r)
    if lcs == 0:
        return 0.0
    p, rec = lcs / len(c), lcs / len(r)
    return 100.0 * (1 + beta ** 2) * p * rec / (rec + beta ** 2 * p)


def cider_d(candidates: Sequence[str], references: Sequence[str], sigma: float = 6.0, max_n: int = 4) -> list[float]:
    """Per-sample CIDEr-D scores (one reference per sample; IDF over the given references)."""
    refs = [caption_tokens(r) for r in references]
    cands = [caption_tokens(c) for c in candidates]
    n_docs = len(refs)
    df: Counter = Counter()
    for r in refs:
        for n in range(1, max_n + 1):
            df.update(set(_ngrams(r, n)))
    log_n = math.log(float(max(n_docs, 1)))

    def vec(ws, n):
        counts = _ngrams(ws, n)
        v = {g: tf * (log_n - math.log(max(1.0, df[g]))) for g, tf in counts.items()}
        return v, math.sqrt(sum(x * x for x in v.values()))

    scores = []
    for c, r in zip(cands, refs, strict=False):
        total = 0.0
        for n in range(1, max_n + 1):
            vc, nc = vec(c, n)
            vr, nr = vec(r, n)
            dot = sum(min(x, vr[g]) * vr[g] for g, x in vc.items() if g in vr)  # CIDEr-D clipping
            if nc and nr:
                total += dot / (nc * nr) * math.exp(-((len(c) - len(r)) ** 2) / (2 * sigma ** 2))
        scores.append(10.0 * total / max_n)
    return scores


def caption_metrics(candidates: Sequence[str], references: Sequence[str]) -> dict:
    """BLEU-4 and ROUGE-L (0-100) and CIDEr-D (its usual scale) of candidates against one reference each."""
    if not candidates:
        return {"bleu4": None, "rouge_l": None, "cider": None}
    cid = cider_d(candidates, references)
    return {"bleu4": corpus_bleu4(candidates, references),
            "rouge_l": sum(rouge_l(c, r) for c, r in zip(candidates, references, strict=False)) / len(candidates),
            "cider": sum(cid) / len(cid)}
