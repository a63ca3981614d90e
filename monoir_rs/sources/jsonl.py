"""Generic JSONL reader for new sources: every `*.jsonl` file in the source folder, one JSON object per line:

    {"id": "0001", "image": "images/0001.jpg", "caption": "a white storage tank beside a road",
     "split": "train", "scene_class": "storage tanks", "captions": ["optional", "other captions"]}

`image` is relative to the source folder; `split` is train / val / validation / test (or an alias);
`scene_class` and `captions` are optional. The record id is f"{source}-{id}" (or the image stem when `id` is
absent). Blank lines are skipped; a line that is not a JSON object with `image` and `caption` is a
`malformed_row` BadItem. Any folder of the pool holding `*.jsonl` files is read this way, also for a known
source whose native metadata file is absent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from monoir_rs.sources.base import BadItem, RecordMaker, normalize_class, stem_id

NAME = "jsonl"
METADATA = "*.jsonl"


def find(source_dir: Path) -> list[Path]:
    return sorted(source_dir.glob("*.jsonl"))


def read(source_dir: Path, pool: Path, source: str) -> Iterator:
    maker = RecordMaker(source, pool)
    for path in find(source_dir):
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                where = f"{path.name} line {line_no}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    yield BadItem(source, f"{source}-{path.name}:{line_no}", "malformed_row", f"{where}: {err.msg}")
                    continue
                image = obj.get("image") if isinstance(obj, dict) else None
                if not isinstance(image, str) or not image.strip() or not isinstance(obj.get("caption"), str):
                    yield BadItem(source, f"{source}-{path.name}:{line_no}", "malformed_row",
                                  f"{where}: needs string fields `image` and `caption`")
                    continue
                others = obj.get("captions") or []
                if not isinstance(others, list) or not all(isinstance(c, str) for c in others):
                    yield BadItem(source, f"{source}-{path.name}:{line_no}", "malformed_row",
                                  f"{where}: `captions` must be a list of strings")
                    continue
                rid = f"{source}-{obj['id']}" if obj.get("id") not in (None, "") else stem_id(source, image)
                yield maker.make(rid, obj.get("split"), source_dir, image, [obj["caption"], *others],
                                 normalize_class(obj.get("scene_class")))
