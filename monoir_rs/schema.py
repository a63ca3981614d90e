"""The MonoIR-RS record: names, configs and the `datasets.Features` of one record (paper eq. 4, SPEC §3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The release's five sources (paper Table 3). A pool may add its own: any folder whose name passes
# `is_source_name` becomes a source, with its own per-source config (see `monoir_rs/sources/jsonl.py`).
SOURCES: tuple[str, ...] = ("rs5m", "skyscript", "nwpu", "rsicd", "rsitmd")
SPLITS: tuple[str, ...] = ("train", "validation", "test")
# Configs that are not sources. `all` is the default; per-source configs carry train/validation/test.
SPECIAL_CONFIGS: tuple[str, ...] = ("all", "clean_test", "vlm_instruct", "vlm_eval")
# Configs of the release's Hub layout.
CONFIGS: tuple[str, ...] = ("all", *SOURCES, "clean_test", "vlm_instruct", "vlm_eval")
_SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")


def is_source_name(name) -> bool:
    """A usable source (and config) name: lower-case letters, digits and `_`, not a special config's name."""
    return isinstance(name, str) and bool(_SOURCE_NAME.fullmatch(name)) and name not in SPECIAL_CONFIGS


def ordered_sources(names) -> list[str]:
    """The release's sources first (paper order), then any others alphabetically."""
    names = set(names)
    return [s for s in SOURCES if s in names] + sorted(names - set(SOURCES))

# Source split names seen in the public releases, mapped to ours.
SPLIT_ALIASES = {"train": "train", "training": "train", "val": "validation", "valid": "validation",
                 "validation": "validation", "dev": "validation", "test": "test", "testing": "test"}


def normalize_split(split: str | None) -> str | None:
    """Map a source's split name to `train` / `validation` / `test`, or None when it is not one of them."""
    if split is None:
        return None
    return SPLIT_ALIASES.get(str(split).strip().lower())


def is_rgb_path(path: str) -> bool:
    """Paper eq. 8: a path whose lowercase form contains "rgb" is flagged and left out of `clean_test`."""
    return "rgb" in path.lower()


@dataclass(frozen=True)
class RawRecord:
    """One item of a source pool, as a source reader yields it (before synthesis and rewriting).

    `image_path` is relative to the pool root (what the release keeps and eq. 8 audits);
    `image_file` is where the RGB image can be read now.
    """

    id: str
    source: str
    split: str | None
    image_path: str
    image_file: Path
    source_caption: str | None
    scene_class: str | None = None
    # The source's other captions of the same image (RSICD/RSITMD/NWPU keep five; source_caption is the first).
    other_captions: tuple[str, ...] = ()


def features():
    """`datasets.Features` of a model-facing record (SPEC §3)."""
    import datasets

    return datasets.Features({
        "id": datasets.Value("string"),
        "image": datasets.Image(),
        "image_path": datasets.Value("string"),
        "caption": datasets.Value("string"),
        "source": datasets.Value("string"),
        "split": datasets.Value("string"),
        "scene_class": datasets.Value("string"),
        "source_caption": datasets.Value("string"),
    })


def instruct_features():
    """`datasets.Features` of a `vlm_instruct` conversation: `id` is `{record_id}-{task}`, `record_id` the train
    record whose image it uses, `messages` a list of {role, content}."""
    import datasets

    return datasets.Features({
        "id": datasets.Value("string"), "record_id": datasets.Value("string"), "image": datasets.Image(),
        "image_path": datasets.Value("string"), "source": datasets.Value("string"),
        "scene_class": datasets.Value("string"), "task": datasets.Value("string"),
        "messages": datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")}),
    })


class RecordError(ValueError):
    """A record that breaks the schema; the message names the record and the field."""


def validate_record(rec: dict) -> dict:
    """Check one model-facing record against SPEC §3 and return it; raise RecordError naming the problem."""
    rid = rec.get("id")
    if not isinstance(rid, str) or not rid:
        raise RecordError(f"record {rec!r:.80}: `id` must be a non-empty string")
    if not is_source_name(rec.get("source")):
        raise RecordError(f"record {rid}: source {rec.get('source')!r} is not a source name (one of {SOURCES}, "
                          "or lower-case letters, digits and `_` for a new source)")
    if rec.get("split") not in SPLITS:
        raise RecordError(f"record {rid}: split {rec.get('split')!r} is not one of {SPLITS}")
    for key in ("image_path", "caption"):
        if not isinstance(rec.get(key), str):
            raise RecordError(f"record {rid}: `{key}` must be a string")
    for key in ("scene_class", "source_caption"):
        if rec.get(key) is not None and not isinstance(rec[key], str):
            raise RecordError(f"record {rid}: `{key}` must be a string or null")
    return rec
