"""File helpers shared by the readers: JSON loading with clear errors and a streaming CSV row reader."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from monoir_rs.errors import UserError


def load_json(path: Path):
    """Load one metadata JSON file; a parse error is a UserError naming the file and position."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: not valid JSON ({err.msg} at line {err.lineno} column {err.colno}); "
                        "re-download or repair this metadata file") from None
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 text ({err}); re-download this metadata file") from None


def first_dir(root: Path, names: tuple[str, ...]) -> Path:
    """The first of `root/name` that is a folder, else `root` itself (images beside the metadata)."""
    for name in names:
        if (root / name).is_dir():
            return root / name
    return root


def csv_rows(path: Path) -> Iterator[tuple[int, list[str] | None, str]]:
    """Stream (line number, row, error) from a CSV file with a header row; the header is yielded as line 1.

    A row the csv module cannot parse yields (line, None, message) and reading stops there (the rest of
    a broken file cannot be trusted); callers turn it into a `malformed_file` BadItem."""
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield reader.line_num, None, f"{path.name} line {reader.line_num}: {err}"
                return
            yield reader.line_num, row, ""


def column(header: list[str], names: tuple[str, ...], default: int | None) -> int | None:
    """Index of the first header among `names` (case-insensitive), else `default`."""
    low = [h.strip().lower() for h in header]
    for n in names:
        if n in low:
            return low.index(n)
    return default
