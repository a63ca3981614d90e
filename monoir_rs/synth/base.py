"""Shared helpers of the in-process synthesizers."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from monoir_rs.errors import UserError


def open_rgb(item) -> Image.Image:
    """A PIL image in mode RGB from a path or a PIL image; UserError naming the file when it cannot be read."""
    if isinstance(item, Image.Image):
        return item.convert("RGB") if item.mode != "RGB" else item
    try:
        with Image.open(item) as im:
            return im.convert("RGB")
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read image {item}: {err}; check the file or remove it from the pool") from err


class InProcessSynth:
    """Base of synthesizers that map one image at a time; `run_batch` applies `__call__` to each item."""

    name = "?"

    def settings(self) -> dict:
        return {"name": self.name}

    def __call__(self, rgb: Image.Image) -> Image.Image:  # pragma: no cover - abstract
        raise NotImplementedError

    def run_batch(self, items: list[Path | Image.Image]) -> list[Image.Image]:
        return [self(open_rgb(it)) for it in items]
