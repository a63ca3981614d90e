"""monoir-eval end to end on tiny models (both adapter families) and the built sample dataset."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from harness.cli import main as eval_main
from harness.context import RunContext
from harness.registry import get_task, load_model
from harness.runner import run_eval
from monoir_rs.cli import main as monoir_main

KEYS = ("i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10", "mR")


def _common(data, out, cache):
    return ["--data", str(data), "--output", str(out), "--cache-dir", str(cache), "--no-progress", "--quiet",
            "--bootstrap", "100", "--num-workers", "1", "--batch-size", "16"]


def _clean_test(data):
    from monoir_rs.hub import load

    return load("clean_test", "test", data)


def test_transformers_clip_end_to_end(built_data, tiny_models, tmp_path):
    out = tmp_path / "run"
    rc = eval_main(["--model", str(tiny_models("clip")), "--tasks", "retrieval", *_common(built_data, out, tmp_path / "c")])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    assert res["schema_version"] == 1 and res["model"]["family"] == "clip"
    assert res["model"]["backend"] == "transformers" and res["model"]["revision"]
    assert res["dataset"]["fingerprint"] and {"torch", "transformers", "datasets"} <= set(res["versions"])
    assert res["args"]["tasks"] == "retrieval" and "keywords_version" not in res
    block = res["tasks"]["retrieval"]
    n = len(_clean_test(built_data))
    assert block["n"] == n and block["n_captions"] == n
    m = block["metrics"]
    assert set(m) == set(KEYS) and all(0 <= m[k] <= 100 for k in KEYS)
    assert m["mR"] == pytest.approx(np.mean([m[k] for k in KEYS[:-1]]))
    assert set(block["ci95"]) == set(KEYS)
    assert sum(b["n"] for b in block["per_source"].values()) == n
    # the per-query log reproduces the pooled metrics
    lines = [json.loads(x) for x in (out / block["samples"]).read_text().splitlines()]
    i2t = np.array([x["rank"] for x in lines if x["direction"] == "i2t"])
    t2i = np.array([x["rank"] for x in lines if x["direction"] == "t2i"])
    assert len(i2t) == len(t2i) == n
    assert m["i2t_r5"] == pytest.approx(100 * np.mean(i2t <= 5))
    assert m["t2i_r10"] == pytest.approx(100 * np.mean(t2i <= 10))
    md = (out / "results.md").read_text()
    assert "i2t_r1" in md and "rs5m" in md and "95% CI" in md
    from PIL import Image

    with Image.open(out / "results.png") as fig:  # the R@k bars, pooled and per source
        assert fig.format == "PNG" and fig.width > 600


def test_open_clip_end_to_end_via_monoir_eval(built_data, tiny_models, tmp_path):
    path = tiny_models("open_clip")
    out = tmp_path / "oc"
    rc = monoir_main(["eval", "--model", f"local-dir:{path}", "--tasks", "retrieval", "--limit", "20",
                      *_common(built_data, out, tmp_path / "c")])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    assert res["model"]["backend"] == "open_clip" and res["tasks"]["retrieval"]["n"] == 20
    # a plain folder with open_clip_config.json is detected as open_clip too, with identical numbers
    out2 = tmp_path / "oc2"
    assert eval_main(["--model", str(path), "--tasks", "retrieval", "--limit", "20",
                      *_common(built_data, out2, tmp_path / "c2")]) == 0
    res2 = json.loads((out2 / "results.json").read_text())
    assert res2["tasks"]["retrieval"]["metrics"] == res["tasks"]["retrieval"]["metrics"]


def test_second_run_hits_cache(built_data, tiny_models, tmp_path):
    """Count real forward passes of the vision and text towers with hooks: the second run does none."""
    clip = load_model(str(tiny_models("clip")))
    calls = {"vision": 0, "text": 0}
    clip.model.vision_model.register_forward_hook(lambda *a: calls.__setitem__("vision", calls["vision"] + 1))
    clip.model.text_model.register_forward_hook(lambda *a: calls.__setitem__("text", calls["text"] + 1))
    opts = dict(data=built_data, cache_dir=tmp_path / "cache", progress=False, bootstrap=0, limit=30, batch_size=8)
    first = run_eval(clip, "retrieval", output=tmp_path / "a", **opts)
    assert calls["vision"] > 0 and calls["text"] > 0
    seen = dict(calls)
    second = run_eval(clip, "retrieval", output=tmp_path / "b", **opts)
    assert calls == seen, "second run re-encoded despite the cache"
    assert second["tasks"]["retrieval"]["timing"]["image_cache_hit"] is True
    assert second["tasks"]["retrieval"]["metrics"] == first["tasks"]["retrieval"]["metrics"]
    run_eval(clip, "retrieval", output=tmp_path / "c", **{**opts, "use_cache": False})
    assert calls["vision"] > seen["vision"]


def test_per_source_equals_pooled_run_restricted_to_that_source(built_data, tiny_models, tmp_path):
    from harness.evaluators.retrieval import evaluate

    clip = load_model(str(tiny_models("open_clip")))
    task = get_task("retrieval")
    ds = _clean_test(built_data)
    ctx = RunContext(output_dir=tmp_path / "o", bootstrap=0, progress=False, use_cache=False, batch_size=16)
    full = evaluate(task, clip, ds, ctx)
    assert len(full["per_source"]) >= 3
    for source, block in full["per_source"].items():
        alone = evaluate(task, clip, ds.filter(lambda r, s=source: r["source"] == s), ctx)
        assert alone["n"] == block["n"]
        assert alone["metrics"] == pytest.approx(block["metrics"])


def test_compare_command_and_flag(built_data, tiny_models, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    common = ["--tasks", "retrieval", "--limit", "24"]
    assert eval_main(["--model", str(tiny_models("clip")), *common, *_common(built_data, a, tmp_path / "c")]) == 0
    assert eval_main(["--model", str(tiny_models("open_clip")), *common, *_common(built_data, b, tmp_path / "c"),
                      "--compare-to", str(a / "results.json")]) == 0
    assert monoir_main(["compare", str(a / "results.json"), str(b), "--output", str(tmp_path / "cmp")]) == 0
    cmp = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    ra = json.loads((a / "results.json").read_text())["tasks"]["retrieval"]["metrics"]
    rb = json.loads((b / "results.json").read_text())["tasks"]["retrieval"]["metrics"]
    for k in KEYS:
        assert cmp["tasks"]["retrieval"]["metrics"][k]["delta"] == pytest.approx(rb[k] - ra[k])
    assert json.loads((b / "comparison.json").read_text()) == cmp
    assert "Δ" in (tmp_path / "cmp" / "comparison.md").read_text()
    assert (tmp_path / "cmp" / "comparison.png").stat().st_size > 0 and (b / "comparison.png").is_file()


def test_compare_names_the_adapter():
    from harness.report import compare

    block = {"n": 1, "metrics": {"mR": 1.0}}
    base = {"model": {"name": "m", "adapter": None}, "tasks": {"retrieval": block}}
    tuned = {"model": {"name": "m", "adapter": "runs/lora"}, "tasks": {"retrieval": block}}
    cmp = compare(base, tuned)
    assert (cmp["a"], cmp["b"]) == ("m", "m + runs/lora")


def test_user_errors(built_data, tiny_models, tmp_path, capsys):
    common = _common(built_data, tmp_path / "x", tmp_path / "c")
    assert eval_main(["--model", str(tiny_models("clip")), "--tasks", "nope", *common]) == 2
    err = capsys.readouterr().err
    assert "unknown task 'nope'" in err and "retrieval" in err and "vlm" in err
    assert eval_main(["--model", "no-such-model-xyz", "--tasks", "retrieval", *common]) == 2
    err = capsys.readouterr().err
    assert "openai-clip-vit-b-32" in err  # the alias list
    assert eval_main(["--model", str(tiny_models("clip")), "--tasks", "caption", *common]) == 2
    assert "need a vlm model" in capsys.readouterr().err
    assert eval_main(["--model", str(tiny_models("clip")), "--tasks", "retrieval", *common,
                      "--data", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_model_options_reach_the_loader(built_data, tiny_models, tmp_path, capsys):
    from harness.registry import load_model

    vlm = load_model(str(tiny_models("qwen2_5_vl")), min_pixels=28 * 28, max_pixels=28 * 28 * 4)
    size = vlm.processor.image_processor.size
    assert (size["shortest_edge"], size["longest_edge"]) == (28 * 28, 28 * 28 * 4)
    common = _common(built_data, tmp_path / "x", tmp_path / "c")
    assert eval_main(["--model", str(tiny_models("clip")), "--tasks", "retrieval", "--max-pixels", "9", *common]) == 2
    assert "Qwen-VL models only" in capsys.readouterr().err


def test_no_progress_quiets_the_libraries(monkeypatch):
    import datasets
    import huggingface_hub.utils as hf_utils

    from monoir_rs.console import quiet_libraries

    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    monkeypatch.delenv("HF_DATASETS_DISABLE_PROGRESS_BARS", raising=False)
    datasets.enable_progress_bars()
    hf_utils.enable_progress_bars()
    try:
        quiet_libraries()
        assert not datasets.is_progress_bar_enabled() and hf_utils.are_progress_bars_disabled()
        assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"  # for libraries imported later
    finally:
        datasets.disable_progress_bars()  # the suite runs quiet
