"""The build pipeline (paper Algorithm 1): configs load with plain `datasets`, counts match the report, the
clean_test rule, bad items counted with ids, and byte-identical output across workers, shards and resumes."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import datasets
import pytest
from PIL import Image

from monoir_rs import gate
from monoir_rs.build import build, chunk_file, release_path
from monoir_rs.cli import main as cli_main
from monoir_rs.errors import UserError
from monoir_rs.schema import SOURCES, SPLITS, is_rgb_path

datasets.disable_progress_bars()
CHUNK = 32  # small chunks so the sample pool spans several of them


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every output file except the run-specific ones (work dir, report with timings, audit)."""
    skip = {"build_report.json", "audit_report.json", "SHA256SUMS"}  # timings / absolute paths / their hashes
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".work" not in p.parts and p.name not in skip}


@pytest.fixture(scope="module")
def small_pool(tmp_path_factory) -> Path:
    """A smaller sample pool for the tests that build several times."""
    from monoir_rs.sample import write_pool

    out = tmp_path_factory.mktemp("small_pool")
    write_pool(out, scenes=90, seed=1)
    return out


@pytest.fixture(scope="module")
def reference(small_pool, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "monoir-rs"
    build(small_pool, out, workers=1, progress=False, chunk_size=CHUNK)
    return out


def _report(data: Path) -> dict:
    return json.loads((data / "build_report.json").read_text())


def test_every_config_loads_with_report_counts(built_data):
    report = _report(built_data)
    assert set(report["configs"]) == {"all", *SOURCES, "clean_test", "vlm_eval"}
    for config, splits in report["configs"].items():
        ds = datasets.load_dataset(str(built_data), config)
        assert {s: len(d) for s, d in ds.items()} == {s: m["num_examples"] for s, m in splits.items()}, config
    assert {s: m["num_examples"] for s, m in report["configs"]["all"].items()} == report["totals"]
    for src in SOURCES:
        assert {s: m["num_examples"] for s, m in report["configs"][src].items()} == \
            {s: n for s, n in report["counts"][src].items() if n}
    assert report["n_records"] + report["n_rejected"] == report["n_candidates"]
    lines = (built_data / "raw" / "records.jsonl").read_text().splitlines()
    assert len(lines) == report["n_records"]


def test_records_are_valid_and_images_decode(built_data):
    from monoir_rs.keywords import K_RGB, has_keyword
    from monoir_rs.schema import validate_record

    ds = datasets.load_dataset(str(built_data), "all", split="train")
    for rec in ds.select(range(min(40, len(ds)))):
        img = rec.pop("image")
        assert img.mode == "L" and img.size[0] > 0
        validate_record(rec)
        assert not has_keyword(rec["caption"], K_RGB)
        assert (built_data / "raw" / rec["image_path"]).is_file()
    # bytes are embedded, not paths into the build folder
    import pyarrow.parquet as pq

    shard = next((built_data / "all").glob("train-*.parquet"))
    row = pq.read_table(shard, columns=["image"]).slice(0, 1).to_pylist()[0]["image"]
    assert row["bytes"] and row["bytes"][:2] == b"\xff\xd8"


def test_clean_test_is_test_minus_rgb_paths(built_data):
    test = datasets.load_dataset(str(built_data), "all", split="test")
    clean = datasets.load_dataset(str(built_data), "clean_test", split="test")
    flagged = {r["id"] for r in test.remove_columns("image") if "rgb" in r["image_path"].lower()}
    assert flagged, "the sample pool plants rgb-named test paths"
    assert not any(is_rgb_path(p) for p in clean["image_path"])
    assert set(clean["id"]) == set(test["id"]) - flagged
    raw_flagged = (built_data / "raw" / "splits" / "flagged_rgb.txt").read_text().split()
    assert set(raw_flagged) == flagged
    report = _report(built_data)
    assert report["clean_test"] == {"test": len(test), "flagged": len(flagged), "clean": len(clean)}


def test_vlm_eval_matches_reference_sampling(built_data):
    clean = datasets.load_dataset(str(built_data), "clean_test", split="test").remove_columns("image")
    recs = sorted(zip(clean["id"], clean["image_path"], strict=True))
    first_per_image = {}
    for rid, path in recs:
        first_per_image.setdefault(path, rid)
    pool = sorted(first_per_image.values())
    expected = sorted(random.Random(0).sample(pool, min(500, len(pool))))
    vlm = datasets.load_dataset(str(built_data), "vlm_eval", split="test")
    assert sorted(vlm["id"]) == expected


def test_splits_files_match_records(built_data):
    raw = built_data / "raw"
    recs = [json.loads(line) for line in (raw / "records.jsonl").read_text().splitlines()]
    for split in SPLITS:
        assert (raw / "splits" / f"{split}.txt").read_text().split() == [r["id"] for r in recs if r["split"] == split]
    assert len({r["id"] for r in recs}) == len(recs)


def test_workers_2_and_cli_shards_are_byte_identical(small_pool, reference, tmp_path):
    ref = tree_digest(reference)
    assert any(k.endswith(".parquet") for k in ref) and any(k.startswith("raw/images/") for k in ref)
    out2 = tmp_path / "w2"
    build(small_pool, out2, workers=2, progress=False, chunk_size=CHUNK)
    assert tree_digest(out2) == ref
    out3 = tmp_path / "sharded"
    args = ["build", "--pool", str(small_pool), "--out", str(out3), "--chunk-size", str(CHUNK), "--no-progress"]
    assert cli_main([*args, "--shard", "1/2"]) == 0
    assert not (out3 / "README.md").exists()  # shard 0 is not done: nothing exported yet
    assert cli_main([*args, "--shard", "0/2"]) == 0  # the last shard merges
    assert tree_digest(out3) == ref
    assert cli_main(["build", "--out", str(out3), "--merge", "--no-progress"]) == 0  # explicit re-merge
    assert tree_digest(out3) == ref


def test_resume_after_interruption_redoes_nothing(small_pool, reference, tmp_path):
    out = tmp_path / "resumed"
    partial = build(small_pool, out, shard="0/3", progress=False, chunk_size=CHUNK)
    assert partial["status"] == "partial" and partial["chunks_missing"] > 0
    done = {p: p.stat().st_mtime_ns for p in (out / ".work" / "chunks").glob("*.jsonl")}
    assert done and chunk_file(out, 0) in done
    # debris of a kill mid-chunk: a half-written temp file and a truncated image of an unfinished chunk
    (out / ".work" / "chunks" / ".00000001.jsonl.999.tmp").write_text("{half")
    some_image = next((out / "raw" / "images").rglob("*.jpg"))
    victim = some_image.with_name("zz_partial.jpg")
    victim.write_bytes(some_image.read_bytes()[:100])
    victim.unlink()
    report = build(small_pool, out, progress=False, chunk_size=CHUNK)
    assert report["n_records"] > 0
    assert all(p.stat().st_mtime_ns == t for p, t in done.items()), "finished chunks were redone"
    assert tree_digest(out) == tree_digest(reference)


def test_resume_refuses_other_settings(small_pool, tmp_path):
    out = tmp_path / "x"
    build(small_pool, out, shard="0/50", progress=False, chunk_size=CHUNK)
    with pytest.raises(UserError, match="other settings"):
        build(small_pool, out, shard="0/50", progress=False, chunk_size=CHUNK, ir_synth="gray")
    # --no-resume starts over with the new settings
    assert build(small_pool, out, shard="0/50", progress=False, chunk_size=CHUNK, ir_synth="gray",
                 resume=False)["status"] == "partial"


def _bad_pool(sample_pool: Path, root: Path) -> tuple[Path, dict[str, str]]:
    """A pool in the generic JSONL layout with one planted defect per line (expected reason per id)."""
    pool = root / "badpool"
    src = pool / "rs5m"
    (src / "img").mkdir(parents=True)
    good = sorted(sample_pool.rglob("*.jpg"))[:3]
    for i, g in enumerate(good):
        shutil.copy(g, src / "img" / f"ok{i}.jpg")
    (src / "img" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    Image.new("RGB", (32, 32), (90, 140, 60)).save(src / "img" / "plain.png")
    rows = [
        {"id": "ok0", "image": "img/ok0.jpg", "caption": "a large parking lot beside a road", "split": "train"},
        {"id": "ok1", "image": "img/ok1.jpg", "caption": "many houses along a river", "split": "test"},
        {"id": "ok2", "image": "img/ok2.jpg", "caption": "a bridge crosses the river", "split": "val"},
        {"id": "corrupt", "image": "img/corrupt.jpg", "caption": "a bridge over a river", "split": "train"},
        {"id": "missing", "image": "img/nowhere.jpg", "caption": "a lake in a forest", "split": "train"},
        {"id": "escape", "image": "../../etc/passwd", "caption": "a lake in a forest", "split": "train"},
        {"id": "nocaption", "image": "img/plain.png", "caption": "", "split": "train"},
        {"id": "badsplit", "image": "img/ok0.jpg", "caption": "a large parking lot", "split": "holdout"},
        {"id": "ok0", "image": "img/ok1.jpg", "caption": "another parking lot near houses", "split": "train"},
    ]
    lines = [json.dumps(r) for r in rows]
    lines.insert(3, '{"id": "broken", "image": "img/ok0.jpg", "caption": ')
    (src / "data.jsonl").write_text("\n".join(lines) + "\n")
    expected = {"rs5m-corrupt": "corrupt_image", "rs5m-missing": "missing_image", "rs5m-escape": "path_escape",
                "rs5m-nocaption": "empty", "rs5m-badsplit": "unknown_split", "rs5m-ok0": "duplicate_id"}
    return pool, expected


def test_bad_items_are_counted_with_ids(sample_pool, tmp_path):
    pool, expected = _bad_pool(sample_pool, tmp_path)
    out = tmp_path / "data"
    report = build(pool, out, progress=False, chunk_size=4)
    rejected = [json.loads(line) for line in (out / "raw" / "rejected.jsonl").read_text().splitlines()]
    by_id = {}
    for r in rejected:
        by_id.setdefault(r["id"], []).append(r["reason"])
    for rid, reason in expected.items():
        assert reason in by_id.get(rid, []), (rid, by_id)
    malformed = [r for r in rejected if r["reason"] == "malformed_row"]
    assert len(malformed) == 1 and "line 4" in malformed[0]["detail"]
    assert report["n_records"] == 3  # ok0, ok1, ok2 (the repeated ok0 is rejected)
    assert report["n_records"] + report["n_rejected"] == report["n_candidates"] == 10
    for reason, slot in report["rejections"].items():
        assert slot["count"] == sum(r["reason"] == reason for r in rejected)
        assert sorted(slot["ids"]) == sorted(r["id"] for r in rejected if r["reason"] == reason)
    ds = datasets.load_dataset(str(out), "all")
    assert sum(len(d) for d in ds.values()) == 3


def test_records_without_split_get_the_hash_fallback(sample_pool, tmp_path):
    from monoir_rs.build import Stages, process_chunk
    from monoir_rs.schema import RawRecord

    img = sorted(sample_pool.rglob("*.jpg"))[0]
    items = [RawRecord(id=f"rs5m-x{i}", source="rs5m", split=None, image_path=img.relative_to(sample_pool).as_posix(),
                       image_file=img, source_caption="a large parking lot beside a road") for i in range(40)]
    process_chunk(0, items, str(tmp_path), Stages(chunk_size=40))
    lines = chunk_file(tmp_path, 0).read_text().splitlines()[1:]
    got = {json.loads(line)["record"]["id"]: json.loads(line)["record"]["split"] for line in lines}
    assert got == {r.id: gate.hash_split(r.id) for r in items}


def test_gate_terms():
    assert gate.unsafe_path("../x.jpg") and gate.unsafe_path("/abs/x.jpg") and gate.unsafe_path("a/../../b")
    assert gate.unsafe_path("C:/x.jpg") and not gate.unsafe_path("rsicd/images/a..b.jpg")
    assert gate.record_reason("Landsat-8", "a.jpg", "train") == "unknown_source"  # not a source name
    assert gate.record_reason("rsicd", "../a.jpg", "train") == "unsafe_path"
    assert gate.record_reason("rsicd", "a.jpg", gate.resolve_split("x", "holdout")) == "invalid_split"
    assert gate.resolve_split("x", "val") == "validation" and gate.resolve_split("x", "TEST") == "test"
    assert gate.caption_reasons("") == ["empty"]
    assert gate.caption_reasons("a red roof") == ["too_short", "rgb_color", "weak_ir"]
    assert gate.caption_reasons("bright roofs and a hot engine in the infrared view") == ["overclaim"]
    assert gate.caption_reasons("a bridge with dark water below and bright road outlines") == []


def test_hash_split_fallback_is_stable_and_proportional():
    ids = [f"rs5m-{i:06d}" for i in range(60000)]
    splits = [gate.hash_split(i) for i in ids]
    assert splits == [gate.hash_split(i) for i in ids]
    frac = {s: splits.count(s) / len(ids) for s in SPLITS}
    assert abs(frac["test"] - 1 / 60) < 0.002 and abs(frac["validation"] - 1 / 60) < 0.002


def test_release_path_keeps_naming():
    assert release_path("rsicd/RSICD_images/airport_1.jpg") == "images/rsicd/RSICD_images/airport_1.jpg"
    assert release_path("nwpu/x/RGB_tile.png") == "images/nwpu/x/RGB_tile_png.jpg"
    assert release_path("a/b.jpeg") != release_path("a/b.jpg")
    assert is_rgb_path(release_path("rs5m/rgb_scenes/p.jpg"))


def test_bad_arguments_are_user_errors(sample_pool, tmp_path):
    with pytest.raises(UserError, match="shard"):
        build(sample_pool, tmp_path / "o", shard="3/2", progress=False)
    with pytest.raises(UserError, match="not a folder"):
        build(tmp_path / "nope", tmp_path / "o", progress=False)
    with pytest.raises(UserError, match="unknown IR synthesizer"):
        build(sample_pool, tmp_path / "o", ir_synth="nope", progress=False)
    with pytest.raises(UserError, match="no build in progress"):
        build(out=tmp_path / "empty", merge=True, progress=False)


def test_synthesis_failure_is_pinned_to_its_item(sample_pool):
    """A synthesizer that breaks on one image: the batch falls back to one image at a time."""
    from itertools import islice

    from monoir_rs.build import synthesize_batch
    from monoir_rs.sources import iter_pool

    raws = list(islice((x for x in iter_pool(sample_pool) if hasattr(x, "image_file")), 4))
    bad_file = str(raws[2].image_file)

    class Picky:
        name = "picky"

        def run_batch(self, images):
            return [self(im) for im in images]

        def __call__(self, rgb):
            if rgb.tobytes() == self.poison:
                raise ValueError("cannot render this one")
            return rgb.convert("L")

    synth = Picky()
    with Image.open(bad_file) as im:
        synth.poison = im.convert("RGB").tobytes()
    made = synthesize_batch(raws, synth, quality=90)
    assert made[bad_file][:2] == (None, "synth_failed")
    assert all(made[str(r.image_file)][0][:2] == b"\xff\xd8" for r in raws if str(r.image_file) != bad_file)


def test_killed_build_resumes_to_identical_output(small_pool, reference, tmp_path):
    """SIGKILL a real `monoir build` mid-way, then re-run it: same bytes as an uninterrupted build (and the
    chunk size, the unit of resume, does not change the output)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "monoir_rs.cli", "build", "--pool", str(small_pool), "--out", str(out),
           "--chunk-size", "4", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chunks = out / ".work" / "chunks"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(chunks.glob("*.jsonl")) if chunks.is_dir() else []) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = sorted(chunks.glob("*.jsonl"))
    assert len(done) >= 3 and not (out / "README.md").exists(), "the build was not interrupted mid-way"
    assert cli_main(cmd[3:]) == 0
    assert tree_digest(out) == tree_digest(reference)


def _near_dup_pool(root: Path) -> Path:
    """A JSONL source: scene A in train, validation (a noisy copy) and test; scene B in train and validation;
    scene C only in train. Distinct scenes are distinct random textures."""
    import numpy as np

    rng = np.random.default_rng(0)
    src = root / "pool" / "dups"
    (src / "img").mkdir(parents=True)
    scenes = {name: rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for name in "ABC"}
    rows = [("a_train", "A", "train"), ("a_val", "A", "validation"), ("a_test", "A", "test"),
            ("b_train", "B", "train"), ("b_val", "B", "validation"), ("c_train", "C", "train")]
    with open(src / "meta.jsonl", "w", encoding="utf-8") as fh:
        for rid, scene, split in rows:
            pixels = scenes[scene].astype(int)
            if split == "validation":  # a near, not exact, duplicate
                pixels = pixels + rng.integers(-3, 4, pixels.shape)
            Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(src / "img" / f"{rid}.png")
            fh.write(json.dumps({"id": rid, "image": f"img/{rid}.png", "split": split,
                                 "caption": "a dense residential area with many roofs and roads"}) + "\n")
    return root / "pool"


def test_near_duplicates_stay_in_one_split(tmp_path):
    pool = _near_dup_pool(tmp_path)
    out = build(pool, tmp_path / "on", progress=False)
    ids = {s: set(datasets.load_dataset(str(tmp_path / "on"), "all", split=s)["id"]) for s in SPLITS}
    assert ids == {"train": {"dups-c_train"}, "validation": {"dups-b_val"}, "test": {"dups-a_test"}}
    dropped = out["rejections"]["near_duplicate_split"]
    assert dropped["count"] == 3 and set(dropped["ids"]) == {"dups-a_train", "dups-a_val", "dups-b_train"}
    assert out["split_hygiene"] == {"near_dup_radius": 4, "dropped": 3}
    images = tmp_path / "on" / "raw" / "images" / "dups" / "img"
    assert sorted(p.name for p in images.iterdir()) == ["a_test_png.jpg", "b_val_png.jpg", "c_train_png.jpg"]  # no orphans
    assert out["audit"]["warnings"] == [] and out["audit"]["hard_failures"] == []
    off = build(pool, tmp_path / "off", progress=False, near_dup_radius=-1)
    assert off["n_records"] == 6 and "near_duplicate_split" not in off["rejections"]
    assert any("near_duplicates" in w for w in off["audit"]["warnings"])  # the audit still sees them
