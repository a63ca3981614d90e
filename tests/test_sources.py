"""Source readers: the generated pool, hand-written fixtures in the public formats, bad items, errors, metadata."""

from __future__ import annotations

import json
import re
import types
from collections import Counter
from pathlib import Path

import pytest
from fixtures_sources import EXPECTED, write_fixture_pool
from PIL import Image

from monoir_rs.errors import UserError
from monoir_rs.schema import SOURCES, SPLITS, RawRecord
from monoir_rs.sources import (
    BAD_REASONS,
    READERS,
    BadItem,
    detect_sources,
    guess_scene_class,
    iter_pool,
    normalize_class,
)
from monoir_rs.sources.base import resolve_image, rsicd_class
from monoir_rs.sources.info import SOURCE_INFO, TABLE3_TOTAL


@pytest.fixture(scope="module")
def fixture_pool(tmp_path_factory) -> Path:
    return write_fixture_pool(tmp_path_factory.mktemp("fx") / "pool")


def test_readers_registry():
    assert set(SOURCES) | {"jsonl"} == set(READERS)


# --------------------------------------------------------------------------------------------- generated pool
def test_every_reader_on_the_generated_pool(sample_pool):
    summary = json.loads((sample_pool / "pool_summary.json").read_text())
    assert [s for s, _, _ in detect_sources(sample_pool)] == list(SOURCES)
    items = iter_pool(sample_pool)
    assert isinstance(items, types.GeneratorType)  # streamed, not a list
    recs = list(items)
    assert not [r for r in recs if isinstance(r, BadItem)]
    assert len({r.id for r in recs}) == len(recs) == summary["scenes"]
    for source in SOURCES:
        mine = [r for r in recs if r.source == source]
        assert Counter(r.split for r in mine) == {k: v for k, v in summary["counts"][source].items() if v}
        for r in mine:
            assert r.id.startswith(f"{source}-") and r.split in SPLITS
            assert r.image_file.is_file() and (sample_pool / r.image_path) == r.image_file
            assert r.source_caption
    from monoir_rs.sample import SCENE_CLASSES

    expected = {"rsicd": {normalize_class(c.rsicd) for c in SCENE_CLASSES},
                "nwpu": {normalize_class(c.nwpu) for c in SCENE_CLASSES}}
    expected["rsitmd"] = expected["rsicd"]
    for source, labels in expected.items():
        got = {r.scene_class for r in recs if r.source == source}
        assert got <= labels and len(got) >= 10, (source, got - labels)
    assert "port" in expected["rsicd"] and "storage tank" in expected["nwpu"]
    assert all(len(r.other_captions) == 1 for r in recs if r.source == "skyscript")
    assert all(r.other_captions == () for r in recs if r.source == "rs5m")


def test_sources_argument_selects(sample_pool):
    recs = list(iter_pool(sample_pool, sources=["rsitmd"]))
    assert recs and {r.source for r in recs} == {"rsitmd"}
    with pytest.raises(UserError, match="not found in pool"):
        list(iter_pool(sample_pool, sources=["sentinel"]))


# --------------------------------------------------------------------------------------------- public-format fixtures
@pytest.mark.parametrize("source", SOURCES)
def test_reader_on_public_format_fixture(fixture_pool, source):
    items = list(iter_pool(fixture_pool, sources=[source]))
    ok = {r.id: r for r in items if isinstance(r, RawRecord)}
    bad = {(b.id, b.reason) for b in items if isinstance(b, BadItem)}
    exp = EXPECTED[source]
    assert set(ok) == set(exp["ok"])
    assert bad == set(exp["bad"].items())
    for rid, (split, cls, first, n_other) in exp["ok"].items():
        r = ok[rid]
        assert (r.split, r.scene_class, r.source_caption, len(r.other_captions)) == (split, cls, first, n_other)
        assert r.image_path == r.image_file.relative_to(fixture_pool).as_posix()
    for b in items:
        if isinstance(b, BadItem):
            assert b.source == source and b.reason in BAD_REASONS and b.detail


def test_fixture_bad_items_name_the_problem(fixture_pool):
    bad = {b.id: b for b in iter_pool(fixture_pool) if isinstance(b, BadItem)}
    assert "does not exist" in bad["rsicd-bridge_7"].detail
    assert "'..'" in bad["rsicd-passwd"].detail
    assert "absolute" in bad["rsitmd-playground_5"].detail
    assert "outside the pool" in bad["rsitmd-playground_6"].detail  # symlink
    assert "holdout" in bad["rsicd-port_1"].detail
    assert "line 4" in bad["skyscript-SkyScript_test_30K.csv:4"].detail


def test_rgb_named_paths_are_kept_for_the_clean_test_rule(fixture_pool):
    rec = next(r for r in iter_pool(fixture_pool, sources=["rs5m"]) if getattr(r, "id", "") == "rs5m-rgb_tile_9")
    assert rec.image_path == "rs5m/pub11/rgb/rgb_tile_9.jpg"


