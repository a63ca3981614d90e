"""The Hub layout: README YAML, `write_config`, sharding, `monoir_rs.load`, loading by folder name."""

from __future__ import annotations

import json
import shutil

import datasets
import pytest
from huggingface_hub import DatasetCard

import monoir_rs
from monoir_rs import hub
from monoir_rs.errors import UserError
from monoir_rs.schema import instruct_features

datasets.disable_progress_bars()


@pytest.fixture()
def data_copy(built_data, tmp_path):
    """A private copy (tests here modify the dataset folder)."""
    dest = tmp_path / "monoir-rs"
    shutil.copytree(built_data, dest, ignore=shutil.ignore_patterns(".work"))
    return dest


def test_card_yaml_lists_configs_and_features(built_data):
    card = DatasetCard.load(built_data / "README.md")
    data = card.data.to_dict()
    configs = {c["config_name"]: c for c in data["configs"]}
    report = json.loads((built_data / "build_report.json").read_text())
    assert set(configs) == set(report["configs"])
    assert configs["all"].get("default") is True and sum(bool(c.get("default")) for c in configs.values()) == 1
    for name, cfg in configs.items():
        assert {f["split"] for f in cfg["data_files"]} == set(report["configs"][name])
    infos = {i["config_name"]: i for i in data["dataset_info"]}
    feats = {f["name"]: f for f in infos["clean_test"]["features"]}
    assert feats["image"]["dtype"] == "image" and feats["caption"]["dtype"] == "string"
    assert data["license"] and data["task_categories"] and data["size_categories"]
    assert "clean_test" in card.text and "Limitations" in card.text and "synthetic" in card.text
    assert hub.read_card_configs(built_data)["clean_test"] == ["test"]


def test_load_dataset_by_folder_name_from_parent(built_data, monkeypatch):
    assert built_data.name == "monoir-rs"
    monkeypatch.chdir(built_data.parent)
    ds = datasets.load_dataset("monoir-rs", "clean_test")
    report = json.loads((built_data / "build_report.json").read_text())
    assert len(ds["test"]) == report["clean_test"]["clean"]
    # the package API defaults to the same folder
    assert len(monoir_rs.load("clean_test", split="test")) == report["clean_test"]["clean"]


def test_load_errors_are_user_errors(built_data, tmp_path, monkeypatch):
    with pytest.raises(UserError, match="not in"):
        monoir_rs.load("nope", data=built_data)
    with pytest.raises(UserError, match="monoir instruct"):
        monoir_rs.load("vlm_instruct", data=built_data)
    with pytest.raises(UserError, match="no split"):
        monoir_rs.load("clean_test", split="train", data=built_data)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONOIR_RS_REPO", raising=False)
    with pytest.raises(UserError, match="MONOIR_RS_REPO"):
        monoir_rs.load("clean_test")
    monkeypatch.setenv("MONOIR_RS_REPO", "monoir-rs-test/not-a-repo")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    with pytest.raises(UserError, match="Hugging Face Hub"):
        monoir_rs.load("clean_test")


def test_write_config_adds_a_loadable_config(data_copy):
    base = datasets.load_dataset(str(data_copy), "all", split="train").select(range(6))
    rows = {"id": [], "record_id": [], "image": [], "image_path": [], "source": [], "scene_class": [], "task": [],
            "messages": []}
    for rec in base:
        rows["id"].append(rec["id"] + "-caption")
        rows["record_id"].append(rec["id"])
        rows["image"].append(rec["image"])
        for key in ("image_path", "source", "scene_class"):
            rows[key].append(rec[key])
        rows["task"].append("caption")
        rows["messages"].append([{"role": "user", "content": "Describe this infrared image."},
                                 {"role": "assistant", "content": rec["caption"]}])
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows, features=instruct_features())})
    written = hub.write_config(data_copy, "vlm_instruct", dd)
    assert written["train"]["num_examples"] == 6
    loaded = datasets.load_dataset(str(data_copy), "vlm_instruct", split="train")
    assert loaded["id"] == rows["id"] and loaded[0]["messages"][1]["role"] == "assistant"
    assert loaded[0]["image"].size == base[0]["image"].size
    assert hub.read_card_configs(data_copy)["vlm_instruct"] == ["train"]
    # the other configs still load, and re-rendering the card keeps vlm_instruct
    assert len(datasets.load_dataset(str(data_copy), "clean_test", split="test")) > 0
    report = json.loads((data_copy / "build_report.json").read_text())
    hub.write_card(data_copy, report)
    assert "vlm_instruct" in hub.read_card_configs(data_copy)
    assert len(datasets.load_dataset(str(data_copy), "vlm_instruct", split="train")) == 6
    from monoir_rs.audit import verify_manifest

    manifest = verify_manifest(data_copy)  # write_config refreshed it
    assert manifest["present"] and not manifest["mismatched"] and not manifest["missing"]


def test_shards_are_bounded_and_named(data_copy):
    splits = hub.export_config(data_copy, "all", max_shard_size=20_000, progress=False)
    files = splits["train"]["files"]
    assert len(files) > 1
    n = len(files)
    assert files == [f"all/train-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
    assert sorted(p.name for p in (data_copy / "all").glob("train-*")) == [f.split("/")[1] for f in files]
    ds = datasets.load_dataset(str(data_copy), "all", split="train")
    assert len(ds) == splits["train"]["num_examples"]


def test_card_include_restricted_flag(built_data):
    report = json.loads((built_data / "build_report.json").read_text())
    full = hub.render_card(report, include_restricted=True)
    public = hub.render_card(report, include_restricted=False, repo_id="someone/monoir-rs")
    for text in (full, public):
        assert text.startswith("---\n") and "configs:" in text and "dataset_info:" in text
    assert 'load_dataset("someone/monoir-rs"' in public
