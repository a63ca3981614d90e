"""RSICD (Lu et al. 2017): `dataset_rsicd.json` (Karpathy style, five sentences per image) + `RSICD_images/`.
Class = file-name prefix (`airport_348.jpg` -> airport); RSICD's numbered files without a prefix (`00623.jpg`)
have no class label (None). Split = the JSON's `split` (train/val/test)."""

from __future__ import annotations

from pathlib import Path

from monoir_rs.sources._io import first_dir
from monoir_rs.sources.karpathy import read_karpathy

NAME = "rsicd"
METADATA = "dataset_rsicd.json"
IMAGE_DIRS = ("RSICD_images", "images")


def find(source_dir: Path) -> list[Path]:
    return [p for p in (source_dir / METADATA,) if p.is_file()]


def read(source_dir: Path, pool: Path, source: str = NAME):
    return read_karpathy(source, source_dir / METADATA, first_dir(source_dir, IMAGE_DIRS), pool)
