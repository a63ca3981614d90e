"""Task registry: tasks/*.yaml, groups, overrides and clear errors; alias table."""

from __future__ import annotations

import pytest

from harness.models.aliases import ALIASES, alias_table, resolve_alias
from harness.registry import TaskConfig, get_task, load_tasks, resolve_tasks
from monoir_rs.errors import UserError

VLM_TASKS = {"caption", "scene", "object", "ir_cue", "evidence", "hard_scene", "hard_negative"}


def test_retrieval_task_definition():
    t = get_task("retrieval")
    assert (t.family, t.dataset.config, t.dataset.split, t.model_family) == ("retrieval", "clean_test", "test", "clip")
    assert t.metrics == ["i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10", "mR"]
    assert t.options["group_by"] == "image_path"


def test_groups():
    tasks = load_tasks()
    assert "retrieval" in tasks
    vlm = {t.name for t in resolve_tasks("vlm")}
    assert vlm == {n for n, t in tasks.items() if t.family == "generation"}
    assert VLM_TASKS <= vlm  # the seven VLM tasks of SPEC §4
    assert {t.name for t in resolve_tasks("all")} == set(tasks)
    assert [t.name for t in resolve_tasks("retrieval,retrieval")] == ["retrieval"]


def test_unknown_task_lists_what_exists():
    with pytest.raises(UserError) as err:
        resolve_tasks("retrieval,nope")
    msg = str(err.value)
    assert "nope" in msg and "retrieval" in msg and "vlm" in msg and "all" in msg


def test_tasks_path_override_and_options(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").write_text(
        "name: mine\nfamily: retrieval\ndataset: {config: rsicd}\ngroup_by: id\noptions: {chunk: 3}\n")
    monkeypatch.setenv("MONOIR_TASKS_PATH", str(tmp_path))
    assert list(load_tasks()) == ["mine"]
    t = get_task("mine")
    assert t.dataset.split == "test" and t.options == {"chunk": 3, "group_by": "id"}


@pytest.mark.parametrize("raw,match", [
    ({"name": "x", "family": "vqa", "dataset": {"config": "all"}}, "family"),
    ({"name": "x", "family": "retrieval"}, "dataset"),
    ({"name": "x", "family": "generation", "dataset": {"config": "vlm_eval"}, "metrics": "bleu"}, "metrics"),
])
def test_bad_task_files(raw, match):
    with pytest.raises(UserError, match=match):
        TaskConfig.from_dict(raw)


def test_bad_yaml_is_a_user_error(tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    monkeypatch.setenv("MONOIR_TASKS_PATH", str(tmp_path))
    with pytest.raises(UserError, match="bad.yaml"):
        load_tasks()


def test_alias_table_matches_spec():
    assert len(ALIASES) == 11
    assert resolve_alias("RemoteCLIP-ViT-B-32").arch == "ViT-B-32-quickgelu"
    assert resolve_alias("georsclip-vit-b-32").filename == "ckpt/RS5M_ViT-B-32.pt"
    assert resolve_alias("qwen2.5-vl-7b").family == "vlm"
    assert resolve_alias("h2rsvlm-7b").needs_conversion and not resolve_alias("llava-1.5-7b").needs_conversion
    assert "llava-hf/llava-v1.6-vicuna-7b-hf" in alias_table()
