"""Karpathy-style caption JSON (`{"images": [{"filename", "split", "sentences": [{"raw", ...}], ...}]}`),
the layout of RSICD (`dataset_rsicd.json`) and RSITMD (`dataset_RSITMD.json`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from monoir_rs.errors import UserError
from monoir_rs.sources._io import load_json
from monoir_rs.sources.base import BadItem, RecordMaker, rsicd_class, stem_id


def read_karpathy(source: str, json_path: Path, image_dir: Path, pool: Path) -> Iterator:
    data = load_json(json_path)
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise UserError(f"{json_path}: expected a Karpathy-style object with an `images` list; "
                        f"is this the {source} caption file?")
    maker = RecordMaker(source, pool)
    for k, entry in enumerate(images):
        where = f"{json_path.name} images[{k}]"
        fn = entry.get("filename") if isinstance(entry, dict) else None
        if not isinstance(fn, str) or not fn.strip():
            yield BadItem(source, f"{source}-#{k}", "malformed_row", f"{where}: no `filename` string")
            continue
        sents = entry.get("sentences")
        raws = [s.get("raw") for s in sents if isinstance(s, dict)] if isinstance(sents, list) else []
        if not raws or not all(isinstance(r, str) for r in raws) or len(raws) != len(sents):
            yield BadItem(source, stem_id(source, fn), "malformed_row", f"{where}: `sentences` must be a non-empty "
                          "list of objects with a `raw` string")
            continue
        yield maker.make(stem_id(source, fn), entry.get("split"), image_dir, fn, raws, rsicd_class(fn))
