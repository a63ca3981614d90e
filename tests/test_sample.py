"""The sample RGB source pool: determinism, classes, splits, rgb paths, colour captions, layout fidelity, speed."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monoir_rs.errors import UserError
from monoir_rs.keywords import K_RGB, has_keyword
from monoir_rs.sample import CLASS_NAMES, SCENE_CLASSES, plan, write_pool
from monoir_rs.sample.draw import CELL, POSITIONS, num
from monoir_rs.sample.scenes import render
from monoir_rs.schema import SOURCES, is_rgb_path
from monoir_rs.sources import BadItem, iter_pool

# SHA-256 of the metadata files (JSON/CSV) of write_pool(scenes=40, seed=0). It changes only when the pool
# generator (or numpy's random stream) changes: then check the new pool and update this value on purpose.
METADATA_SHA256_40_0 = "4336c2d786c1258dfc18ad4446863133db8529a1db173e3d022dde3b7722c349"


def tree_hash(root: Path, suffixes: tuple[str, ...] | None = None) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and (suffixes is None or p.suffix in suffixes):
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@pytest.fixture(scope="module")
def default_pool(tmp_path_factory):
    """The default 1,200-scene pool, timed (the < 30 s budget on 2 cores)."""
    out = tmp_path_factory.mktemp("default_pool")
    t0 = time.perf_counter()
    summary = write_pool(out)
    return out, summary, time.perf_counter() - t0


def test_default_pool_is_fast(default_pool):
    _, summary, seconds = default_pool
    assert summary["scenes"] == 1200
    assert seconds < 30, f"write_pool(1200) took {seconds:.1f} s (budget 30 s)"


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = (write_pool(tmp_path / n, scenes=40, seed=s) for n, s in (("a", 3), ("b", 3), ("c", 4)))
    assert a == b
    ha, hb, hc = (tree_hash(tmp_path / n) for n in "abc")
    assert ha == hb
    assert ha != hc


def test_pool_metadata_hash_is_pinned(tmp_path):
    write_pool(tmp_path, scenes=40, seed=0)
    assert tree_hash(tmp_path, (".json", ".csv")) == METADATA_SHA256_40_0


def test_rewrite_replaces_previous_pool_and_refuses_foreign_folder(tmp_path):
    write_pool(tmp_path / "p", scenes=60, seed=0)
    write_pool(tmp_path / "p", scenes=30, seed=0)
    write_pool(tmp_path / "q", scenes=30, seed=0)
    assert tree_hash(tmp_path / "p") == tree_hash(tmp_path / "q")  # no stale files of the 60-scene pool
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        write_pool(tmp_path / "foreign", scenes=5)


def test_classes_and_summary_file(sample_pool):
    summary = json.loads((sample_pool / "pool_summary.json").read_text())
    assert len(CLASS_NAMES) >= 15 and summary["classes"] == list(CLASS_NAMES)
    assert set(summary["class_counts"]) == set(CLASS_NAMES)
    assert min(summary["class_counts"].values()) >= 240 // len(CLASS_NAMES)
    for needed in ("airport", "baseball field", "bridge", "circular farmland", "dense residential", "forest",
                   "harbor", "industrial area", "lake", "parking lot", "railway station", "river",
                   "storage tanks", "tennis court", "beach", "desert"):
        assert needed in CLASS_NAMES


def test_split_proportions_and_sources(default_pool):
    root, summary, _ = default_pool
    assert summary["split_totals"] == {"train": 800, "validation": 100, "test": 300}
    counts = Counter()
    for item in iter_pool(root):
        assert not isinstance(item, BadItem), item
        counts[(item.source, item.split)] += 1
    for source in SOURCES:
        n = sum(counts[(source, s)] for s in ("train", "validation", "test"))
        assert counts[(source, "test")] > 0 and counts[(source, "validation")] > 0
        assert counts[(source, "test")] == pytest.approx(n / 4, abs=1)
        assert summary["counts"][source]["test"] == counts[(source, "test")]
    # Table 3 order of source sizes is kept (rs5m largest ... rsitmd smallest).
    sizes = [sum(summary["counts"][s].values()) for s in SOURCES]
    assert sizes == sorted(sizes, reverse=True)


def test_rgb_paths_only_in_test_about_three_percent(default_pool):
    root, summary, _ = default_pool
    items = [r for r in iter_pool(root)]
    test = [r for r in items if r.split == "test"]
    rgb = [r for r in test if is_rgb_path(r.image_path)]
    assert 0.02 <= len(rgb) / len(test) <= 0.04
    assert len(rgb) == summary["rgb_test_paths"]
    assert not [r for r in items if r.split != "test" and is_rgb_path(r.image_path)]


def test_captions_mention_colours_like_rgb_era_captions(sample_pool):
    recs = [r for r in iter_pool(sample_pool)]
    first = [r.source_caption for r in recs]
    assert sum(has_keyword(c, K_RGB) for c in first) / len(first) >= 0.5
    for source in SOURCES:
        caps = [r.source_caption for r in recs if r.source == source]
        assert any(has_keyword(c, K_RGB) for c in caps), source
    # The captioned sources keep five sentences per image, like the releases.
    assert all(len(r.other_captions) == 4 for r in recs if r.source in ("rsicd", "rsitmd", "nwpu"))


def test_storage_tank_captions_match_the_drawn_layout():
    """Count and position words are what the image shows: white tanks counted by connected components."""
    from scipy import ndimage

    cls = SCENE_CLASSES[CLASS_NAMES.index("storage tanks")]
    for k in range(12):
        img, facts, sentences = render(cls, np.random.default_rng([5, k]))
        white = np.asarray(img).min(axis=2) > 215
        labels, n = ndimage.label(white)
        sizes = ndimage.sum(white, labels, range(1, n + 1))
        blobs = int((np.asarray(sizes) > 40).sum())
        assert blobs == facts["n"], (k, facts)
        ys, xs = np.nonzero(white)
        col, row = int(xs.mean() // CELL), int(ys.mean() // CELL)
        assert POSITIONS[row * 3 + col] == facts["pos"], (k, facts)
        assert sentences[0].startswith(num(facts["n"]) + " white storage tank")
        assert facts["pos"] in sentences[0]


def test_retrieval_is_learnable_but_not_trivial():
    """1-NN on 8x8 colour thumbnails recovers the class well above chance (1/20) but not perfectly."""
    feats, labels = [], []
    for c, cls in enumerate(SCENE_CLASSES):
        for j in range(12):
            img, _, _ = render(cls, np.random.default_rng([9, c, j]))
            feats.append(np.asarray(img.resize((8, 8), Image.BILINEAR), dtype=np.float32).ravel())
            labels.append(c)
    x, y = np.array(feats), np.array(labels)
    train = np.arange(len(y)) % 12 < 8
    d = ((x[~train][:, None] - x[train][None]) ** 2).sum(-1)
    acc = (y[train][d.argmin(1)] == y[~train]).mean()
    assert 0.4 < acc < 1.0, acc


def test_plan_is_balanced_and_validates():
    items = plan(200, seed=1)
    assert Counter(it["class"].name for it in items) == Counter({n: 10 for n in CLASS_NAMES})
    with pytest.raises(ValueError):
        plan(0, seed=0)


def test_cli_sample(tmp_path, capsys):
    from monoir_rs.cli import main

    assert main(["sample", "--out", str(tmp_path / "pool"), "--scenes", "30", "--seed", "2", "--no-progress"]) == 0
    assert "wrote 30 scenes" in capsys.readouterr().out
    assert json.loads((tmp_path / "pool" / "pool_summary.json").read_text())["seed"] == 2
    assert main(["sample", "--out", str(tmp_path / "p2"), "--scenes", "0"]) == 2
    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    assert "example" in capsys.readouterr().out
