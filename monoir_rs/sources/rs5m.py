"""RS5M (Zhang et al. 2023): metadata CSVs `{subset}_{split}_intermediate.csv` (subset pub11 or rs3; the public
release has train and val) with columns `img_name, caption`, images in `{subset}/` (the webdataset tars
unpacked; `img_name` is relative to it). A FusionRS-style held-out part is read from `{subset}_test_*.csv`.
RS5M has no scene labels: `scene_class` is `guess_scene_class(caption)` (a heuristic; None when no known
scene phrase occurs)."""

from __future__ import annotations

import re
from pathlib import Path

from monoir_rs.sources._csvsource import read_csv_source
from monoir_rs.sources.base import guess_scene_class

NAME = "rs5m"
METADATA = "{subset}_{split}_intermediate.csv"
_SPLIT = re.compile(r"^(?P<subset>.+?)_(?P<split>train|val|validation|test)(?:_intermediate)?\.csv$", re.I)


def find(source_dir: Path) -> list[Path]:
    return sorted(source_dir.glob("*.csv"))


def _base(m, folder: Path) -> Path:
    return folder / m.group("subset") if m and (folder / m.group("subset")).is_dir() else folder


def read(source_dir: Path, pool: Path, source: str = NAME):
    return read_csv_source(source, pool, find(source_dir), _SPLIT, _base, ("img_name", "name", "filename", "image"),
                           (("caption", "text", "title"),), guess_scene_class)
