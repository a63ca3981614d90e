"""Source readers: stream a source pool as `RawRecord`s (and `BadItem`s for items that cannot be read).

A pool is a folder with one sub-folder per source, each in that source's public release layout:

    rsicd/      dataset_rsicd.json + RSICD_images/            (rsicd.py)
    rsitmd/     dataset_RSITMD.json + images/                 (rsitmd.py)
    nwpu/       dataset_nwpu.json + NWPU_images/{category}/   (nwpu.py)
    rs5m/       {subset}_{split}_intermediate.csv + {subset}/ (rs5m.py)
    skyscript/  SkyScript_{split}_*.csv + image folders       (skyscript.py)
    NAME/       *.jsonl                                       (jsonl.py: the generic reader for new sources)

Files at the pool root (pool_summary.json) and folders whose name starts with "." or "_" are ignored.
`iter_pool(pool)` checks every folder first (unknown folder or missing metadata -> UserError naming it), then
streams one source at a time; at most one metadata file is held in memory. See `base.py` for ids, captions,
class labels and the BadItem reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from monoir_rs.errors import UserError
from monoir_rs.schema import SOURCES, RawRecord, is_source_name, ordered_sources
from monoir_rs.sources import jsonl, nwpu, rs5m, rsicd, rsitmd, skyscript
from monoir_rs.sources.base import BAD_REASONS, BadItem, guess_scene_class, normalize_class


@dataclass(frozen=True)
class Reader:
    """A metadata format: `find(dir)` lists its metadata files there; `read(dir, pool, source)` streams items."""

    name: str
    metadata: str
    find: Callable[[Path], list[Path]]
    read: Callable[..., Iterator]


READERS: dict[str, Reader] = {m.NAME: Reader(m.NAME, m.METADATA, m.find, m.read)
                              for m in (rsicd, rsitmd, nwpu, rs5m, skyscript, jsonl)}


def detect_sources(pool, sources=None) -> list[tuple[str, Reader, Path]]:
    """(source, reader, folder) for every source folder of `pool` (or only `sources`), known sources first.

    A known source folder uses its native reader, or the JSONL reader when it only holds `*.jsonl`; any other
    folder must hold `*.jsonl`. Raises UserError for a missing pool, an unknown folder, a requested source that
    is absent, or a source folder without its metadata file."""
    pool = Path(pool)
    if not pool.is_dir():
        raise UserError(f"source pool {pool} is not a folder; create one with `monoir sample --out {pool}`")
    folders = {p.name: p for p in pool.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    if sources is not None:
        missing = [s for s in sources if s not in folders]
        if missing:
            raise UserError(f"source(s) {', '.join(missing)} not found in pool {pool}; it has: "
                            f"{', '.join(sorted(folders)) or 'no source folders'}")
        folders = {s: folders[s] for s in sources}
    bad = sorted(s for s in folders if not is_source_name(s))
    if bad:
        raise UserError(f"source folder name(s) {', '.join(bad)} in pool {pool}: a source name is lower-case "
                        "letters, digits and `_` (it becomes the per-source config name); rename the folder(s)")
    found = []
    for name in ordered_sources(folders):
        folder = folders[name]
        native = READERS.get(name)
        if native is not None and native.find(folder):
            found.append((name, native, folder))
        elif READERS["jsonl"].find(folder):
            found.append((name, READERS["jsonl"], folder))
        elif native is not None:
            raise UserError(f"source folder {folder} has no {native.metadata} metadata file (nor *.jsonl); "
                            f"put the {name} release's metadata there or remove the folder")
        else:
            raise UserError(f"unknown source folder {folder}: known sources are {', '.join(SOURCES)}; "
                            "for a new source, describe its images in *.jsonl files (see monoir_rs/sources/jsonl.py)")
    if not found:
        raise UserError(f"source pool {pool} has no source folders; create one with `monoir sample --out {pool}`")
    return found


def iter_pool(pool, sources=None) -> Iterator[RawRecord | BadItem]:
    """Stream every item of the pool: a RawRecord per readable image, a BadItem per unreadable one."""
    pool = Path(pool)
    plan = detect_sources(pool, sources)
    for name, reader, folder in plan:
        yield from reader.read(folder, pool, name)


__all__ = ["READERS", "Reader", "BadItem", "BAD_REASONS", "RawRecord", "iter_pool", "detect_sources",
           "guess_scene_class", "normalize_class"]
