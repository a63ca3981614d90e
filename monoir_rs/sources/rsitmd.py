"""RSITMD (Yuan et al. 2022): `dataset_RSITMD.json` (Karpathy style, five sentences per image) + `images/*.tif`.
Class = file-name prefix (`boat_0.tif` -> boat); split = the JSON's `split` (the release has train/test)."""

from __future__ import annotations

from pathlib import Path

from monoir_rs.sources._io import first_dir
from monoir_rs.sources.karpathy import read_karpathy

NAME = "rsitmd"
METADATA = "dataset_RSITMD.json"
IMAGE_DIRS = ("images",)


def find(source_dir: Path) -> list[Path]:
    return [p for p in (source_dir / METADATA,) if p.is_file()]


def read(source_dir: Path, pool: Path, source: str = NAME):
    return read_karpathy(source, source_dir / METADATA, first_dir(source_dir, IMAGE_DIRS), pool)
