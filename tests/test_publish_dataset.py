"""`monoir publish dataset --dry-run` on the sample build: the repo folder, the card, SHA256SUMS, withheld
restricted captions, and `datasets.load_dataset` on the written folder giving the same records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from monoir_rs.errors import UserError
from monoir_rs.publish.dataset import publish_dataset, restricted_sources

REPO = "monoir-test/monoir-rs"


def _parquets(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet") if ".work" not in p.parts}


@pytest.fixture(scope="module")
def published(built_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pub") / "repo"
    return built_data, publish_dataset(built_data, REPO, folder=folder, dry_run=True, progress=False)


def test_folder_card_and_checksums(published):
    from huggingface_hub import DatasetCard

    from monoir_rs.audit import verify_manifest
    from monoir_rs.publish.files import repo_files

    data, out = published
    folder = out["folder"]
    names = {p for p, _ in out["files"]}
    assert names == {"README.md", "LICENSE", "SHA256SUMS", "audit_report.json", "build_report.json",
                     "preview.png"} | _parquets(data)
    assert "](preview.png)" in (folder / "README.md").read_text()  # the card shows the preview it ships
    assert not any(n.startswith("raw/") for n in names)  # the raw release only on request
    assert str(folder / "README.md") in out["listing"] and "--include-raw" in out["listing"]
    # SHA256SUMS: every uploaded file except itself and the audit report it is checked by
    listed = {line.split("  ", 1)[1] for line in (folder / "SHA256SUMS").read_text().splitlines()}
    assert listed == names - {"SHA256SUMS", "audit_report.json"}
    check = verify_manifest(folder)
    assert check["present"] and not (check["mismatched"] or check["missing"] or check["unlisted"])
    assert {p for p, _ in repo_files(folder)} == names

    audit = json.loads((folder / "audit_report.json").read_text())
    assert audit["hard_failures"] == [] and audit["data_dir"] == REPO
    card = DatasetCard.load(folder / "README.md")
    meta = card.data.to_dict()
    assert meta["license"] == "other" and meta["task_categories"] and meta["size_categories"] == ["n<1K"]
    assert {c["config_name"] for c in meta["configs"]} >= {"all", "rs5m", "skyscript", "nwpu", "rsicd", "rsitmd",
                                                           "clean_test", "vlm_eval"}
    assert meta["dataset_info"]
    for name in restricted_sources():
        assert f"| {name} |" in card.text
    assert "left\nempty (null)" in card.text or "left empty (null)" in card.text
    assert f'load_dataset("{REPO}", "clean_test"' in card.text
    assert "NWPU" in (folder / "LICENSE").read_text()


def test_load_dataset_roundtrip_withholds_restricted_captions(published, tmp_path):
    """Loaded the way the card says; a private cache dir, since datasets keys its cache by folder name."""
    import datasets

    data, out = published
    restricted = set(restricted_sources())
    assert restricted == {"nwpu", "rsicd", "rsitmd"}  # the sources info.py marks (FusionRS finding)
    for config, split in (("clean_test", "test"), ("all", "train"), ("rsicd", "train")):
        src = datasets.load_dataset(str(data), config, split=split, cache_dir=str(tmp_path / "src"))
        pub = datasets.load_dataset(str(out["folder"]), config, split=split, cache_dir=str(tmp_path / "pub"))
        assert src.features == pub.features and len(src) == len(pub)
        withheld = 0
        for a, b in zip(src, pub, strict=True):
            assert a["id"] == b["id"] and a["caption"] == b["caption"] and a["image_path"] == b["image_path"]
            assert a["image"].tobytes() == b["image"].tobytes()
            if a["source"] in restricted:
                assert b["source_caption"] is None
                withheld += a["source_caption"] is not None
            else:
                assert b["source_caption"] == a["source_caption"]
        if config == "rsicd":
            assert withheld == len(src) > 0
    assert out["withheld"] > 0


def test_include_restricted_and_raw(built_data, tmp_path):
    import datasets

    out = publish_dataset(built_data, REPO, folder=tmp_path / "repo", dry_run=True, include_restricted=True,
                          include_raw=True, progress=False)
    folder = out["folder"]
    assert out["withheld"] == 0 and out["restricted"] == []
    a = datasets.load_dataset(str(built_data), "rsitmd", split="train", cache_dir=str(tmp_path / "a"))
    b = datasets.load_dataset(str(folder), "rsitmd", split="train", cache_dir=str(tmp_path / "b"))
    assert a["source_caption"] == b["source_caption"] and any(a["source_caption"])
    raw = {p.relative_to(built_data).as_posix() for p in (built_data / "raw").rglob("*") if p.is_file()}
    assert raw and raw <= {p for p, _ in out["files"]}
    assert (folder / "raw/records.jsonl").read_bytes() != b"" and "included here" in (folder / "README.md").read_text()

    # raw + restricted withheld: the JSONL records lose their restricted source captions too
    out = publish_dataset(built_data, REPO, folder=tmp_path / "repo2", dry_run=True, include_raw=True,
                          progress=False)
    recs = [json.loads(line) for line in (out["folder"] / "raw/records.jsonl").read_text().splitlines() if line]
    assert all(r["source_caption"] is None for r in recs if r["source"] in {"nwpu", "rsicd", "rsitmd"})
    assert any(r["source_caption"] for r in recs if r["source"] == "rs5m")


def test_refuses_a_dataset_with_hard_audit_failures(built_data, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(built_data, broken, ignore=shutil.ignore_patterns(".work", "raw"))
    for shard in (broken / "rsitmd").glob("*.parquet"):
        shard.unlink()  # a config listed in the card with no data: a layout failure
    with pytest.raises(UserError, match="hard failures"):
        publish_dataset(broken, REPO, folder=tmp_path / "repo", dry_run=True, progress=False)
    with pytest.raises(UserError, match="HF_HUB_OFFLINE"):  # an upload is refused up front when offline
        publish_dataset(built_data, REPO, folder=tmp_path / "repo", progress=False)
    with pytest.raises(UserError, match="build_report.json"):
        publish_dataset(tmp_path, REPO, folder=tmp_path / "x", dry_run=True)
