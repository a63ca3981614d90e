"""The scene classes of the sample pool: each samples a layout, renders it as an RGB aerial tile, and describes it.

A scene's `facts` (counts, positions, orientations, sizes, colours) drive both the drawing and the five
reference sentences, so captions say what the image shows ("three white storage tanks in the upper left
beside a grey road"). Sentences are lower-case without final punctuation; `captions.py` styles them per source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from monoir_rs.sample.draw import (
    ORIENT_ADV,
    ORIENT_ANGLE,
    ORIENTATIONS,
    POS_PHRASE,
    POSITIONS,
    SIZE,
    C,
    add_grain,
    band,
    cell_center,
    cluster,
    num,
    rot_rect,
    shade,
    textured,
)


@dataclass(frozen=True)
class SceneClass:
    """One class: canonical name, the label each captioned source uses for it, and its make/describe functions."""

    name: str
    nwpu: str  # NWPU-Captions category key (snake_case)
    rsicd: str  # RSICD / RSITMD file-name prefix (run-together, as in the releases)
    make: Callable[[np.random.Generator], tuple[Image.Image, dict]]
    describe: Callable[[dict], list[str]]


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _ground(rng):
    return _pick(rng, (("green grass", C["grass"]), ("brown bare land", C["brown"])))


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{num(n)} {word if n == 1 else (plural or word + 's')}"


def _is(n: int) -> str:
    return "is" if n == 1 else "are"


# --------------------------------------------------------------------------------------------------- airport
def _airport(rng):
    gname, gcol = _ground(rng)
    orient = _pick(rng, ORIENTATIONS)
    n = int(rng.integers(1, 7))
    img = textured(rng, gcol)
    d = ImageDraw.Draw(img)
    ang = ORIENT_ANGLE[orient]
    band(d, ang, 0, 26, C["dark_grey"])
    band(d, ang, 0, 2, C["white"])
    band(d, ang, 34, 10, C["grey"])
    a = np.deg2rad(ang)
    nx, ny = -np.sin(a), np.cos(a)
    side = _pick(rng, (-1, 1))
    cx, cy = SIZE / 2 + side * 62 * nx, SIZE / 2 + side * 62 * ny
    d.polygon(rot_rect(cx, cy, 150, 34, ang), fill=C["light_grey"])
    for k in range(n):
        t = (k - (n - 1) / 2) * 22
        px, py = cx + t * np.cos(a), cy + t * np.sin(a)
        d.polygon(rot_rect(px, py, 16, 4, ang + 90), fill=C["white"])
        d.polygon(rot_rect(px, py, 4, 14, ang + 90), fill=C["white"])
    return img, {"ground": gname, "orient": orient, "n": n}


def _airport_txt(f):
    n, o, g = f["n"], ORIENT_ADV[f["orient"]], f["ground"]
    return [f"{_plural(n, 'white plane')} {_is(n)} parked beside a grey runway running {o}",
            f"an airport with a long dark runway running {o} and {g} on both sides",
            f"{num(n)} white aircraft {'sits' if n == 1 else 'sit'} on the light grey apron next to the runway",
            f"the runway of the airport runs {o} through {g}",
            f"there {_is(n)} {_plural(n, 'plane')} near the runway and the ground is covered with {g}"]


# --------------------------------------------------------------------------------------------------- baseball field
def _baseball(rng):
    n = int(rng.integers(1, 4))
    pos = _pick(rng, POSITIONS)
    img = textured(rng, C["dark_green"], amp=18)
    d = ImageDraw.Draw(img)
    cx, cy = cell_center(rng, pos)
    for px, py in cluster(rng, cx, cy, n, 58):
        d.pieslice([px - 34, py - 34, px + 34, py + 34], 200, 340, fill=C["grass"])
        d.polygon([(px, py - 4), (px + 14, py - 18), (px, py - 32), (px - 14, py - 18)], fill=C["orange_sand"])
        d.ellipse([px - 3, py - 21, px + 3, py - 15], fill=C["brown"])
    return img, {"n": n, "pos": pos}


def _baseball_txt(f):
    n, p = f["n"], POS_PHRASE[f["pos"]]
    return [f"{_plural(n, 'baseball field')} with brown sand infields {p}",
            f"{num(n)} fan-shaped green baseball {'field is' if n == 1 else 'fields are'} located {p} among dark green trees",
            f"there {_is(n)} {_plural(n, 'baseball diamond')} {p} surrounded by many green trees",
            f"the baseball {'field' if n == 1 else 'fields'} {p} {'has' if n == 1 else 'have'} green grass and an orange infield",
            f"{_plural(n, 'baseball field')} {p} near a dense green forest"]


# --------------------------------------------------------------------------------------------------- beach
def _beach(rng):
    side = _pick(rng, ("left", "right", "top", "bottom"))
    wide = bool(rng.integers(2))
    img = textured(rng, C["sand"], amp=10)
    d = ImageDraw.Draw(img)
    w = 120 if not wide else 80
    box = {"left": [0, 0, w, SIZE], "right": [SIZE - w, 0, SIZE, SIZE],
           "top": [0, 0, SIZE, w], "bottom": [0, SIZE - w, SIZE, SIZE]}[side]
    d.rectangle(box, fill=C["blue_water"])
    edge = {"left": [w - 6, 0, w + 2, SIZE], "right": [SIZE - w - 2, 0, SIZE - w + 6, SIZE],
            "top": [0, w - 6, SIZE, w + 2], "bottom": [0, SIZE - w - 2, SIZE, SIZE - w + 6]}[side]
    d.rectangle(edge, fill=C["white"])
    return img, {"side": side, "width": "wide" if wide else "narrow"}


def _beach_txt(f):
    s, w = f["side"], f["width"]
    on = POS_PHRASE[s]
    return [f"a {w} yellow beach runs along the blue sea {on}",
            f"the blue ocean {on} meets a strip of golden sand with white waves",
            f"white waves wash onto a {w} yellow beach beside the blue water",
            f"a {w} sandy beach lies next to the sea, which is {on}",
            f"the sea is blue and the sand of the {w} beach is yellow"]


# --------------------------------------------------------------------------------------------------- bridge
def _bridge(rng):
    orient = _pick(rng, ("horizontal", "vertical"))
    wname, wcol = _pick(rng, (("green", C["green_water"]), ("blue", C["blue_water"])))
    n = int(rng.integers(1, 4))
    img = textured(rng, C["grass"])
    d = ImageDraw.Draw(img)
    ang = ORIENT_ANGLE[orient]
    band(d, ang, 0, 70, wcol)
    offs = [(k - (n - 1) / 2) * 60 for k in range(n)]
    for o in offs:
        band(d, ang + 90, o, 9, C["light_grey"])
    return img, {"orient": orient, "water": wname, "n": n}


def _bridge_txt(f):
    n, o, w = f["n"], ORIENT_ADV[f["orient"]], f["water"]
    return [f"{_plural(n, 'grey bridge')} {'crosses' if n == 1 else 'cross'} a {w} river that runs {o}",
            f"a {w} river flows {o} and {_plural(n, 'bridge')} {'spans' if n == 1 else 'span'} it",
            f"{num(n)} {'bridge is' if n == 1 else 'bridges are'} built over the {w} water between green banks",
            f"the river running {o} is crossed by {_plural(n, 'bridge')}",
            f"green trees grow on both banks of the {w} river with {_plural(n, 'bridge')}"]


# --------------------------------------------------------------------------------------------------- circular farmland
def _circular(rng):
    n = int(rng.integers(1, 7))
    img = textured(rng, C["sand"], amp=12)
    d = ImageDraw.Draw(img)
    cols = []
    r = 48 if n <= 2 else (36 if n <= 4 else 30)
    for px, py in cluster(rng, SIZE / 2, SIZE / 2, n, 2 * r + 8):
        cname, ccol = _pick(rng, (("green", C["green"]), ("brown", C["brown"]), ("yellow", C["yellow"])))
        cols.append(cname)
        d.ellipse([px - r, py - r, px + r, py + r], fill=ccol)
        d.line([(px, py), (px + r - 2, py)], fill=C["light_grey"], width=2)
    main = max(sorted(set(cols)), key=cols.count)
    return img, {"n": n, "colours": sorted(set(cols)), "main": main}


def _circular_txt(f):
    n, cs, m = f["n"], f["colours"], f["main"]
    mix = " and ".join(cs)
    return [f"{_plural(n, 'circular field')} in {mix} {'lies' if n == 1 else 'lie'} on yellow dry land",
            f"there {_is(n)} {_plural(n, 'round farmland')} and most of {'it is' if n == 1 else 'them are'} {m}",
            f"{num(n)} circular {'farmland is' if n == 1 else 'farmlands are'} arranged in a grid, colored {mix}",
            f"the circular farmland is made of {num(n)} {m} {'circle' if n == 1 else 'circles'} with irrigation lines",
            f"{num(n)} {mix} center-pivot {'field' if n == 1 else 'fields'} on yellow ground"]


# --------------------------------------------------------------------------------------------------- dense residential
def _dense(rng):
    rname, rcol = _pick(rng, (("red", C["red"]), ("orange", C["orange"]), ("blue", C["blue"])))
    orient = _pick(rng, ("horizontal", "vertical"))
    img = textured(rng, C["light_grey"], amp=8)
    d = ImageDraw.Draw(img)
    step = 14
    for y in range(4, SIZE, step):
        for x in range(4, SIZE, step):
            if rng.random() < 0.88:
                d.rectangle([x, y, x + 10, y + 9], fill=shade(rcol, int(rng.integers(-25, 25))))
    for o in (-56, 56):
        band(d, ORIENT_ANGLE[orient], o, 10, C["dark_grey"])
    return img, {"roof": rname, "orient": orient}


def _dense_txt(f):
    r, o = f["roof"], ORIENT_ADV[f["orient"]]
    return [f"many houses with {r} roofs are packed closely along grey roads running {o}",
            f"a dense residential area full of {r}-roofed buildings",
            f"two grey roads run {o} through the crowded {r} houses",
            f"lots of {r} buildings stand close together in this dense residential area",
            f"the densely packed {r} roofs leave almost no green space"]


# --------------------------------------------------------------------------------------------------- desert
def _desert(rng):
    cname, ccol = _pick(rng, (("yellow", C["sand"]), ("orange", C["orange_sand"])))
    orient = _pick(rng, ORIENTATIONS)
    img = textured(rng, ccol, amp=10)
    d = ImageDraw.Draw(img)
    for o in range(-140, 141, 22):
        band(d, ORIENT_ANGLE[orient], o + rng.uniform(-4, 4), 5, shade(ccol, -30))
    return img, {"colour": cname, "orient": orient}


def _desert_txt(f):
    c, o = f["colour"], ORIENT_ADV[f["orient"]]
    return [f"a {c} desert with dune ridges running {o}",
            f"the {c} sand dunes are lined up {o} and nothing grows here",
            f"an endless {c} desert with wavy ripples",
            f"ridges of {c} sand cross the desert {o}",
            f"this is a piece of {c} desert without any plants"]


# --------------------------------------------------------------------------------------------------- forest
def _forest(rng):
    road = bool(rng.integers(2))
    orient = _pick(rng, ORIENTATIONS)
    img = textured(rng, C["dark_green"], amp=22, grain=9, cells=40)
    if road:
        band(ImageDraw.Draw(img), ORIENT_ANGLE[orient], rng.uniform(-30, 30), 7, C["brown"])
    return img, {"road": road, "orient": orient}


def _forest_txt(f):
    o = ORIENT_ADV[f["orient"]]
    if f["road"]:
        return [f"a dense dark green forest crossed by a brown path running {o}",
                f"a brown dirt road runs {o} through the thick green trees",
                "many dark green trees grow densely in the forest",
                f"a narrow brown track cuts {o} across the green woods",
                "the forest is dark green with a small road"]
    return ["a dense dark green forest with no roads",
            "many dark green trees grow closely together",
            "the whole image is covered by lush green trees",
            "a thick green forest without any buildings",
            "dark green woods fill the scene"]


# --------------------------------------------------------------------------------------------------- harbor
def _harbor(rng):
    n = int(rng.integers(1, 9))
    piers = int(rng.integers(1, 4))
    pos = _pick(rng, ("top", "bottom"))
    img = textured(rng, C["blue_water"], amp=8)
    d = ImageDraw.Draw(img)
    land = [0, 0, SIZE, 60] if pos == "bottom" else [0, SIZE - 60, SIZE, SIZE]
    d.rectangle(land, fill=C["light_grey"])
    ys = (60, 190) if pos == "bottom" else (34, SIZE - 60)
    xs = [int((k + 1) * SIZE / (piers + 1)) for k in range(piers)]
    for x in xs:
        d.rectangle([x - 5, min(ys), x + 5, max(ys)], fill=C["grey"])
    for k in range(n):
        x = xs[k % piers] + (14 if k // piers % 2 == 0 else -14)
        y = min(ys) + 16 + (k // (2 * piers)) * 26 + rng.uniform(-3, 3)
        d.polygon(rot_rect(x, y, 6, 20, 0), fill=C["white"])
    return img, {"n": n, "piers": piers, "pos": pos}


def _harbor_txt(f):
    n, k, p = f["n"], f["piers"], POS_PHRASE[f["pos"]]
    return [f"{_plural(n, 'white boat')} {_is(n)} moored at {_plural(k, 'grey pier')} in blue water {p}",
            f"a harbor with {_plural(k, 'pier')} and {_plural(n, 'boat')} on the blue sea",
            f"{num(n)} white {'ship is' if n == 1 else 'ships are'} docked in the port {p}",
            f"the blue water of the harbor {p} holds {_plural(n, 'boat')} beside the piers",
            f"{_plural(k, 'pier')} {'extends' if k == 1 else 'extend'} into the blue water with white boats"]


# --------------------------------------------------------------------------------------------------- industrial area
def _industrial(rng):
    n = int(rng.integers(2, 7))
    roofs = []
    img = textured(rng, C["grey"], amp=10)
    d = ImageDraw.Draw(img)
    for px, py in cluster(rng, SIZE / 2, SIZE / 2, n, 72):
        rname, rcol = _pick(rng, (("white", C["white"]), ("blue", C["blue"]), ("grey", C["light_grey"])))
        roofs.append(rname)
        d.rectangle([px - 30, py - 22, px + 30, py + 22], fill=rcol)
        d.line([(px - 30, py), (px + 30, py)], fill=shade(rcol, -40), width=1)
    return img, {"n": n, "roofs": sorted(set(roofs))}


def _industrial_txt(f):
    n, r = f["n"], " and ".join(f["roofs"])
    return [f"{num(n)} large factories with {r} roofs in an industrial area",
            f"an industrial area with {num(n)} {r} buildings and grey roads",
            f"several big {r} warehouses stand on grey concrete",
            f"{num(n)} rectangular plants with {r} roofs are arranged neatly",
            f"the industrial area has {num(n)} factory buildings and few green trees"]


# --------------------------------------------------------------------------------------------------- lake
def _lake(rng):
    pos = _pick(rng, POSITIONS)
    big = bool(rng.integers(2))
    wname, wcol = _pick(rng, (("blue", C["blue_water"]), ("green", C["green_water"])))
    img = textured(rng, C["grass"], amp=16)
    d = ImageDraw.Draw(img)
    cx, cy = cell_center(rng, pos)
    rx, ry = (70, 55) if big else (34, 26)
    d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=wcol)
    d.ellipse([cx - rx * 0.6, cy - ry * 1.1, cx + rx * 0.4, cy + ry * 0.2], fill=wcol)
    return img, {"pos": pos, "size": "large" if big else "small", "water": wname}


def _lake_txt(f):
    p, s, w = POS_PHRASE[f["pos"]], f["size"], f["water"]
    return [f"a {s} {w} lake {p} surrounded by green trees",
            f"there is a {s} lake with {w} water {p}",
            f"green grass and trees surround the {s} {w} pond {p}",
            f"the {w} lake {p} is {s} and calm",
            f"a {s} body of {w} water lies {p} among green fields"]


# --------------------------------------------------------------------------------------------------- meadow
def _meadow(rng):
    cname, ccol = _pick(rng, (("green", C["grass"]), ("yellow-green", C["light_green"])))
    n = int(rng.integers(0, 5))
    pos = _pick(rng, POSITIONS)
    img = textured(rng, ccol, amp=10, grain=4)
    d = ImageDraw.Draw(img)
    cx, cy = cell_center(rng, pos)
    for px, py in cluster(rng, cx, cy, n, 20):
        d.ellipse([px - 8, py - 8, px + 8, py + 8], fill=C["dark_green"])
    return img, {"colour": cname, "n": n, "pos": pos}


def _meadow_txt(f):
    c, n, p = f["colour"], f["n"], POS_PHRASE[f["pos"]]
    trees = f"{_plural(n, 'clump')} of dark green trees {p}" if n else "no trees at all"
    return [f"a {c} meadow with {trees}",
            f"the {c} grassland is flat and smooth",
            f"a large piece of {c} meadow" + (f" with {_plural(n, 'tree')} {p}" if n else ""),
            f"{c} grass covers the whole area" + (f" and {_plural(n, 'tree')} {_is(n)} {p}" if n else ""),
            f"this is a {c} meadow with {trees}"]


# --------------------------------------------------------------------------------------------------- parking lot
def _parking(rng):
    rows = int(rng.integers(2, 6))
    orient = _pick(rng, ("horizontal", "vertical"))
    full = bool(rng.integers(2))
    img = textured(rng, C["grey"], amp=6)
    d = ImageDraw.Draw(img)
    palette = [C["red"], C["white"], C["blue"], C["yellow"], C["dark_grey"]]
    gap = SIZE / (rows + 1)
    for r in range(rows):
        for k in range(18):
            if rng.random() < (0.85 if full else 0.4):
                t = 10 + k * 11.5
                u = gap * (r + 1)
                x, y = (t, u) if orient == "horizontal" else (u, t)
                w, h = (4, 8) if orient == "horizontal" else (8, 4)
                d.rectangle([x - w, y - h, x + w, y + h], fill=palette[int(rng.integers(len(palette)))])
    return img, {"rows": rows, "orient": orient, "full": full}


def _parking_txt(f):
    r, o = f["rows"], ORIENT_ADV[f["orient"]]
    fill = "full of" if f["full"] else "with a few"
    return [f"a grey parking lot with {_plural(r, 'row')} of colorful cars parked {o}",
            f"the parking lot is {fill} red, white and blue cars",
            f"{_plural(r, 'row')} of cars line up {o} in the parking lot",
            f"many colorful cars are parked in {num(r)} rows on the grey ground" if f["full"]
            else f"only a few colorful cars are parked in {num(r)} rows on the grey ground",
            f"a parking lot {fill} cars arranged {o}"]


# --------------------------------------------------------------------------------------------------- railway station
def _railway(rng):
    tracks = int(rng.integers(2, 7))
    orient = _pick(rng, ("horizontal", "vertical"))
    rname, rcol = _pick(rng, (("blue", C["blue"]), ("red", C["red"]), ("white", C["white"])))
    img = textured(rng, C["brown"], amp=10)
    d = ImageDraw.Draw(img)
    ang = ORIENT_ANGLE[orient]
    for k in range(tracks):
        band(d, ang, -50 + k * 14, 4, C["dark_grey"])
    band(d, ang, 60, 30, rcol)
    return img, {"tracks": tracks, "orient": orient, "roof": rname}


def _railway_txt(f):
    t, o, r = f["tracks"], ORIENT_ADV[f["orient"]], f["roof"]
    return [f"a railway station with {num(t)} parallel tracks running {o} beside a long {r} roof",
            f"{_plural(t, 'railway track')} run {o} past the station building with a {r} roof",
            f"the {r} platform roof stretches {o} along {num(t)} rails",
            f"{num(t)} railway lines on brown ground lead into the station",
            f"a long {r} building stands next to {num(t)} tracks in the railway station"]


# --------------------------------------------------------------------------------------------------- river
def _river(rng):
    orient = _pick(rng, ("horizontal", "vertical"))
    wname, wcol = _pick(rng, (("green", C["green_water"]), ("brown", C["brown_water"]), ("blue", C["blue_water"])))
    amp = float(rng.uniform(10, 40))
    img = textured(rng, C["grass"], amp=16)
    d = ImageDraw.Draw(img)
    phase = float(rng.uniform(0, 6.28))
    pts = []
    for s in range(0, SIZE + 8, 8):
        off = SIZE / 2 + amp * np.sin(s / 35.0 + phase)
        pts.append((s, off) if orient == "horizontal" else (off, s))
    d.line(pts, fill=wcol, width=34, joint="curve")
    return img, {"orient": orient, "water": wname, "winding": amp > 25}


def _river_txt(f):
    w = f["water"]
    shape = "winding" if f["winding"] else "fairly straight"
    path = "from left to right" if f["orient"] == "horizontal" else "from the top to the bottom"
    return [f"a {shape} {w} river flows {path} through green fields",
            f"the {w} river runs {path} with green banks on both sides",
            f"a {shape} river of {w} water crosses the image {path}",
            f"green trees and grass line the {shape} {w} river",
            f"a {w} river winds {path} between green farmland" if f["winding"]
            else f"a {w} river passes {path} between green farmland"]


# --------------------------------------------------------------------------------------------------- storage tanks
def _tanks(rng):
    n = int(rng.integers(1, 9))
    pos = _pick(rng, POSITIONS)
    gname, gcol = _ground(rng)
    img = textured(rng, gcol, amp=12)
    d = ImageDraw.Draw(img)
    cx, cy = cell_center(rng, pos)
    r = 13 if n <= 4 else 10
    for px, py in cluster(rng, cx, cy, n, 2 * r + 6):
        d.ellipse([px - r, py - r, px + r, py + r], fill=C["white"], outline=C["light_grey"])
    road_vertical = pos in ("top", "center", "bottom") or bool(rng.integers(2))
    off = (cx - SIZE / 2 + (40 if cx < SIZE / 2 else -40)) if road_vertical else (cy - SIZE / 2 + (40 if cy < SIZE / 2 else -40))
    band(d, 90.0 if road_vertical else 0.0, -off if road_vertical else off, 9, C["grey"])
    return img, {"n": n, "pos": pos, "ground": gname, "road": "vertical" if road_vertical else "horizontal"}


def _tanks_txt(f):
    n, p, g = f["n"], POS_PHRASE[f["pos"]], f["ground"]
    return [f"{_plural(n, 'white storage tank')} {p} beside a grey road",
            f"there {_is(n)} {_plural(n, 'round white tank')} {p} on {g}",
            f"{num(n)} storage {'tank stands' if n == 1 else 'tanks stand'} {p} next to a road running {ORIENT_ADV[f['road']]}",
            f"the white oil {'tank is' if n == 1 else 'tanks are'} located {p} and the ground is {g}",
            f"{_plural(n, 'cylindrical storage tank')} near a grey road and {g}"]


# --------------------------------------------------------------------------------------------------- tennis court
def _tennis(rng):
    n = int(rng.integers(1, 5))
    pos = _pick(rng, POSITIONS)
    cname, ccol = _pick(rng, (("green", C["green"]), ("blue", C["blue"]), ("red", C["red"])))
    img = textured(rng, C["dark_green"], amp=18)
    d = ImageDraw.Draw(img)
    cx, cy = cell_center(rng, pos)
    for px, py in cluster(rng, cx, cy, n, 30):
        d.rectangle([px - 12, py - 20, px + 12, py + 20], fill=ccol, outline=C["white"])
        d.line([(px - 12, py), (px + 12, py)], fill=C["white"], width=1)
    return img, {"n": n, "pos": pos, "colour": cname}


def _tennis_txt(f):
    n, p, c = f["n"], POS_PHRASE[f["pos"]], f["colour"]
    return [f"{_plural(n, c + ' tennis court')} with white lines {p} surrounded by trees",
            f"there {_is(n)} {_plural(n, 'tennis court')} painted {c} {p}",
            f"{num(n)} {c} {'court is' if n == 1 else 'courts are'} located {p} among dark green trees",
            f"the {c} tennis {'court' if n == 1 else 'courts'} {p} {'has' if n == 1 else 'have'} white lines",
            f"{_plural(n, 'tennis court')} {p} next to a green forest"]


# --------------------------------------------------------------------------------------------------- playground
def _playground(rng):
    orient = _pick(rng, ("horizontal", "vertical"))
    pos = _pick(rng, ("left", "center", "right", "top", "bottom"))
    img = textured(rng, C["light_grey"], amp=10)
    d = ImageDraw.Draw(img)
    cx, cy = cell_center(rng, pos, jitter=4)
    cx = min(max(cx, 70), SIZE - 70)
    cy = min(max(cy, 70), SIZE - 70)
    w, h = (130, 76) if orient == "horizontal" else (76, 130)
    d.rounded_rectangle([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], radius=36, fill=C["red"])
    d.rounded_rectangle([cx - w / 2 + 10, cy - h / 2 + 10, cx + w / 2 - 10, cy + h / 2 - 10], radius=26, fill=C["green"])
    return img, {"orient": orient, "pos": pos}


def _playground_txt(f):
    p = POS_PHRASE[f["pos"]]
    o = ORIENT_ADV[f["orient"]]
    return [f"a red running track around a green football field {p}",
            f"the playground {p} has a red track and a green lawn",
            f"an oval red track lying {o} encloses a green field",
            f"a playground with a red runway is {p} among grey buildings",
            f"the green football field inside the red track is placed {o}"]


# --------------------------------------------------------------------------------------------------- bare land
def _bareland(rng):
    cname, ccol = _pick(rng, (("brown", C["brown"]), ("yellow", C["sand"])))
    orient = _pick(rng, ORIENTATIONS)
    road = bool(rng.integers(2))
    img = textured(rng, ccol, amp=16, cells=24)
    if road:
        band(ImageDraw.Draw(img), ORIENT_ANGLE[orient], rng.uniform(-40, 40), 8, C["grey"])
    return img, {"colour": cname, "orient": orient, "road": road}


def _bareland_txt(f):
    c, o = f["colour"], ORIENT_ADV[f["orient"]]
    if f["road"]:
        return [f"a piece of {c} bare land with a grey road running {o}",
                f"a grey road crosses the {c} bare land {o}",
                f"the {c} soil is empty except for a road running {o}",
                f"a large area of {c} bare land and one road",
                f"nothing grows on this {c} land crossed {o} by a road"]
    return [f"a piece of {c} bare land with nothing on it",
            f"the {c} soil is empty and flat",
            f"a large area of {c} bare land",
            f"nothing grows on this {c} land",
            f"{c} bare ground fills the image"]


# --------------------------------------------------------------------------------------------------- sparse residential
def _sparse(rng):
    n = int(rng.integers(2, 9))
    rname, rcol = _pick(rng, (("red", C["red"]), ("white", C["white"]), ("orange", C["orange"])))
    img = textured(rng, C["grass"], amp=16)
    d = ImageDraw.Draw(img)
    for _ in range(n):
        x, y = rng.uniform(20, SIZE - 20, 2)
        d.rectangle([x - 9, y - 7, x + 9, y + 7], fill=rcol)
    for _ in range(10):
        x, y = rng.uniform(0, SIZE, 2)
        d.ellipse([x - 7, y - 7, x + 7, y + 7], fill=C["dark_green"])
    return img, {"n": n, "roof": rname}


def _sparse_txt(f):
    n, r = f["n"], f["roof"]
    return [f"{_plural(n, 'house')} with {r} roofs are scattered among green trees",
            f"a sparse residential area with {num(n)} {r}-roofed houses",
            f"only {_plural(n, 'building')} with {r} roofs stand on the green lawn",
            f"{num(n)} {r} houses are sparsely distributed with many green trees",
            f"few houses, {num(n)} in all, with {r} roofs in a green area"]


SCENE_CLASSES: tuple[SceneClass, ...] = (
    SceneClass("airport", "airport", "airport", _airport, _airport_txt),
    SceneClass("baseball field", "baseball_diamond", "baseballfield", _baseball, _baseball_txt),
    SceneClass("beach", "beach", "beach", _beach, _beach_txt),
    SceneClass("bridge", "bridge", "bridge", _bridge, _bridge_txt),
    SceneClass("circular farmland", "circular_farmland", "farmland", _circular, _circular_txt),
    SceneClass("dense residential", "dense_residential", "denseresidential", _dense, _dense_txt),
    SceneClass("desert", "desert", "desert", _desert, _desert_txt),
    SceneClass("forest", "forest", "forest", _forest, _forest_txt),
    SceneClass("harbor", "harbor", "port", _harbor, _harbor_txt),
    SceneClass("industrial area", "industrial_area", "industrial", _industrial, _industrial_txt),
    SceneClass("lake", "lake", "pond", _lake, _lake_txt),
    SceneClass("meadow", "meadow", "meadow", _meadow, _meadow_txt),
    SceneClass("parking lot", "parking_lot", "parking", _parking, _parking_txt),
    SceneClass("railway station", "railway_station", "railwaystation", _railway, _railway_txt),
    SceneClass("river", "river", "river", _river, _river_txt),
    SceneClass("storage tanks", "storage_tank", "storagetanks", _tanks, _tanks_txt),
    SceneClass("tennis court", "tennis_court", "tenniscourt", _tennis, _tennis_txt),
    SceneClass("playground", "ground_track_field", "playground", _playground, _playground_txt),
    SceneClass("bare land", "bare_land", "bareland", _bareland, _bareland_txt),
    SceneClass("sparse residential", "sparse_residential", "sparseresidential", _sparse, _sparse_txt),
)
CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in SCENE_CLASSES)


def render(cls: SceneClass, rng: np.random.Generator) -> tuple[Image.Image, dict, list[str]]:
    """Sample one layout of `cls`: (RGB image, facts, five reference sentences)."""
    img, facts = cls.make(rng)
    return add_grain(img, rng, 3.0), facts, cls.describe(facts)
