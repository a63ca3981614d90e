"""Reading CSV-described sources (RS5M, SkyScript): one row per image, split taken from the file name."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from monoir_rs.sources._io import column, csv_rows
from monoir_rs.sources.base import BadItem, RecordMaker, stem_id


def read_csv_source(source: str, pool: Path, files: list[Path], split_re: re.Pattern,
                    image_base: Callable[[re.Match | None, Path], Path], path_cols: tuple[str, ...],
                    caption_cols: tuple[tuple[str, ...], ...], classify: Callable[[str], str | None]) -> Iterator:
    """Rows of every file; `split_re` must capture `split` from the file name (else rows get unknown_split).

    `caption_cols`: header names for the first caption (then the optional others), first match wins;
    without a matching header the first caption is the column after the path column."""
    maker = RecordMaker(source, pool)
    for path in files:
        m = split_re.search(path.name)
        split_raw = m.group("split") if m else f"<none in file name {path.name}>"  # -> unknown_split
        base = image_base(m, path.parent)
        ipath = icap = None
        others: list[int] = []
        for line, row, err in csv_rows(path):
            if row is None:
                yield BadItem(source, f"{source}-{path.name}:{line}", "malformed_file", err)
                break
            if line == 1 and ipath is None:
                ipath = column(row, path_cols, 0)
                icap = column(row, caption_cols[0], ipath + 1)
                others = [i for names in caption_cols[1:] if (i := column(row, names, None)) is not None]
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line, not an item
            need = max([ipath, icap, *others])
            rel = row[ipath].strip() if len(row) > ipath else ""
            if len(row) <= need or not rel:
                yield BadItem(source, stem_id(source, rel) if rel else f"{source}-{path.name}:{line}",
                              "malformed_row", f"{path.name} line {line}: expected {need + 1} columns, got {len(row)}")
                continue
            caps = [row[icap], *(row[i] for i in others)]
            yield maker.make(stem_id(source, rel), split_raw, base, rel, caps, classify(caps[0]))
