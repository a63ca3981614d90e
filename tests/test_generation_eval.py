"""Generation evaluator: per-sample log, metrics recomputed independently, failures counted, kill + resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from vlm_data import make_dataset

from harness.context import RunContext
from harness.evaluators.generation import evaluate, read_samples
from harness.metrics.lexical import lexical_metrics
from harness.metrics.semantic import caption_metrics, scene_metrics
from harness.registry import TaskConfig, get_task
from monoir_rs.errors import UserError

pytestmark = pytest.mark.one_thread

ROOT = Path(__file__).resolve().parents[1]

# Paper Table 17, verbatim.
TABLE17 = {
    "caption": "Describe this infrared remote-sensing image in one concise sentence.",
    "scene": "Classify the scene type in this infrared remote-sensing image. Answer with the scene name and one "
             "short visual reason.",
    "object": "List the main visible objects or land-cover elements in this infrared remote-sensing image.",
    "ir_cue": "Explain the infrared visual cues that support your interpretation of this image.",
    "evidence": "What visible infrared evidence supports the scene interpretation?",
    "hard_scene": "Choose the most likely scene class for this infrared image and explain why it is not a "
                  "confusing alternative.",
    "hard_negative": "Describe one plausible wrong scene label for this image and explain why that label is less "
                     "likely.",
}
def task(name="caption", max_new_tokens=12):
    t = get_task(name)
    return TaskConfig.from_dict({"name": t.name, "family": "generation", "dataset": {"config": "vlm_eval"},
                                 "prompt": t.prompt, "metrics": t.metrics,
                                 "generation": {"max_new_tokens": max_new_tokens}})




@pytest.fixture(scope="module")
def llava(tiny_models):
    from harness.models.vlm import load_vlm

    return load_vlm(str(tiny_models("llava")))


def test_task_prompts_are_table17_verbatim():
    for name, prompt in TABLE17.items():
        t = get_task(name)
        assert t.prompt == prompt and t.family == "generation"
        assert (t.dataset.config, t.dataset.split) == ("vlm_eval", "test")
        assert 16 <= t.generation["max_new_tokens"] <= 256


def test_evaluate_logs_and_scores(llava, tmp_path):
    ds = make_dataset(7)
    ctx = RunContext(output_dir=tmp_path, batch_size=3, progress=False, bootstrap=200)
    block = evaluate(task("scene"), llava, ds, ctx)
    lines = [json.loads(x) for x in (tmp_path / block["samples"]).read_text().splitlines()]
    assert block["n"] == 7 and block["n_failed"] == 0 and len(lines) == 7
    assert [ln["id"] for ln in lines] == [f"img{i:03d}" for i in range(7)]
    assert all(ln["prompt"] == llava.render(TABLE17["scene"]) for ln in lines)
    gens, classes = [ln["generation"] for ln in lines], [ln["scene_class"] for ln in lines]
    # Metrics equal an independent recomputation from the logged generations.
    ref = lexical_metrics(gens, classes)
    for k in ("ir_cue_rate", "rgb_color_rate", "overclaim_rate", "class_hit_rate", "avg_words", "empty_rate"):
        assert block["metrics"][k] == pytest.approx(ref[k])
    sm = scene_metrics(gens, classes)
    assert block["metrics"]["scene_accuracy"] == pytest.approx(sm["scene_accuracy"])
    assert block["metrics"]["scene_n"] == 6
    # Same generations one by one (batching with padding must not change greedy output).
    single = [llava.generate([img], [TABLE17["scene"]], 12)[0]
              for img in (ds[i]["image"] for i in range(7))]
    assert single == gens
    for k, (lo, hi) in block["ci95"].items():
        assert lo <= block["metrics"][k] + 1e-9 and block["metrics"][k] <= hi + 1e-9, k


def test_caption_reference_metrics(llava, tmp_path):
    ds = make_dataset(4)
    block = evaluate(task("caption"), llava, ds, RunContext(output_dir=tmp_path, batch_size=4, progress=False,
                                                            bootstrap=50))
    lines = [json.loads(x) for x in (tmp_path / block["samples"]).read_text().splitlines()]
    ref = caption_metrics([ln["generation"] for ln in lines], [ln["reference"] for ln in lines])
    for k in ("bleu4", "rouge_l", "cider"):
        assert block["metrics"][k] == pytest.approx(ref[k])


def test_bad_image_and_generation_error_are_counted(tiny_models, tmp_path):
    import datasets
    from PIL import Image

    from harness.models.vlm import load_vlm

    qwen = load_vlm(str(tiny_models("qwen2_5_vl")))
    ds = make_dataset(5, bad=(1,))
    rows = ds.to_dict()
    import io
    buf = io.BytesIO()
    Image.new("RGB", (2000, 5)).save(buf, format="PNG")  # Qwen refuses aspect ratios > 200: a generation error
    rows["image"][3] = {"bytes": buf.getvalue(), "path": None}
    ds = datasets.Dataset.from_dict(rows, features=ds.features)
    block = evaluate(task("caption", 6), qwen, ds, RunContext(output_dir=tmp_path, batch_size=5, progress=False,
                                                              bootstrap=0))
    assert block["n"] == 3 and block["n_failed"] == 2
    errs = {f["id"]: f["error"] for f in block["failures"]}
    assert errs["img001"].startswith("bad image") and errs["img003"].startswith("generation failed")
    assert "aspect ratio" in errs["img003"]


def test_other_settings_in_same_folder_refused(llava, tmp_path):
    ds = make_dataset(2)
    ctx = RunContext(output_dir=tmp_path, batch_size=2, progress=False, bootstrap=0)
    evaluate(task("caption", 8), llava, ds, ctx)
    with pytest.raises(UserError, match="another model or other settings"):
        evaluate(task("caption", 9), llava, ds, ctx)


RUNNER = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(1)
    import datasets
    from harness.context import RunContext
    from harness.evaluators.generation import evaluate
    from harness.models.vlm import load_vlm
    from harness.registry import TaskConfig
    model_dir, data_dir, out = sys.argv[1:4]
    t = TaskConfig.from_dict({"name": "caption", "family": "generation", "dataset": {"config": "vlm_eval"},
                              "prompt": %r, "metrics": ["ir_cue_rate"], "generation": {"max_new_tokens": 16}})
    evaluate(t, load_vlm(model_dir), datasets.load_from_disk(data_dir),
             RunContext(output_dir=out, batch_size=2, progress=False, bootstrap=0))
""") % TABLE17["caption"]


