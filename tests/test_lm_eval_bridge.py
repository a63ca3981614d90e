"""lm-eval bridge: generated YAMLs are current, their prompts are the registry's, and greedy generations through
`lm_eval --model hf-multimodal` equal our runner's on the same tiny models."""

from __future__ import annotations

import json

import pytest

from harness.context import RunContext
from harness.evaluators.generation import evaluate
from harness.lm_eval_bridge import expected_files
from harness.registry import get_task, load_tasks

pytestmark = pytest.mark.one_thread

lm_eval = pytest.importorskip("lm_eval", reason="lm-eval is a declared dependency; install it with the package")




@pytest.fixture(scope="module")
def hub_data(tmp_path_factory):
    """A Hub-layout folder with only the vlm_eval config (6 records), written by monoir_rs.hub.write_config."""
    import datasets
    from vlm_data import make_dataset

    from monoir_rs.hub import write_config

    d = tmp_path_factory.mktemp("lme") / "monoir-rs"
    d.mkdir()
    (d / "README.md").write_text("---\n---\n# test data\n")
    write_config(d, "vlm_eval", datasets.DatasetDict({"test": make_dataset(6)}))
    return d


@pytest.fixture(scope="module")
def task_manager(hub_data):
    """Only our tasks (indexing lm-eval's thousands of built-in YAMLs takes ~20 s on the test box)."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(get_task("caption").path.parent / "lm_eval"), include_defaults=False,
                       metadata={"data": str(hub_data)})


def test_yaml_files_are_generated_from_the_registry():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "tasks" / "lm_eval"
    expected = expected_files()
    assert {p.name for p in folder.iterdir() if p.suffix in (".yaml", ".py")} == set(expected)
    for name, text in expected.items():
        assert (folder / name).read_text() == text, f"{name} is stale: run python -m harness.lm_eval_bridge"


def test_lm_eval_tasks_use_registry_prompts(task_manager):
    names = [t.name for t in load_tasks().values() if t.family == "generation"]
    assert len(names) == 7
    found = task_manager.load([f"monoir_{n}" for n in names])["tasks"]
    assert set(found) == {f"monoir_{n}" for n in names}
    for n in names:
        task = found[f"monoir_{n}"]
        doc = task.test_docs()[0]
        assert task.doc_to_text(doc) == "<image>" + get_task(n).prompt
        assert task.config.generation_kwargs["max_gen_toks"] == get_task(n).generation["max_new_tokens"]


@pytest.mark.parametrize("kind,batch", [("llava", 2), ("qwen2_5_vl", 1)])
def test_greedy_parity_with_lm_eval(tiny_models, hub_data, task_manager, tmp_path, kind, batch):
    from harness.models.vlm import load_vlm
    from monoir_rs import load

    model_dir = tiny_models(kind)
    res = lm_eval.simple_evaluate(model="hf-multimodal", model_args=f"pretrained={model_dir},dtype=float32",
                                  tasks=["monoir_caption"], task_manager=task_manager, apply_chat_template=True,
                                  batch_size=batch, log_samples=True, device="cpu")
    theirs = {s["doc"]["id"]: s["filtered_resps"][0].strip() for s in res["samples"]["monoir_caption"]}

    block = evaluate(get_task("caption"), load_vlm(str(model_dir)), load("vlm_eval", "test", str(hub_data)),
                     RunContext(output_dir=tmp_path, batch_size=batch, progress=False, bootstrap=0))
    ours = {json.loads(x)["id"]: json.loads(x)["generation"] for x in (tmp_path / block["samples"]).read_text().splitlines()}
    assert ours == theirs and len(ours) == 6
    r = res["results"]["monoir_caption"]
    for m in ("ir_cue_rate", "rgb_color_rate", "overclaim_rate", "class_hit_rate", "avg_words", "bleu4",
              "rouge_l", "cider"):
        assert r[f"{m},none"] == pytest.approx(block["metrics"][m]), m
