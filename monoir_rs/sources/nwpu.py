"""NWPU-Captions (Cheng et al. 2022): `dataset_nwpu.json` = {category: [{"filename", "split", "raw",
"raw_1".."raw_4", ...}]} + `NWPU_images/{category}/{filename}`. Class = the category key ("storage_tank" ->
"storage tank"); split = the entry's `split`; captions in the order raw, raw_1, ..., raw_4."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from monoir_rs.errors import UserError
from monoir_rs.sources._io import first_dir, load_json
from monoir_rs.sources.base import BadItem, RecordMaker, normalize_class, stem_id

NAME = "nwpu"
METADATA = "dataset_nwpu.json"
IMAGE_DIRS = ("NWPU_images", "images")


def find(source_dir: Path) -> list[Path]:
    return [p for p in (source_dir / METADATA,) if p.is_file()]


def _captions(entry: dict) -> list | None:
    caps = [entry.get("raw")]
    k = 1
    while f"raw_{k}" in entry:
        caps.append(entry[f"raw_{k}"])
        k += 1
    return caps if all(isinstance(c, str) for c in caps) else None


def read(source_dir: Path, pool: Path, source: str = NAME) -> Iterator:
    path = source_dir / METADATA
    data = load_json(path)
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected an object keyed by category (NWPU-Captions layout)")
    root = first_dir(source_dir, IMAGE_DIRS)
    maker = RecordMaker(source, pool)
    for category, entries in data.items():
        if not isinstance(entries, list):
            yield BadItem(source, f"{source}-{category}", "malformed_row", f"{path.name}[{category!r}] is not a list")
            continue
        for k, entry in enumerate(entries):
            where = f"{path.name}[{category!r}][{k}]"
            fn = entry.get("filename") if isinstance(entry, dict) else None
            if not isinstance(fn, str) or not fn.strip():
                yield BadItem(source, f"{source}-{category}#{k}", "malformed_row", f"{where}: no `filename` string")
                continue
            caps = _captions(entry)
            if caps is None:
                yield BadItem(source, stem_id(source, fn), "malformed_row", f"{where}: `raw`/`raw_N` must be strings")
                continue
            yield maker.make(stem_id(source, fn), entry.get("split"), root, f"{category}/{fn}", caps,
                             normalize_class(category))
