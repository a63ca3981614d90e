"""Audits: each defect is planted in a small Hub-layout dataset written here with pyarrow, and must be found.
pHash is checked against a naive DCT reference (and imagehash when installed)."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from monoir_rs.audit import MANIFEST, audit, format_report, write_manifest
from monoir_rs.cli import main as cli_main
from monoir_rs.errors import UserError
from monoir_rs.phash import near_duplicate_groups, near_duplicate_pairs, nearest_rank, phash

SCHEMA = pa.schema([("id", pa.string()), ("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
                    ("image_path", pa.string()), ("caption", pa.string()), ("source", pa.string()),
                    ("split", pa.string()), ("scene_class", pa.string()), ("source_caption", pa.string())])


def _png(seed: int, noise_of: int | None = None) -> bytes:
    """A 48x48 random image; with `noise_of`, the image of that seed plus faint noise (a near-duplicate)."""
    rng = np.random.default_rng(seed if noise_of is None else noise_of)
    arr = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    if noise_of is not None:
        arr = np.clip(arr.astype(int) + np.random.default_rng(seed).integers(-2, 3, arr.shape), 0, 255)
    buf = io.BytesIO()
    Image.fromarray(arr.astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _records():
    recs = []
    for i in range(12):
        split = "train" if i < 8 else ("validation" if i < 10 else "test")
        path = f"images/rsicd/{'rgb_' if i == 11 else ''}{i:03d}.jpg"
        recs.append({"id": f"rsicd-{i:03d}", "image": {"bytes": _png(i), "path": None}, "image_path": path,
                     "caption": f"Bright roofs and dark water show strong contrast in scene {i}.",
                     "source": "rsicd", "split": split, "scene_class": "port", "source_caption": "red roofs"})
    return recs


def _write(data, recs, extra_configs=None, readme_configs=None):
    """Write all/, rsicd/, clean_test/ (test minus rgb paths) and vlm_eval/ from `recs`."""
    def put(config, split, rows):
        d = data / config
        d.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), d / f"{split}-00000-of-00001.parquet",
                       row_group_size=4)

    for split in ("train", "validation", "test"):
        rows = [r for r in recs if r["split"] == split]
        put("all", split, rows)
        put("rsicd", split, rows)
    clean = [r for r in recs if r["split"] == "test" and "rgb" not in r["image_path"].lower()]
    put("clean_test", "test", clean)
    put("vlm_eval", "test", clean)
    for (config, split), rows in (extra_configs or {}).items():
        put(config, split, rows)
    names = readme_configs or ["all", "rsicd", "clean_test", "vlm_eval"]
    yaml = "---\nconfigs:\n" + "".join(f"- config_name: {n}\n  data_files:\n  - split: test\n    path: {n}/test-*\n"
                                       for n in names) + "---\n# test dataset\n"
    (data / "README.md").write_text(yaml)
    return data


@pytest.fixture()
def clean(tmp_path):
    return _write(tmp_path / "data", _records())


def test_clean_dataset_passes_and_cli(clean, capsys):
    write_manifest(clean)
    rep = audit(clean)
    assert rep["ok"] and rep["hard_failures"] == [] and rep["warnings"] == []
    assert rep["records"] == 12 and rep["configs"]["all"] == {"train": 8, "validation": 2, "test": 2}
    assert rep["rgb_paths"]["count"] == 1 and rep["configs"]["clean_test"] == {"test": 1}
    assert rep["manifest"]["present"] and rep["manifest"]["files"] == 9  # 8 shards + README.md
    assert "audit: PASSED" in format_report(rep)
    out = clean.parent / "rep.json"
    assert cli_main(["audit", str(clean), "--json", str(out), "--no-progress"]) == 0
    assert json.loads(out.read_text())["ok"] is True
    assert "rgb_paths" in capsys.readouterr().out


def _plant(tmp_path, mutate, **kw):
    recs = _records()
    mutate(recs)
    return audit(_write(tmp_path / "data", recs, **kw))


def _assert_hard(rep, key, n=1):
    assert not rep["ok"], rep["hard_failures"]
    assert rep[key]["count"] >= n, (key, rep[key])
    assert any(msg.startswith(key) for msg in rep["hard_failures"])


def test_id_overlap(tmp_path):
    rep = _plant(tmp_path, lambda r: r[9].update(id="rsicd-000"))  # validation record reuses a train id
    _assert_hard(rep, "id_overlap")


def test_duplicate_id_within_split(tmp_path):
    rep = _plant(tmp_path, lambda r: r[1].update(id="rsicd-000"))
    _assert_hard(rep, "duplicate_ids")


def test_content_overlap_exact(tmp_path):
    rep = _plant(tmp_path, lambda r: r[10].update(image={"bytes": _png(3), "path": None}))
    _assert_hard(rep, "content_overlap")
    assert "rsicd-003 (train)" in rep["content_overlap"]["examples"][0]
    assert audit(tmp_path / "data", workers=2) == rep  # parallel decoding gives the same report


def test_near_duplicate_across_splits_is_a_warning(tmp_path):
    near = _png(100, noise_of=2)
    assert phash(Image.open(io.BytesIO(near))) != phash(Image.open(io.BytesIO(_png(2))))  # not exact
    rep = _plant(tmp_path, lambda r: r[10].update(image={"bytes": near, "path": None}))
    assert rep["ok"] and rep["content_overlap"]["count"] == 0
    assert rep["near_duplicates"]["count"] == 1
    assert sorted(rep["near_duplicates"]["examples"][0]) == ["rsicd-002 (train)", "rsicd-010 (test)"]
    assert any(w.startswith("near_duplicates") for w in rep["warnings"])


def test_missing_and_undecodable_images(tmp_path):
    def mutate(r):
        r[0]["image"] = {"bytes": None, "path": "images/x.jpg"}
        r[1]["image"] = None
        r[2]["image"] = {"bytes": b"not a jpeg", "path": None}
    rep = _plant(tmp_path, mutate)
    _assert_hard(rep, "missing_images", 2)
    _assert_hard(rep, "undecodable_images", 1)


def test_duplicate_paths(tmp_path):
    rep = _plant(tmp_path, lambda r: r[5].update(image_path=r[4]["image_path"]))
    _assert_hard(rep, "duplicate_paths")


def test_colour_leakage_and_empty_captions(tmp_path):
    def mutate(r):
        r[0]["caption"] = "Green trees around a bright stadium with strong contrast."
        r[1]["caption"] = "   "
    rep = _plant(tmp_path, mutate)
    _assert_hard(rep, "colour_leakage")
    _assert_hard(rep, "empty_captions")
    assert "green" in rep["colour_leakage"]["examples"][0]


def test_clean_test_rule(tmp_path):
    recs = _records()
    data = _write(tmp_path / "data", recs)
    # plant: the RGB-named test record inside clean_test
    pq.write_table(pa.Table.from_pylist([r for r in recs if r["split"] == "test"], schema=SCHEMA),
                   data / "clean_test" / "test-00000-of-00001.parquet")
    rep = audit(data)
    _assert_hard(rep, "clean_test", 2)  # an RGB path inside, and the count is off by one
    assert any("RGB-named path" in e for e in rep["clean_test"]["examples"])


def test_subset_and_instruct_leakage(tmp_path):
    recs = _records()
    stray = dict(recs[0], id="rsicd-999")
    test_rec = {k: recs[10][k] for k in ("id", "image", "image_path", "source", "scene_class")}
    rep = audit(_write(tmp_path / "data", recs, extra_configs={
        ("rsicd", "train"): [r for r in recs if r["split"] == "train"] + [stray],
        ("vlm_instruct", "train"): [dict(test_rec, split=None, caption=None, source_caption=None)]}))
    _assert_hard(rep, "subset_consistency", 2)  # an id not in `all`, and the per-source count
    _assert_hard(rep, "instruct_leakage")


def test_layout_and_manifest(tmp_path):
    data = _write(tmp_path / "data", _records(), readme_configs=["all", "clean_test", "nwpu"])
    write_manifest(data)
    lines = (data / MANIFEST).read_text().splitlines()
    assert any(line.endswith("  all/train-00000-of-00001.parquet") for line in lines)
    (data / "rsicd" / "train-00000-of-00001.parquet").write_bytes(b"tampered")
    (data / "extra.txt").write_text("new file")
    from monoir_rs.audit import verify_manifest
    v = verify_manifest(data)
    assert v["mismatched"] == ["rsicd/train-00000-of-00001.parquet"] and v["unlisted"] == ["extra.txt"]
    (data / "rsicd" / "train-00000-of-00001.parquet").unlink()
    rep = audit(data)
    _assert_hard(rep, "layout")  # nwpu is in README.md but has no files
    _assert_hard(rep, "manifest_mismatch")
    assert cli_main(["audit", str(data), "--no-progress"]) == 1


def test_not_a_dataset(tmp_path):
    with pytest.raises(UserError, match="not a built MonoIR-RS dataset"):
        audit(tmp_path)
    assert cli_main(["audit", str(tmp_path / "nope"), "--no-progress"]) == 2


def test_built_dataset_passes(built_data):
    rep = audit(built_data)
    assert rep["ok"], rep["hard_failures"]
    report = json.loads((built_data / "build_report.json").read_text())
    assert rep["configs"]["all"] == {k: v for k, v in report["totals"].items() if v}
    assert rep["rgb_paths"]["count"] == report["clean_test"]["flagged"]


# ---------------------------------------------------------------- pHash


def _naive_phash(img: Image.Image) -> int:
    """Reference pHash with an explicit DCT-II matrix (no FFT)."""
    px = np.asarray(img.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
    n = np.arange(32)
    basis = 2 * np.cos(np.pi * np.outer(n, 2 * n + 1) / 64)  # unnormalised DCT-II, as scipy's norm=None
    coeffs = basis @ px @ basis.T
    low = coeffs[:8, :8]
    return int("".join("1" if b else "0" for b in (low > np.median(low)).ravel()), 2)


def test_phash_reference():
    rng = np.random.default_rng(1)
    imgs = [Image.fromarray(rng.integers(0, 256, (40 + i, 57, 3), dtype=np.uint8)) for i in range(6)]
    imgs.append(Image.open(io.BytesIO(_png(5))))
    for img in imgs:
        assert phash(img) == _naive_phash(img)
    try:
        import imagehash
    except ImportError:  # optional cross-check; the naive reference above always runs
        return
    for img in imgs:
        assert phash(img) == int(str(imagehash.phash(img)), 16)


def test_near_duplicate_groups_vs_brute_force():
    rng = np.random.default_rng(0)
    h = rng.integers(0, 2 ** 63, 600, dtype=np.uint64)
    h[10:14] = h[3] ^ np.uint64(0b1011)        # distance 3 from h[3]
    h[20] = h[3] ^ np.uint64(0b1111 << 40)     # distance 4: joins
    h[21] = h[20] ^ np.uint64(0b11 << 60)      # distance 2 from h[20], 6 from h[3]: chains in
    h[30] = h[3] ^ np.uint64(0b11111 << 20)    # distance 5 from h[3], >= 8 from the rest: stays out
    h[40] = h[41]                              # identical pair
    dist = np.bitwise_count(h[:, None] ^ h[None, :])
    ii, jj = np.nonzero(np.triu(dist <= 4, 1))
    assert near_duplicate_pairs(h, 4) == set(zip(ii.tolist(), jj.tolist(), strict=True))
    groups = near_duplicate_groups(h, 4)
    assert [3, 10, 11, 12, 13, 20, 21] in groups and [40, 41] in groups
    assert not any(30 in g for g in groups)


def test_nearest_rank_vs_brute_force():
    rng = np.random.default_rng(7)
    base = rng.integers(0, 2**63, 6, dtype=np.uint64)
    # clusters of look-alikes (a few flipped bits, some chains longer than the radius) plus exact repeats
    h = [int(b) ^ (1 << int(k)) ^ (1 << int(j)) for b in base for k, j in rng.integers(0, 64, (8, 2))]
    h += h[:5]
    ranks = rng.integers(0, 3, len(h))
    got = nearest_rank(h, ranks, 4)
    for i, hi in enumerate(h):
        assert got[i] == max(int(r) for hj, r in zip(h, ranks, strict=True) if bin(hi ^ hj).count("1") <= 4)
    assert (got > ranks).any() and (got == ranks).any()  # both cases are exercised
