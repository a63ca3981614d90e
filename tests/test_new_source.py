"""Extending the corpus with a source of one's own (mission 4): a `*.jsonl` folder next to the release's
sources builds into its own per-source config, with the gate's hash split for items without a split, and the
dataset loads, audits and gets a card row like the release's sources."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import numpy as np
import pytest
from PIL import Image

from monoir_rs import gate
from monoir_rs.audit import audit
from monoir_rs.build import build
from monoir_rs.errors import UserError
from monoir_rs.schema import is_source_name
from monoir_rs.sources import detect_sources, iter_pool
from monoir_rs.sources.base import BadItem

datasets.disable_progress_bars()
N_OWN = 30


def _own_source(folder: Path, n: int = N_OWN) -> None:
    """A UAV collection of our own: half the lines name a split, half leave it to the build."""
    rng = np.random.default_rng(3)
    (folder / "img").mkdir(parents=True)
    with open(folder / "uav.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            pixels = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
            pixels[: 8 + i % 30, :, 0] = 255  # a red band of varying height, so images differ
            Image.fromarray(pixels).save(folder / "img" / f"{i:03d}.png")
            rec = {"id": f"{i:03d}", "image": f"img/{i:03d}.png", "scene_class": "parking lot",
                   "caption": f"a grey parking lot with {i} red cars beside a green lawn"}
            if i % 2:
                rec["split"] = "train"
            fh.write(json.dumps(rec) + "\n")


@pytest.fixture(scope="module")
def extended(sample_pool, tmp_path_factory) -> Path:
    pool = tmp_path_factory.mktemp("ext_pool")
    shutil.copytree(sample_pool / "rsicd", pool / "rsicd")
    _own_source(pool / "my_uav")
    out = tmp_path_factory.mktemp("ext") / "monoir-rs"
    build(pool, out, progress=False)
    return out


def test_source_names():
    assert is_source_name("my_uav") and is_source_name("rsicd") and is_source_name("s2")
    for bad in ("all", "clean_test", "vlm_eval", "My-UAV", "", "a b", "_x", None):
        assert not is_source_name(bad), bad
    assert gate.record_reason("my_uav", "my_uav/img/1.png", "train") is None
    assert gate.record_reason("Bad-Name", "x/1.png", "train") == "unknown_source"


def test_reader_passes_missing_split_and_flags_unknown_split(tmp_path):
    _own_source(tmp_path / "pool" / "my_uav", n=4)
    with open(tmp_path / "pool" / "my_uav" / "uav.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "x", "image": "img/000.png", "caption": "a road", "split": "holdout"}) + "\n")
    items = list(iter_pool(tmp_path / "pool"))
    records = [i for i in items if not isinstance(i, BadItem)]
    assert [r.split for r in records] == [None, "train", None, "train"]
    bad = [i for i in items if isinstance(i, BadItem)]
    assert len(bad) == 1 and bad[0].reason == "unknown_split" and "holdout" in bad[0].detail


def test_bad_folder_name_is_a_clear_error(tmp_path):
    _own_source(tmp_path / "pool" / "My-UAV", n=2)
    with pytest.raises(UserError, match="My-UAV.*rename"):
        detect_sources(tmp_path / "pool")


def test_own_source_builds_into_its_own_config(extended):
    report = json.loads((extended / "build_report.json").read_text())
    assert sum(report["counts"]["my_uav"].values()) == N_OWN and report["n_rejected"] == 0
    assert {"all", "rsicd", "my_uav", "clean_test"} <= set(report["configs"])
    own = datasets.load_dataset(str(extended), "my_uav")
    assert sum(len(d) for d in own.values()) == N_OWN
    assert {r["source"] for d in own.values() for r in d} == {"my_uav"}
    for split, d in own.items():
        assert len(d) == report["counts"]["my_uav"][split]
        for rec in d:  # the source's own split where given (odd ids), the gate's hash split otherwise
            expected = "train" if int(rec["id"].rsplit("-", 1)[1]) % 2 else gate.hash_split(rec["id"])
            assert rec["split"] == split == expected
            assert "red" not in rec["caption"] and "green" not in rec["caption"]
    assert audit(extended, near_dup=False)["ok"]
    card = (extended / "README.md").read_text()
    assert "config_name: my_uav" in card and "my_uav" in card.split("---", 2)[2]
