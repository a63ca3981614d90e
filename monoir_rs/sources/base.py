"""Shared pieces of the source readers: `BadItem`, safe path resolution, record making, class labels.

Reader contract: `read(source_dir, pool, source) -> Iterator[RawRecord | BadItem]`. A reader never raises for a
bad item: it yields a `BadItem` naming the item and the reason (`malformed_row`, `unknown_split`,
`missing_image`, `path_escape`, `duplicate_id`, `malformed_file`) and goes on. Missing or unparseable metadata
files raise `UserError` (the user must fix the folder first).

Conventions (documented choices):
- `id` = f"{source}-{file stem}"; the releases' file names are unique within a source, and a repeated id is
  reported as `duplicate_id` rather than silently overwritten.
- `split`: the source's own, normalised; an item with no split (None or blank) passes with split None and the
  build's gate assigns one from a hash of its id (`gate.hash_split`); an unrecognised split is `unknown_split`.
- `source_caption` = the first caption in the release's order; the others go to `RawRecord.other_captions`.
  An empty caption is passed through (the build's quality gate rejects it with reason "empty caption").
- `scene_class`: the source's own label, normalised to lower-case words ("baseball_diamond" -> "baseball diamond",
  RSICD's run-together "denseresidential" -> "dense residential"). Sources without labels (RS5M, SkyScript)
  use `guess_scene_class` (a documented heuristic: the first known class name found in the caption) or None.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from monoir_rs.keywords import keyword_pattern
from monoir_rs.schema import RawRecord, normalize_split

BAD_REASONS = ("malformed_row", "unknown_split", "missing_image", "path_escape", "duplicate_id", "malformed_file")


@dataclass(frozen=True)
class BadItem:
    """An item a reader could not turn into a RawRecord; counted and reported by the build, never dropped."""

    source: str
    id: str
    reason: str
    detail: str

    def to_dict(self) -> dict:
        return {"source": self.source, "id": self.id, "reason": self.reason, "detail": self.detail}


_DRIVE = re.compile(r"^[A-Za-z]:")


class PathGuard:
    """Joins metadata paths to a folder of the pool and refuses escapes (absolute, `..`, symlinks leading out).

    Fast path for millions of rows: folder realpaths are cached, so a row costs one lstat of its file."""

    def __init__(self, pool):
        self.pool = os.fspath(pool)
        self.root = os.path.realpath(self.pool)
        self._dirs: dict[str, str] = {}

    def _inside(self, real: str) -> bool:
        return real == self.root or real.startswith(self.root.rstrip(os.sep) + os.sep)

    def join(self, base, rel) -> tuple[str | None, str]:
        """(path, "") with `path` a string under `base`, or (None, why)."""
        if not rel or not isinstance(rel, str):
            return None, "empty image path"
        norm = rel.replace("\\", "/")
        if norm.startswith("/") or _DRIVE.match(norm) or os.path.isabs(rel):
            return None, f"absolute image path {rel!r}"
        if ".." in norm.split("/"):
            return None, f"image path {rel!r} contains '..'"
        path = os.path.join(os.fspath(base), norm)
        parent = os.path.dirname(path)
        real_parent = self._dirs.get(parent)
        if real_parent is None:
            if len(self._dirs) > 100_000:
                self._dirs.clear()
            real_parent = self._dirs[parent] = os.path.realpath(parent)
        if not self._inside(real_parent) or (os.path.islink(path) and not self._inside(os.path.realpath(path))):
            return None, f"image path {rel!r} resolves outside the pool"
        return path, ""

    def relative(self, path: str) -> str:
        """`path` relative to the pool, with `/` separators."""
        prefix = self.pool.rstrip(os.sep) + os.sep
        rel = path[len(prefix):] if path.startswith(prefix) else os.path.relpath(path, self.pool)
        return rel.replace(os.sep, "/")


def resolve_image(pool: Path, base: Path, rel: str) -> tuple[Path | None, str]:
    """Join `rel` (a path from the metadata) to `base`; (file, "") or (None, why) when it escapes the pool."""
    path, why = PathGuard(pool).join(base, rel)
    return (Path(path) if path is not None else None), why


def stem_id(source: str, rel: str) -> str:
    name = str(rel).replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return f"{source}-{stem}"


class RecordMaker:
    """Turns one metadata item into a RawRecord or a BadItem (split, path, image-file and duplicate checks)."""

    def __init__(self, source: str, pool: Path):
        self.source = source
        self.guard = PathGuard(pool)
        self.seen: set[str] = set()

    def make(self, rid: str, split_raw, base: Path, rel, captions: list, scene_class: str | None):
        if rid in self.seen:
            return BadItem(self.source, rid, "duplicate_id", f"id {rid} already read from this source")
        self.seen.add(rid)
        split = None if split_raw is None or not str(split_raw).strip() else normalize_split(split_raw)
        if split is None and split_raw is not None and str(split_raw).strip():
            return BadItem(self.source, rid, "unknown_split",
                           f"split {split_raw!r} is not train/val/validation/test (or a known alias)")
        path, why = self.guard.join(base, rel)
        if path is None:
            return BadItem(self.source, rid, "path_escape", why)
        if not os.path.isfile(path):
            return BadItem(self.source, rid, "missing_image", f"image file {path} does not exist")
        caps = ["" if c is None else str(c).strip() for c in captions]
        return RawRecord(id=rid, source=self.source, split=split, image_path=self.guard.relative(path),
                         image_file=Path(path), source_caption=caps[0] if caps else "", scene_class=scene_class,
                         other_captions=tuple(caps[1:]))


# Run-together RSICD / RSITMD labels and a few NWPU ones, as readable words.
_LABEL_WORDS = {
    "baseballfield": "baseball field", "denseresidential": "dense residential", "mediumresidential":
    "medium residential", "sparseresidential": "sparse residential", "railwaystation": "railway station",
    "storagetanks": "storage tanks", "bareland": "bare land", "tenniscourt": "tennis court",
    "parkinglot": "parking lot", "groundtrackfield": "ground track field", "basketballcourt": "basketball court",
    "golfcourse": "golf course", "circularfarmland": "circular farmland", "industrialarea": "industrial area",
    "rectangularfarmland": "rectangular farmland", "thermalpowerstation": "thermal power station",
    "chaparral": "chaparral", "seaice": "sea ice", "snowberg": "snowberg",
}


def normalize_class(label) -> str | None:
    """A source class label as lower-case words: underscores/hyphens -> spaces, run-together names split."""
    if label is None:
        return None
    s = re.sub(r"[_\-]+", " ", str(label).strip().lower())
    s = " ".join(s.split())
    return _LABEL_WORDS.get(s.replace(" ", ""), s) or None


def rsicd_class(filename: str) -> str | None:
    """RSICD/RSITMD class = the file-name prefix before the last `_` (`airport_348.jpg` -> `airport`)."""
    stem = Path(filename).stem
    return normalize_class(stem.rsplit("_", 1)[0]) if "_" in stem else None


# Scene vocabulary for `guess_scene_class` (NWPU-RESISC45 + RSICD/RSITMD class names, with common variants).
_CLASS_PHRASES = {
    "airport": ["airport", "airports", "runway", "runways"], "baseball field": ["baseball field", "baseball fields",
    "baseball diamond", "baseball diamonds"], "beach": ["beach", "beaches"], "bridge": ["bridge", "bridges"],
    "circular farmland": ["circular farmland", "circular farmlands", "circular field", "circular fields",
    "center-pivot"], "dense residential": ["dense residential"], "desert": ["desert", "deserts"],
    "forest": ["forest", "forests"], "harbor": ["harbor", "harbors", "harbour", "port"],
    "industrial area": ["industrial area", "industrial areas", "factory", "factories"],
    "lake": ["lake", "lakes", "pond"], "meadow": ["meadow", "meadows", "grassland"],
    "parking lot": ["parking lot", "parking lots"], "railway station": ["railway station", "train station"],
    "river": ["river", "rivers"], "storage tanks": ["storage tank", "storage tanks", "oil tank", "oil tanks"],
    "tennis court": ["tennis court", "tennis courts"], "playground": ["playground", "running track",
    "ground track field"], "bare land": ["bare land"], "sparse residential": ["sparse residential"],
    "medium residential": ["medium residential"], "stadium": ["stadium"], "church": ["church"],
    "golf course": ["golf course"], "mountain": ["mountain", "mountains"], "island": ["island"],
    "farmland": ["farmland"], "residential": ["residential area", "houses"],
}
_PHRASE_TO_CLASS = {p: c for c, ps in _CLASS_PHRASES.items() for p in ps}
_NORM_PHRASE = {re.sub(r"[\s\-]+", " ", p): c for p, c in _PHRASE_TO_CLASS.items()}


def guess_scene_class(caption: str | None) -> str | None:
    """Heuristic class for unlabelled sources: the class of the earliest known scene phrase in the caption.

    Longer phrases win at the same position ("circular farmland" over "farmland"); None when nothing matches."""
    if not caption:
        return None
    m = keyword_pattern(tuple(_PHRASE_TO_CLASS)).search(caption)
    return None if m is None else _NORM_PHRASE.get(re.sub(r"[\s\-]+", " ", m.group(0).lower()))
