"""Instruction data G_xi with the filter h_xi (paper §4.2, eq. 5 and 11, Algorithm 1 step 8, §C.1, Table 17/21).

`build_instruct(data)` turns **train** records of a built dataset into single-turn conversations, one per
(record, prompt type), for the seven prompt types of Table 17 (prompts read from the harness task registry, the
one source of truth). Answers are derived from the record's IR-aware caption and `scene_class`, in the shapes of
Table 21 ("Industrial area; circular tank structure visible in grayscale.", "Airport; ... while runways are
absent."). h_xi keeps a conversation only when its answer is non-empty and has no K_RGB colour term and no K_over
overclaim term. Messages are plain strings ({role, content}); the image goes first in the user turn when a
trainer renders them (the paper prefixes every instruction with the image token).

Mixture (documented choice): the paper's final set is 32,000 conversations (30K text-rewritten QA + 2K
vision-audited QA). Without a text/vision model in the loop every answer here is derived by the same rules, so
the mixture is drawn *balanced over the seven prompt types* (round robin over per-type shuffles) up to `size`,
capped at what the data allows; the summary reports the per-type counts.

Split hygiene (§3.3): only `all/train` is read; train images whose id or image-content hash (sha256 of the
decoded pixels) also occurs in validation or test are dropped, and `check_no_leaks` asserts the result.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from pathlib import Path

from monoir_rs.errors import UserError
from monoir_rs.keywords import K_IR, K_OVER, K_RGB, find_keywords, has_keyword
from monoir_rs.schema import instruct_features

TASKS: tuple[str, ...] = ("caption", "scene", "object", "ir_cue", "evidence", "hard_scene", "hard_negative")
NEEDS_SCENE = frozenset({"scene", "hard_scene", "hard_negative"})
PAPER_SIZE = 32_000

# Object and land-cover nouns an answer to the object prompt may list (in caption order).
OBJECT_TERMS = (
    "airport", "runway", "runways", "taxiway", "apron", "plane", "planes", "aircraft", "terminal", "building",
    "buildings", "house", "houses", "roof", "roofs", "road", "roads", "street", "streets", "highway", "lane",
    "lanes", "intersection", "overpass", "viaduct", "bridge", "bridges", "railway", "rail tracks", "tracks",
    "station", "train", "vehicle", "vehicles", "car", "cars", "truck", "trucks", "parking lot", "ship", "ships",
    "boat", "boats", "dock", "docks", "pier", "piers", "harbor", "port", "river", "lake", "pond", "water",
    "shoreline", "coast", "beach", "sea", "island", "tree", "trees", "forest", "vegetation", "grass", "meadow",
    "field", "fields", "farmland", "crops", "soil", "bare land", "sand", "desert", "mountain", "hills", "court",
    "courts", "tennis court", "basketball court", "baseball field", "ground track field", "track", "stadium",
    "playground", "pool", "swimming pool", "golf course", "church", "school", "tank", "tanks", "storage tanks",
    "container", "containers", "warehouse", "warehouses", "factory", "chimney", "tower", "towers", "wetland",
    "park", "square", "pavement", "parking spaces", "industrial area", "residential area")
_CUE_PHRASE = {"infrared": "infrared intensity pattern", "thermal": "thermal intensity pattern",
               "grayscale": "grayscale tones", "intensity": "intensity differences", "contrast": "contrast",
               "texture": "texture", "bright": "bright regions", "brightness": "brightness differences",
               "dark": "dark regions", "outline": "outlines", "outlines": "outlines"}
_FRAME = re.compile(r"^(?:an?|the|this)?\s*(?:aerial\s+|overhead\s+|satellite\s+)?(?:infrared|thermal|grayscale|ir)"
                    r"(?:\s+remote[- ]sensing)?\s+(?:image|view|scene|photo|picture)\s+(?:of|shows|showing|with)\s+",
                    re.IGNORECASE)


# ------------------------------------------------------------------------------------------------ G_xi

def scene_name(scene_class: str | None) -> str | None:
    """Readable class name: "storage_tanks" -> "storage tanks"."""
    if not scene_class or not scene_class.strip():
        return None
    return re.sub(r"[_\-]+", " ", scene_class.strip()).lower()


def _body(caption: str) -> str:
    """The caption as a lower-case clause without its framing ("an infrared image of") or final period."""
    text = caption.strip().rstrip(" .")
    head, colon, rest = text.partition(": ")
    if colon and rest and len(head.split()) <= 7:  # "Satellite image: ...", "a satellite image of lake: ..."
        text = rest
    text = _FRAME.sub("", text, count=1)
    return text[:1].lower() + text[1:]


def _cap(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _join(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def _a(noun: str) -> str:
    """Noun phrase with its indefinite article: "an airport", "a beach"."""
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def _cues(caption: str) -> list[str]:
    seen: list[str] = []
    for kw in find_keywords(caption, K_IR):
        phrase = _CUE_PHRASE.get(kw, kw)
        if phrase not in seen:
            seen.append(phrase)
    return seen or ["grayscale intensity layout"]


def _objects(caption: str) -> list[str]:
    hits = find_keywords(caption, OBJECT_TERMS)
    out: list[str] = []
    for h in hits:
        if h not in out:
            out.append(h)
    return out


def make_answer(task: str, caption: str, scene_class: str | None, confuser: str | None) -> str | None:
    """G_xi: the target answer for one prompt type, or None when the record cannot support it."""
    caption = (caption or "").strip()
    if not caption:
        return None
    scene, other = scene_name(scene_class), scene_name(confuser)
    body, cues = _body(caption), _cues(caption)
    if task == "caption":
        return _cap(caption)
    if task == "object":
        objs = _objects(caption)
        return _cap(_join(objs) + (" are visible" if len(objs) > 1 else " is visible")) if objs else None
    if task == "ir_cue":
        subject = f"{_a(scene)} interpretation" if scene else "this interpretation"
        return _cap(f"The {_join(cues)} support {subject}: {body}")
    if task == "evidence":
        target = f"{_a(scene)} scene" if scene else "the scene interpretation"
        return _cap(f"{_cap(body)} The {_join(cues)} indicate {target}")
    if not scene:
        return None
    if task == "scene":
        return _cap(f"{scene}; {body}")
    if not other or other == scene:
        return None
    if task == "hard_scene":
        return _cap(f"{scene}; {body}, which is more consistent with {_a(scene)} than with {_a(other)}")
    if task == "hard_negative":
        return _cap(f"{other}; the image shows {body}, so {_a(scene)} is more likely and {_a(other)} is less likely")
    raise ValueError(f"unknown prompt type {task!r}")


def passes_filter(answer: str | None) -> bool:
    """h_xi: non-empty, no visible-colour term (K_RGB), no unsupported physical claim (K_over)."""
    return bool(answer and answer.strip()) and not has_keyword(answer, K_RGB) and not has_keyword(answer, K_OVER)


def task_prompts() -> dict[str, str]:
    """Table 17 prompts, from the harness task registry."""
    from harness.registry import get_task

    return {name: get_task(name).prompt for name in TASKS}


# ------------------------------------------------------------------------------------------------ split hygiene

def image_hash(image: dict) -> str:
    """Content hash of a stored image (datasets `Image(decode=False)` value): sha256 of the decoded pixels
    (mode, size, raw bytes), so a copy under another file name or re-encoded losslessly still matches (a lossy
    re-encode is a near duplicate, which this exact check does not claim to catch)."""
    import io

    from PIL import Image

    data = image.get("bytes")
    if data is None and image.get("path"):
        data = Path(image["path"]).read_bytes()
    with Image.open(io.BytesIO(data or b"")) as im:
        h = hashlib.sha256(f"{im.mode}:{im.size}:".encode())
        h.update(im.tobytes())
    return h.hexdigest()


def _raw_images(ds):
    import datasets

    return ds.cast_column("image", datasets.Image(decode=False))


def held_out(data) -> tuple[set[str], set[str]]:
    """Ids and image hashes of every validation and test record of `all`."""
    from monoir_rs.train.common import load_split

    ids, hashes = set(), set()
    for split in ("validation", "test"):
        ds = _raw_images(load_split(data, "all", split)).select_columns(["id", "image"])
        for row in ds:
            ids.add(row["id"])
            hashes.add(image_hash(row["image"]))
    return ids, hashes


def check_no_leaks(instruct_ds, data) -> None:
    """Assert that no conversation uses a validation/test record, by record id or by image content."""
    ids, hashes = held_out(data)
    raw = _raw_images(instruct_ds).select_columns(["id", "record_id", "image"])
    bad = [row["id"] for row in raw if row["record_id"] in ids or image_hash(row["image"]) in hashes]
    if bad:
        raise UserError(f"vlm_instruct has {len(bad)} conversations on held-out images (e.g. {bad[:3]}); "
                        "rebuild it with `monoir instruct --data DATA`")


# ------------------------------------------------------------------------------------------------ build

def make_conversations(data, size: int = PAPER_SIZE, seed: int = 0, progress: bool = True):
    """G_xi + h_xi over all/train of DATA: (datasets.Dataset of conversations, summary dict)."""
    import datasets
    from tqdm.auto import tqdm

    from monoir_rs.train.common import load_split

    if size <= 0:
        raise UserError(f"--size {size}: the mixture size must be a positive number of conversations")
    prompts = task_prompts()
    train = _raw_images(load_split(data, "all", "train"))
    held_ids, held_hashes = held_out(data)
    classes = sorted({c for c in train["scene_class"] if c})
    rng = random.Random(seed)

    candidates: dict[str, list[dict]] = {t: [] for t in TASKS}
    leaks, filtered = [], Counter()
    cols = ["id", "image", "image_path", "source", "scene_class", "caption", "split"]
    for row in tqdm(train.select_columns(cols), desc="instruction data", disable=not progress, leave=False):
        if row["split"] != "train":
            raise UserError(f"record {row['id']} in all/train has split {row['split']!r}; rebuild the dataset")
        if row["id"] in held_ids or image_hash(row["image"]) in held_hashes:
            leaks.append(row["id"])
            continue
        others = [c for c in classes if c != row["scene_class"]]
        confuser = random.Random(f"{seed}:{row['id']}").choice(others) if others else None
        for task in TASKS:
            answer = make_answer(task, row["caption"], row["scene_class"], confuser)
            if answer is None:
                filtered[f"{task}:unsupported"] += 1
                continue
            if not passes_filter(answer):
                filtered[f"{task}:h_xi"] += 1
                continue
            candidates[task].append({
                "id": f"{row['id']}-{task}", "record_id": row["id"], "image": row["image"], "image_path": row["image_path"],
                "source": row["source"], "scene_class": row["scene_class"], "task": task,
                "messages": [{"role": "user", "content": prompts[task]}, {"role": "assistant", "content": answer}]})

    for task in TASKS:
        rng.shuffle(candidates[task])
    available = sum(len(v) for v in candidates.values())
    target = min(size, available)
    chosen, cursor = [], dict.fromkeys(TASKS, 0)
    while len(chosen) < target:
        for task in TASKS:
            if cursor[task] < len(candidates[task]) and len(chosen) < target:
                chosen.append(candidates[task][cursor[task]])
                cursor[task] += 1
    if not chosen:
        raise UserError(f"dataset {data}: no train record yields an instruction conversation "
                        "(are the train captions empty?)")
    chosen.sort(key=lambda r: r["id"])
    ds = datasets.Dataset.from_list(chosen, features=instruct_features())
    summary = {"config": "vlm_instruct", "split": "train", "conversations": len(ds), "requested": size,
               "available": available, "per_task": dict(Counter(r["task"] for r in chosen)),
               "train_records": len(train), "dropped_held_out_overlap": len(leaks),
               "dropped_examples": leaks[:20], "not_generated": dict(filtered), "seed": seed}
    return ds, summary


def build_instruct(data, size: int = PAPER_SIZE, seed: int = 0, progress: bool = True) -> dict:
    """Write the `vlm_instruct` config of DATA (then re-read it and assert no held-out leak); return a summary."""
    import datasets

    from monoir_rs.hub import write_config
    from monoir_rs.train.common import load_split

    ds, summary = make_conversations(data, size=size, seed=seed, progress=progress)
    write_config(Path(data), "vlm_instruct", datasets.DatasetDict({"train": ds}))
    check_no_leaks(load_split(data, "vlm_instruct", "train"), data)
    return summary
