"""SkyScript (Wang et al. 2024): CSVs `SkyScript_{train|val|test}_*.csv` with columns `filepath` (relative to
the dataset root, e.g. `images2/a198234555_CH_19.jpg`), `title` and `title_multi_objects`. `source_caption` =
`title` (what SkyCLIP trains on by default); `title_multi_objects` is kept in `other_captions`. No scene
labels: `scene_class` is `guess_scene_class(title)` (heuristic, None when no known scene phrase occurs)."""

from __future__ import annotations

import re
from pathlib import Path

from monoir_rs.sources._csvsource import read_csv_source
from monoir_rs.sources.base import guess_scene_class

NAME = "skyscript"
METADATA = "SkyScript_{split}_*.csv"
_SPLIT = re.compile(r"(?:^|_)(?P<split>train|val|validation|test)(?:_|\.csv$)", re.I)


def find(source_dir: Path) -> list[Path]:
    return sorted(source_dir.glob("*.csv"))


def read(source_dir: Path, pool: Path, source: str = NAME):
    return read_csv_source(source, pool, find(source_dir), _SPLIT, lambda m, folder: folder,
                           ("filepath", "file_path", "path"), (("title", "caption", "text"), ("title_multi_objects",)),
                           guess_scene_class)
