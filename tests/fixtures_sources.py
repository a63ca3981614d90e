"""A small hand-written pool in the exact public formats of the five sources, with planted defects.

Each source holds good items plus malformed rows, an unknown split, a missing image and an escaping path;
`EXPECTED` lists what a correct reader must yield for it."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image


def _img(path: Path, colour=(90, 140, 60)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16), colour).save(path)


def _karpathy_entry(filename, split, raws, imgid):
    return {"filename": filename, "imgid": imgid, "split": split, "sentids": list(range(len(raws))),
            "sentences": [{"tokens": r.strip(" .").split(), "raw": r, "imgid": imgid, "sentid": k}
                          for k, r in enumerate(raws)]}


# source -> {"ok": {id: (split, scene_class, first caption, n other captions)}, "bad": {id: reason}}
EXPECTED: dict[str, dict] = {
    "rsicd": {
        "ok": {"rsicd-airport_348": ("test", "airport", "the airport is very large .", 4),
               "rsicd-denseresidential_12": ("train", "dense residential", "many red houses are built densely .", 1),
               "rsicd-storagetanks_3": ("validation", "storage tanks", "", 0)},
        "bad": {"rsicd-bridge_7": "missing_image", "rsicd-#4": "malformed_row", "rsicd-beach_9": "malformed_row",
                "rsicd-port_1": "unknown_split", "rsicd-passwd": "path_escape"},
    },
    "rsitmd": {
        "ok": {"rsitmd-boat_0": ("test", "boat", "Two large ships were moored on both sides of the gray port.", 4),
               "rsitmd-baseballfield_21": ("train", "baseball field", "A green baseball field is next to a road.", 0)},
        "bad": {"rsitmd-playground_5": "path_escape", "rsitmd-playground_6": "path_escape",
                "rsitmd-boat_0": "duplicate_id"},
    },
    "nwpu": {
        "ok": {"nwpu-airport_001": ("train", "airport", "There are two white planes on the airport.", 4),
               "nwpu-storage_tank_010": ("validation", "storage tank", "Some white storage tanks are near a road.", 4)},
        "bad": {"nwpu-storage_tank_011": "malformed_row", "nwpu-airport_002": "unknown_split",
                "nwpu-x": "malformed_row"},
    },
    "rs5m": {
        "ok": {"rs5m-laion2b_0000001": ("train", "airport", "Aerial view of an airport with white planes", 0),
               "rs5m-rgb_tile_9": ("validation", None, "green fields seen from above", 0)},
        "bad": {"rs5m-coyo_0000002": "malformed_row", "rs5m-coyo_0000003": "missing_image",
                "rs5m-other_0001": "unknown_split"},
    },
    "skyscript": {
        "ok": {"skyscript-a198234555_CH_19": ("train", "tennis court",
                                              "a satellite image of a tennis court; surface: hard", 1),
               "skyscript-a551_NAIP_20": ("test", None, "a satellite image of a building; roof colour: red", 1)},
        "bad": {"skyscript-a999_CH_19": "path_escape", "skyscript-SkyScript_test_30K.csv:4": "malformed_row"},
    },
}


def write_fixture_pool(root: Path) -> Path:
    """Write the fixture pool under `root` (which must be empty) and return it."""
    root = Path(root)
    # RSICD: Karpathy JSON, RSICD_images/.
    rs = root / "rsicd"
    for name in ("airport_348.jpg", "denseresidential_12.jpg", "storagetanks_3.jpg", "port_1.jpg"):
        _img(rs / "RSICD_images" / name)
    images = [
        _karpathy_entry("airport_348.jpg", "test", ["the airport is very large ."] + ["next to the airport is green grass ."] * 4, 0),
        _karpathy_entry("denseresidential_12.jpg", "train", ["many red houses are built densely .", "some green trees ."], 1),
        _karpathy_entry("bridge_7.jpg", "val", ["a bridge over a green river ."], 2),  # image file absent
        {"filename": "storagetanks_3.jpg", "imgid": 3, "split": "val", "sentids": [9],
         "sentences": [{"raw": "", "tokens": [], "imgid": 3, "sentid": 9}]},  # empty caption: passed through
        {"imgid": 4, "split": "train", "sentences": [{"raw": "no filename here ."}]},  # malformed: no filename
        {"filename": "beach_9.jpg", "imgid": 5, "split": "train", "sentences": "yellow beach"},  # malformed sentences
        _karpathy_entry("port_1.jpg", "holdout", ["boats in a blue port ."], 6),  # unknown split
        _karpathy_entry("../../etc/passwd", "train", ["escape ."], 7),
    ]
    (rs / "dataset_rsicd.json").write_text(json.dumps({"images": images, "dataset": "rsicd"}))
    # RSITMD: Karpathy JSON, images/*.tif.
    rt = root / "rsitmd"
    for name in ("boat_0.tif", "baseballfield_21.tif"):
        _img(rt / "images" / name)
    outside = root.parent / f"{root.name}_outside.jpg"
    _img(outside)
    (rt / "images" / "playground_6.tif").symlink_to(outside)  # a symlink leading out of the pool
    images = [
        _karpathy_entry("boat_0.tif", "test", ["Two large ships were moored on both sides of the gray port."] +
                        ["There were two large ships on both sides of the gray port, full of red boats."] * 4, 0),
        _karpathy_entry("baseballfield_21.tif", "train", ["A green baseball field is next to a road."], 1),
        _karpathy_entry("/abs/playground_5.tif", "train", ["A red track."], 2),
        _karpathy_entry("playground_6.tif", "train", ["A red track around a green field."], 3),
        _karpathy_entry("boat_0.tif", "train", ["The same file listed twice."], 4),
    ]
    (rt / "dataset_RSITMD.json").write_text(json.dumps({"images": images, "dataset": "rsitmd"}))
    # NWPU-Captions: grouped by category, raw..raw_4, NWPU_images/{category}/.
    nw = root / "nwpu"
    _img(nw / "NWPU_images" / "airport" / "airport_001.jpg")
    _img(nw / "NWPU_images" / "airport" / "airport_002.jpg")
    _img(nw / "NWPU_images" / "storage_tank" / "storage_tank_010.jpg")

    def entry(fn, split, first, imgid):
        e = {"filename": fn, "imgid": imgid, "split": split, "raw": first}
        e.update({f"raw_{k}": f"{first[:-1]} number {k}." for k in range(1, 5)})
        e["sentids"] = list(range(5 * imgid, 5 * imgid + 5))
        return e

    nwpu = {
        "airport": [entry("airport_001.jpg", "train", "There are two white planes on the airport.", 0),
                    entry("airport_002.jpg", "unknown", "A grey runway.", 1)],
        "storage_tank": [entry("storage_tank_010.jpg", "val", "Some white storage tanks are near a road.", 2),
                         {"filename": "storage_tank_011.jpg", "split": "train", "raw": None}],
        "x": "not a list",
    }
    (nw / "dataset_nwpu.json").write_text(json.dumps(nwpu))
    # RS5M: {subset}_{split}_intermediate.csv with img_name,caption; images under {subset}/.
    r5 = root / "rs5m"
    for name in ("laion2b_0000001.jpg", "coyo_0000002.jpg", "rgb/rgb_tile_9.jpg"):
        _img(r5 / "pub11" / name)
    _img(r5 / "other_0001.jpg")
    (r5 / "pub11_train_intermediate.csv").write_text(
        "img_name,caption\n"
        "laion2b_0000001.jpg,Aerial view of an airport with white planes\n"
        "coyo_0000002.jpg\n"  # malformed: no caption column
        "coyo_0000003.jpg,\"a river, seen from a drone\"\n")  # image absent
    (r5 / "pub11_val_intermediate.csv").write_text("img_name,caption\nrgb/rgb_tile_9.jpg,green fields seen from above\n")
    (r5 / "other_train.tsv_0001.csv").write_text("img_name,caption\nother_0001.jpg,a lake\n")  # no split in name
    # SkyScript: SkyScript_{split}_*.csv with filepath,title,title_multi_objects.
    sk = root / "skyscript"
    _img(sk / "images2" / "a198234555_CH_19.jpg")
    _img(sk / "images3" / "a551_NAIP_20.jpg")
    (sk / "SkyScript_train_top30pct_filtered_by_CLIP_openai.csv").write_text(
        "filepath,title,title_multi_objects\n"
        "images2/a198234555_CH_19.jpg,a satellite image of a tennis court; surface: hard,"
        "\"a satellite image of a tennis court; surface: hard, surrounded by grass\"\n"
        "images2/../../../a999_CH_19.jpg,a satellite image of a road,a satellite image of a road\n")
    (sk / "SkyScript_test_30K.csv").write_text(
        "filepath,title,title_multi_objects\n"
        "images3/a551_NAIP_20.jpg,a satellite image of a building; roof colour: red,"
        "a satellite image of a building; roof colour: red; with a parking lot\n"
        "\n"
        ",missing path,missing path\n")
    return root
