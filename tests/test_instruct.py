"""Instruction data G_xi / h_xi (paper §4.2, eq. 11, Table 17/21) and its split hygiene."""

from __future__ import annotations

import shutil

import datasets
import pytest

from harness.registry import get_task
from monoir_rs import hub
from monoir_rs.audit import audit
from monoir_rs.errors import UserError
from monoir_rs.keywords import K_IR, K_OVER, K_RGB, has_keyword
from monoir_rs.train.instruct import (
    TASKS,
    build_instruct,
    check_no_leaks,
    image_hash,
    make_answer,
    make_conversations,
    passes_filter,
)


@pytest.fixture()
def data_copy(built_data, tmp_path):
    """A private copy of the built sample dataset (instruct writes a config into it)."""
    dest = tmp_path / "monoir-rs"
    shutil.copytree(built_data, dest)
    return dest


def _raw(ds):
    return ds.cast_column("image", datasets.Image(decode=False))


def test_answers_follow_table21_shapes():
    cap = "An infrared image of a dark river crossing bright fields with trees."
    a = {t: make_answer(t, cap, "river", "airport") for t in TASKS}
    assert a["caption"] == cap
    assert a["scene"].startswith("River; ")
    assert a["object"] == "River, fields, and trees are visible."
    assert a["hard_scene"].startswith("River; ") and "an airport" in a["hard_scene"]
    assert a["hard_negative"].startswith("Airport; ") and "less likely" in a["hard_negative"]
    for t in ("ir_cue", "evidence"):
        assert has_keyword(a[t], K_IR) and "river" in a[t]
    # no class: the class-bound prompt types are not generated, the others are
    assert make_answer("scene", cap, None, None) is None and make_answer("hard_negative", cap, None, None) is None
    assert make_answer("ir_cue", cap, None, None)
    assert make_answer("caption", "  ", "river", "lake") is None


def test_filter_h_xi():
    assert passes_filter("Dark water beside bright sand.")
    assert not passes_filter("")
    assert not passes_filter("A green field.")                  # K_RGB
    assert not passes_filter("A hot roof with a heat signature.")  # K_over
    assert not passes_filter("   ")


def test_build_writes_train_only_conversations(data_copy):
    summary = build_instruct(data_copy, size=200, seed=0, progress=False)
    ds = hub.load("vlm_instruct", "train", data_copy)
    assert len(ds) == summary["conversations"] == 200
    assert set(ds.column_names) == {"id", "record_id", "image", "image_path", "source", "scene_class", "task",
                                   "messages"}
    prompts = {t: get_task(t).prompt for t in TASKS}
    assert set(ds["task"]) == set(TASKS)
    counts = summary["per_task"]
    assert max(counts.values()) - min(counts.values()) <= 1          # balanced mixture
    train_ids = set(hub.load("all", "train", data_copy)["id"])
    for row in ds:
        user, bot = row["messages"]
        assert user == {"role": "user", "content": prompts[row["task"]]}   # Table 17 verbatim
        assert bot["role"] == "assistant" and passes_filter(bot["content"])
        assert not has_keyword(bot["content"], K_RGB) and not has_keyword(bot["content"], K_OVER)
        assert row["id"].rsplit("-", 1)[0] in train_ids
    held = set()
    for split in ("validation", "test"):
        held |= set(hub.load("all", split, data_copy)["id"])
    assert not {i.rsplit("-", 1)[0] for i in ds["id"]} & held
    held_hashes = {image_hash(r["image"]) for s in ("validation", "test") for r in _raw(hub.load("all", s, data_copy))}
    assert not {image_hash(r["image"]) for r in _raw(ds)} & held_hashes


def test_size_is_capped_and_seeded(data_copy):
    ds1, s1 = make_conversations(data_copy, size=10**6, seed=0, progress=False)
    assert s1["conversations"] == s1["available"] < 10**6
    a, _ = make_conversations(data_copy, size=50, seed=1, progress=False)
    b, _ = make_conversations(data_copy, size=50, seed=1, progress=False)
    c, _ = make_conversations(data_copy, size=50, seed=2, progress=False)
    assert a["id"] == b["id"] and a["id"] != c["id"]
    with pytest.raises(UserError):
        make_conversations(data_copy, size=0)


def test_train_image_equal_to_a_test_image_is_dropped(data_copy):
    """Split hygiene by content: a train record carrying a test image (new id) must not reach vlm_instruct."""
    splits = {s: _raw(hub.load("all", s, data_copy)) for s in ("train", "validation", "test")}
    test_row = splits["test"][0]   # the same image file (bytes) under a new train id
    leak = dict(splits["train"][0], id="leaky-copy", image={"bytes": test_row["image"]["bytes"], "path": None})
    splits["train"] = datasets.concatenate_datasets(
        [splits["train"], datasets.Dataset.from_list([leak], features=splits["train"].features)])
    hub.write_config(data_copy, "all", datasets.DatasetDict(splits))
    summary = build_instruct(data_copy, size=10**6, progress=False)
    assert summary["dropped_held_out_overlap"] == 1 and summary["dropped_examples"] == ["leaky-copy"]
    ds = hub.load("vlm_instruct", "train", data_copy)
    assert not any(i.startswith("leaky-copy-") for i in ds["id"])
    # and the checker itself catches a leak
    row = _raw(ds)[0]
    bad = datasets.Dataset.from_list([{**row, "id": "x-caption", "image": test_row["image"]}],
                                     features=_raw(ds).features)
    with pytest.raises(UserError, match="held-out"):
        check_no_leaks(bad, data_copy)


def test_cli(data_copy, capsys):
    from monoir_rs.cli import main

    assert main(["instruct", "--data", str(data_copy), "--size", "30", "--no-progress"]) == 0
    assert '"conversations": 30' in capsys.readouterr().out
    # the built config passes the dataset audit: each conversation names its train image in `record_id`
    report = audit(data_copy, near_dup=False)
    assert report["instruct_leakage"]["count"] == 0, report["hard_failures"]
    ds = hub.load("vlm_instruct", "train", data_copy)
    assert all(i == f"{r}-{t}" for i, r, t in zip(ds["id"], ds["record_id"], ds["task"], strict=True))
    assert main(["instruct", "--data", str(data_copy / "nope")]) == 2