def test_jsonl_reader_for_a_new_source(tmp_path):
    src = tmp_path / "pool" / "aerialx"
    (src / "img").mkdir(parents=True)
    for n in ("1", "2"):
        Image.new("RGB", (8, 8)).save(src / "img" / f"{n}.jpg")
    lines = [
        {"id": "1", "image": "img/1.jpg", "caption": "a red roof", "split": "train", "scene_class": "Dense_Residential",
         "captions": ["a building"]},
        {"image": "img/2.jpg", "caption": "a green field", "split": "dev"},
        "not an object",
        {"id": "3", "image": "../../x.jpg", "caption": "escape", "split": "test"},
        {"id": "4", "image": "img/4.jpg", "caption": "missing", "split": "test"},
        {"id": "5", "caption": "no image", "split": "test"},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n\n{broken json\n"
    (src / "records.jsonl").write_text(text)
    items = list(iter_pool(tmp_path / "pool"))
    ok = [r for r in items if isinstance(r, RawRecord)]
    assert [(r.id, r.split, r.scene_class, r.other_captions) for r in ok] == [
        ("aerialx-1", "train", "dense residential", ("a building",)), ("aerialx-2", "validation", None, ())]
    assert [(b.id, b.reason) for b in items if isinstance(b, BadItem)] == [
        ("aerialx-records.jsonl:3", "malformed_row"), ("aerialx-3", "path_escape"), ("aerialx-4", "missing_image"),
        ("aerialx-records.jsonl:6", "malformed_row"), ("aerialx-records.jsonl:8", "malformed_row")]


def test_known_source_may_use_jsonl(tmp_path):
    src = tmp_path / "pool" / "rsicd"
    src.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(src / "a.jpg")
    (src / "extra.jsonl").write_text(json.dumps({"image": "a.jpg", "caption": "x", "split": "test"}) + "\n")
    assert [r.id for r in iter_pool(tmp_path / "pool")] == ["rsicd-a"]


# --------------------------------------------------------------------------------------------- user errors
def test_pool_level_errors(tmp_path):
    with pytest.raises(UserError, match="not a folder"):
        list(iter_pool(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no source folders"):
        list(iter_pool(tmp_path / "empty"))
    (tmp_path / "p" / "landsat").mkdir(parents=True)
    with pytest.raises(UserError, match="unknown source folder .*landsat"):
        list(iter_pool(tmp_path / "p"))
    (tmp_path / "q" / "nwpu").mkdir(parents=True)
    with pytest.raises(UserError, match="dataset_nwpu.json"):
        list(iter_pool(tmp_path / "q"))
    (tmp_path / "r" / "rsicd").mkdir(parents=True)
    (tmp_path / "r" / "rsicd" / "dataset_rsicd.json").write_text('{"images": [')
    with pytest.raises(UserError, match=r"dataset_rsicd.json: not valid JSON"):
        list(iter_pool(tmp_path / "r"))
    (tmp_path / "s" / "rsitmd").mkdir(parents=True)
    (tmp_path / "s" / "rsitmd" / "dataset_RSITMD.json").write_text('[1, 2]')
    with pytest.raises(UserError, match="Karpathy-style"):
        list(iter_pool(tmp_path / "s"))


def test_errors_are_raised_before_any_item(tmp_path, sample_pool):
    """A broken folder is found up front, not after other sources were streamed half-way."""
    pool = tmp_path / "pool"
    pool.mkdir()
    (pool / "rs5m").symlink_to(sample_pool / "rs5m")
    (pool / "skyscript").mkdir()
    it = iter_pool(pool)
    with pytest.raises(UserError, match="skyscript"):
        next(it)


def test_broken_csv_is_reported_not_raised(tmp_path):
    """A stray quote swallowing the rest of the file: the rows before it are read, then one malformed_file."""
    src = tmp_path / "pool" / "rs5m"
    (src / "pub11").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(src / "pub11" / "a.jpg")
    body = b'img_name,caption\na.jpg,fine\nb.jpg,"' + b"x" * 200_000 + b"\nc.jpg,after\n"
    (src / "pub11_train_intermediate.csv").write_bytes(body)
    items = list(iter_pool(tmp_path / "pool"))
    assert [type(x).__name__ for x in items] == ["RawRecord", "BadItem"]
    assert items[1].reason == "malformed_file" and "pub11_train_intermediate.csv line" in items[1].detail


# --------------------------------------------------------------------------------------------- helpers
def test_resolve_image_refuses_escapes(tmp_path):
    pool = tmp_path / "pool"
    (pool / "s").mkdir(parents=True)
    assert resolve_image(pool, pool / "s", "a/b.jpg")[0] == pool / "s" / "a" / "b.jpg"
    for rel in ("../x.jpg", "a/../../x.jpg", "/etc/passwd", "C:/x.jpg", "a\\..\\..\\x.jpg", ""):
        path, why = resolve_image(pool, pool / "s", rel)
        assert path is None and why, rel


def test_class_labels():
    assert normalize_class("baseball_diamond") == "baseball diamond"
    assert normalize_class("denseresidential") == "dense residential"
    assert normalize_class("  Storage-Tank ") == "storage tank"
    assert normalize_class(None) is None
    assert rsicd_class("airport_348.jpg") == "airport"
    assert rsicd_class("storagetanks_12.tif") == "storage tanks"
    assert rsicd_class("nounderscore.jpg") is None
    assert guess_scene_class("Aerial view of circular farmland near a river") == "circular farmland"
    assert guess_scene_class("three white storage tanks beside a road") == "storage tanks"
    assert guess_scene_class("a center-pivot field") == "circular farmland"
    assert guess_scene_class("green fields seen from above") is None
    assert guess_scene_class(None) is None


def test_real_rsicd_file_names_give_classes():
    """Real RSICD/RSITMD file names yield readable class labels; RSICD's numbered files (00623.jpg) have none."""
    from conftest import realdata_or_skip

    caps = realdata_or_skip("rs_captions")
    for name in ("rsicd", "rsitmd"):
        files = set((caps / f"{name}_test_filename.txt").read_text().split())
        assert all(rsicd_class(f) is None for f in files if Path(f).stem.isdigit())
        classes = {rsicd_class(f) for f in files if not Path(f).stem.isdigit()}
        assert None not in classes
        assert all(re.fullmatch(r"[a-z]+( [a-z]+)*", c) for c in classes)
    assert {"dense residential", "storage tanks", "railway station", "baseball field"} <= classes


def test_real_rsicd_captions_in_karpathy_layout(tmp_path):
    """The real RSICD test captions (five lines per image) written as dataset_rsicd.json read back exactly."""
    from conftest import realdata_or_skip

    caps_dir = realdata_or_skip("rs_captions")
    caps = (caps_dir / "rsicd_test_caps.txt").read_text().splitlines()
    files = (caps_dir / "rsicd_test_filename.txt").read_text().splitlines()
    by_file: dict[str, list[str]] = {}
    for f, c in zip(files, caps, strict=True):
        by_file.setdefault(f, []).append(c)
    src = tmp_path / "pool" / "rsicd"
    (src / "RSICD_images").mkdir(parents=True)
    tiny = Image.new("RGB", (4, 4))
    images = []
    for k, (f, cs) in enumerate(by_file.items()):
        tiny.save(src / "RSICD_images" / f)
        images.append({"filename": f, "imgid": k, "split": "test", "sentences": [{"raw": c} for c in cs]})
    (src / "dataset_rsicd.json").write_text(json.dumps({"images": images, "dataset": "rsicd"}))
    recs = list(iter_pool(tmp_path / "pool"))
    assert len(recs) == len(by_file) and all(isinstance(r, RawRecord) for r in recs)
    first = {r.id: (r.source_caption, r.other_captions) for r in recs}
    f0 = files[0]
    assert first[f"rsicd-{Path(f0).stem}"] == (by_file[f0][0].strip(), tuple(c.strip() for c in by_file[f0][1:]))
    assert len({r.scene_class for r in recs}) >= 20


# --------------------------------------------------------------------------------------------- source metadata
def test_source_info():
    assert set(SOURCE_INFO) == set(SOURCES)
    for key in ("total", "train", "validation", "test"):
        assert sum(i["table3"][key] for i in SOURCE_INFO.values()) == TABLE3_TOTAL[key]
    for s, info in SOURCE_INFO.items():
        t = info["table3"]
        assert t["total"] == t["train"] + t["validation"] + t["test"], s
        assert info["citation"].startswith("@") and info["citation"].count("{") == info["citation"].count("}")
        assert info["homepage"].startswith("https://") and info["license"]
        assert info["redistributable_images"] is False
    for s in ("rsicd", "rsitmd", "nwpu"):
        assert SOURCE_INFO[s]["redistributable_captions"] is False


def test_fixture_pool_builds_and_every_bad_item_is_counted(fixture_pool, tmp_path):
    """Issue 7: a pool in each real format builds; every BadItem appears in the build report by id and reason."""
    from monoir_rs.build import build

    report = build(pool=fixture_pool, out=tmp_path / "monoir-rs", progress=False)
    n_ok = sum(len(e["ok"]) for e in EXPECTED.values())
    n_bad = sum(len(e["bad"]) for e in EXPECTED.values())
    assert report["n_candidates"] == n_ok + n_bad
    rejected = {(rid, reason) for reason, block in report["rejections"].items() for rid in block["ids"]}
    for exp in EXPECTED.values():
        for rid, reason in exp["bad"].items():
            assert (rid, reason) in rejected
    assert report["n_records"] + report["n_rejected"] == report["n_candidates"]