def test_killed_run_resumes_identically(tiny_models, tmp_path):
    from harness.models.vlm import load_vlm

    model_dir = tiny_models("qwen2_5_vl")
    ds = make_dataset(40)
    ds.save_to_disk(tmp_path / "data")
    script = tmp_path / "run.py"
    script.write_text(RUNNER)
    out = tmp_path / "killed"
    samples = out / "samples_caption.jsonl"
    proc = subprocess.Popen([sys.executable, str(script), str(model_dir), str(tmp_path / "data"), str(out)],
                            cwd=ROOT, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if samples.exists() and len(samples.read_text().splitlines()) >= 4:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = read_samples(samples)
    assert 4 <= len(partial) < 40, "the run was not interrupted half-way"

    t = TaskConfig.from_dict({"name": "caption", "family": "generation", "dataset": {"config": "vlm_eval"},
                              "prompt": TABLE17["caption"], "metrics": ["ir_cue_rate"],
                              "generation": {"max_new_tokens": 16}})
    model = load_vlm(str(model_dir))
    import datasets
    data = datasets.load_from_disk(tmp_path / "data")
    calls = []
    orig = model.generate
    model.generate = lambda ims, ps, n, **kw: calls.append(len(ims)) or orig(ims, ps, n, **kw)
    resumed = evaluate(t, model, data, RunContext(output_dir=out, batch_size=2, progress=False, bootstrap=0))
    assert sum(calls) == 40 - len(partial)            # finished samples were skipped
    model.generate = orig
    fresh = evaluate(t, model, data, RunContext(output_dir=tmp_path / "fresh", batch_size=2, progress=False,
                                                bootstrap=0))
    assert resumed["metrics"] == fresh["metrics"] and resumed["n"] == 40
    a = {k: v["generation"] for k, v in read_samples(samples).items()}
    b = {k: v["generation"] for k, v in read_samples(tmp_path / "fresh" / "samples_caption.jsonl").items()}
    assert a == b


def test_torn_last_line_is_dropped(tmp_path):
    p = tmp_path / "samples_x.jsonl"
    p.write_text('{"id": "a", "generation": "x"}\n{"id": "b", "gener')
    assert list(read_samples(p)) == ["a"]
    assert p.read_text() == '{"id": "a", "generation": "x"}\n'
