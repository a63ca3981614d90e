"""Drawing helpers for the procedural RGB scenes: textured ground, rotated shapes, grid positions, number words."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

SIZE = 224
CELL = SIZE / 3

# Palette of RGB-era surfaces (what the captions call them).
C = {
    "grass": (96, 140, 70), "dark_green": (42, 82, 44), "light_green": (140, 170, 90),
    "brown": (140, 104, 70), "sand": (222, 200, 140), "orange_sand": (214, 150, 90),
    "blue_water": (46, 86, 140), "green_water": (58, 108, 88), "brown_water": (120, 100, 70),
    "grey": (128, 128, 130), "dark_grey": (78, 78, 84), "light_grey": (176, 176, 178),
    "white": (236, 236, 236), "red": (172, 58, 50), "orange": (204, 120, 58),
    "blue": (68, 108, 176), "yellow": (222, 196, 70), "green": (60, 150, 70),
}

# 3x3 grid of named positions, as captions say them.
POSITIONS = ("upper left", "top", "upper right", "left", "center", "right", "lower left", "bottom", "lower right")
POS_PHRASE = {"upper left": "in the upper left", "top": "at the top", "upper right": "in the upper right",
              "left": "on the left", "center": "in the center", "right": "on the right",
              "lower left": "in the lower left", "bottom": "at the bottom", "lower right": "in the lower right"}
ORIENTATIONS = ("horizontal", "vertical", "diagonal")
ORIENT_ANGLE = {"horizontal": 0.0, "vertical": 90.0, "diagonal": 45.0}
ORIENT_ADV = {"horizontal": "horizontally", "vertical": "vertically", "diagonal": "diagonally"}
NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def num(n: int) -> str:
    return NUMBERS[n] if 0 <= n < len(NUMBERS) else str(n)


def textured(rng: np.random.Generator, colour, amp: float = 14.0, grain: float = 6.0, cells: int = 14) -> Image.Image:
    """A SIZE x SIZE ground of `colour` with low-frequency mottling and pixel grain."""
    low = rng.standard_normal((cells, cells), dtype=np.float32)
    low_img = Image.fromarray(np.clip(128 + 40 * low, 0, 255).astype(np.uint8)).resize((SIZE, SIZE), Image.BILINEAR)
    mott = np.asarray(low_img, dtype=np.float32)
    mott -= 128.0
    mott *= amp / 40.0
    arr = np.asarray(colour, dtype=np.float32)[None, None, :] + mott[..., None]
    arr += grain * rng.standard_normal((SIZE, SIZE, 1), dtype=np.float32)
    np.clip(arr, 0, 255, out=arr)
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def add_grain(img: Image.Image, rng: np.random.Generator, sigma: float = 4.0) -> Image.Image:
    arr = np.asarray(img, dtype=np.float32) + sigma * rng.standard_normal((SIZE, SIZE, 1), dtype=np.float32)
    np.clip(arr, 0, 255, out=arr)
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def cell_center(rng: np.random.Generator, pos: str, jitter: float = 8.0) -> tuple[float, float]:
    i = POSITIONS.index(pos)
    col, row = i % 3, i // 3
    return ((col + 0.5) * CELL + rng.uniform(-jitter, jitter), (row + 0.5) * CELL + rng.uniform(-jitter, jitter))


def rot_rect(cx: float, cy: float, length: float, width: float, angle: float) -> list[tuple[float, float]]:
    """Corners of a length x width rectangle centred at (cx, cy), rotated by `angle` degrees."""
    a = math.radians(angle)
    ux, uy = math.cos(a), math.sin(a)
    vx, vy = -uy, ux
    hl, hw = length / 2, width / 2
    return [(cx + sx * hl * ux + sy * hw * vx, cy + sx * hl * uy + sy * hw * vy)
            for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]


def band(draw: ImageDraw.ImageDraw, angle: float, offset: float, width: float, fill, cx=SIZE / 2, cy=SIZE / 2):
    """A straight band across the whole image through (cx, cy) shifted by `offset` across its direction."""
    a = math.radians(angle)
    nx, ny = -math.sin(a), math.cos(a)
    draw.polygon(rot_rect(cx + offset * nx, cy + offset * ny, SIZE * 3, width, angle), fill=fill)


def cluster(rng: np.random.Generator, cx: float, cy: float, n: int, spacing: float) -> list[tuple[float, float]]:
    """n points in a compact near-square grid around (cx, cy), slightly jittered."""
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    pts = []
    for k in range(n):
        r, c = divmod(k, cols)
        x = cx + (c - (cols - 1) / 2) * spacing + rng.uniform(-2, 2)
        y = cy + (r - (rows - 1) / 2) * spacing + rng.uniform(-2, 2)
        pts.append((min(max(x, 6), SIZE - 6), min(max(y, 6), SIZE - 6)))
    return pts


def shade(colour, delta: int):
    return tuple(int(min(255, max(0, v + delta))) for v in colour)
