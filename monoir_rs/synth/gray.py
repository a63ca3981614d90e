"""`gray`: the paper's direct RGB-to-gray baseline (Table 2), ITU-R BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B.

PIL's `convert("L")` implements exactly this weighting (integer arithmetic, rounded)."""

from __future__ import annotations

from PIL import Image

from monoir_rs.synth.base import InProcessSynth, open_rgb


class GraySynth(InProcessSynth):
    name = "gray"

    def settings(self) -> dict:
        return {"name": self.name, "formula": "ITU-R BT.601 luma: 0.299 R + 0.587 G + 0.114 B"}

    def __call__(self, rgb: Image.Image) -> Image.Image:
        return open_rgb(rgb).convert("L")
