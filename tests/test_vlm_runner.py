"""The one VLM runner on tiny Qwen2.5-VL, LLaVA, LLaVA-NeXT and InstructBLIP: rendering, trimming, batching,
determinism, dtype rules and PEFT adapters."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from harness.models.vlm import QUIRKS, load_vlm, resolve_dtype
from monoir_rs.errors import UserError

pytestmark = pytest.mark.one_thread

KINDS = ("qwen2_5_vl", "llava", "llava_next", "instructblip")
PROMPTS = ["Describe this infrared remote-sensing image in one concise sentence.",
           "What visible infrared evidence supports the scene interpretation?",
           "Classify the scene type in this infrared remote-sensing image."]




def images():
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (24 + 16 * i, 40, 3), dtype=np.uint8)) for i in range(3)]


@pytest.fixture(scope="module")
def loaded(tiny_models):
    cache = {}

    def get(kind):
        if kind not in cache:
            cache[kind] = load_vlm(str(tiny_models(kind)))
        return cache[kind]
    return get


@pytest.mark.parametrize("kind", KINDS)
def test_generate_batched_equals_single_and_is_deterministic(loaded, kind):
    vlm = loaded(kind)
    ims = images()
    batched = vlm.generate(ims, PROMPTS, 10)
    assert len(batched) == 3 and all(isinstance(t, str) for t in batched)
    assert any(batched), "tiny models are initialised to produce non-empty text"
    assert vlm.generate(ims, PROMPTS, 10) == batched                       # deterministic (greedy)
    assert [vlm.generate([im], [p], 10)[0] for im, p in zip(ims, PROMPTS, strict=False)] == batched   # padding-invariant
    # The prompt is trimmed: no answer starts with the rendered prompt text.
    for p, out in zip(PROMPTS, batched, strict=False):
        assert p not in out


@pytest.mark.parametrize("kind,chat,enc_dec,marker", [
    ("qwen2_5_vl", True, False, "<|im_start|>assistant\n"),
    ("llava", True, False, "USER: <image>\n"),
    ("llava_next", True, False, "A chat between a curious human"),
    ("instructblip", False, True, None),
])
def test_rendering_and_quirks(loaded, kind, chat, enc_dec, marker):
    vlm = loaded(kind)
    assert vlm.use_chat is chat and vlm.encoder_decoder is enc_dec
    text = vlm.render(PROMPTS[0])
    assert PROMPTS[0] in text
    if marker:
        assert marker in text
    else:
        assert text == PROMPTS[0]                  # InstructBLIP: the plain prompt
    assert vlm.info.extra["dtype"] == "float32"   # fp32 on CPU


def test_trimming_matches_manual_decode(loaded):
    """Decoder-only output = prompt ids + new ids; our answer is exactly the decoded new ids."""
    vlm = loaded("llava")
    ims = images()[:2]
    batch = vlm.inputs(ims, [vlm.render(p) for p in PROMPTS[:2]])
    with torch.inference_mode():
        full = vlm.model.generate(**batch, max_new_tokens=8, do_sample=False)
    assert torch.equal(full[:, :batch["input_ids"].shape[1]], batch["input_ids"])
    new = vlm.processor.batch_decode(full[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    assert [t.strip() for t in new] == vlm.generate(ims, PROMPTS[:2], 8)


def test_dtype_rules():
    assert resolve_dtype("cpu", None, QUIRKS["qwen2_5_vl"]) == torch.float32
    assert resolve_dtype("cpu", "bf16", QUIRKS["llava"]) == torch.bfloat16
    with pytest.raises(UserError, match="fp16"):
        resolve_dtype("cuda", "fp16", QUIRKS["qwen2_5_vl"])
    with pytest.raises(UserError, match="unknown dtype"):
        resolve_dtype("cpu", "int3", QUIRKS["llava"])


def test_qwen_pixels(tiny_models):
    vlm = load_vlm(str(tiny_models("qwen2_5_vl")), min_pixels=28 * 28, max_pixels=28 * 28 * 4)
    size = vlm.processor.image_processor.size
    assert (size["shortest_edge"], size["longest_edge"]) == (28 * 28, 28 * 28 * 4)
    with pytest.raises(UserError, match="min/max_pixels"):
        load_vlm(str(tiny_models("llava")), max_pixels=1000)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(UserError, match="config"):
        load_vlm(str(tmp_path / "nothing"))


def _save_lora(tiny_dir, out):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText

    torch.manual_seed(1)
    base = AutoModelForImageTextToText.from_pretrained(tiny_dir)
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=r".*language_model.*\.(q_proj|v_proj)", init_lora_weights=False)
    peft_model = get_peft_model(base, cfg)
    peft_model.save_pretrained(out)
    return peft_model


def test_adapter_loads_and_changes_outputs(tiny_models, tmp_path):
    tiny = str(tiny_models("llava"))
    peft_model = _save_lora(tiny, tmp_path / "lora")
    base = load_vlm(tiny)
    tuned = load_vlm(tiny, adapter=str(tmp_path / "lora"))
    ims = images()
    # reference: the PEFT model itself (unmerged) generating through the same processor inputs
    batch = base.inputs(ims, [base.render(p) for p in PROMPTS])
    with torch.inference_mode():
        ref = peft_model.eval().generate(**batch, max_new_tokens=8, do_sample=False)
    ref_text = [t.strip() for t in base.processor.batch_decode(ref[:, batch["input_ids"].shape[1]:],
                                                               skip_special_tokens=True)]
    assert tuned.generate(ims, PROMPTS, 8) == ref_text
    assert tuned.generate(ims, PROMPTS, 8) != base.generate(ims, PROMPTS, 8)


def test_partial_adapter_is_refused(tiny_models, tmp_path):
    from safetensors.torch import load_file, save_file

    tiny = str(tiny_models("llava"))
    _save_lora(tiny, tmp_path / "lora")
    f = tmp_path / "lora" / "adapter_model.safetensors"
    sd = load_file(f)
    dropped = sorted(sd)[0]
    save_file({k: v for k, v in sd.items() if k != dropped}, f)
    with pytest.raises(UserError, match="does not match"):
        load_vlm(tiny, adapter=str(tmp_path / "lora"))
    with pytest.raises(UserError, match="no PEFT adapter"):
        load_vlm(tiny, adapter=str(tmp_path / "missing"))


@pytest.mark.parametrize("kind", KINDS)
def test_cli_end_to_end(tiny_models, built_data, tmp_path, kind):
    """`monoir eval` on the built sample's vlm_eval pool: results.json (SPEC §5) + per-sample logs; a re-run
    resumes from the logs and reproduces the same numbers."""
    import json

    from monoir_rs.cli import main

    argv = ["eval", "--model", str(tiny_models(kind)), "--tasks", "caption,scene", "--data", str(built_data),
            "--output", str(tmp_path / "run"), "--limit", "3", "--batch-size", "2", "--bootstrap", "50",
            "--no-progress", "--quiet"]
    assert main(argv) == 0
    res = json.loads((tmp_path / "run" / "results.json").read_text())
    assert res["model"]["family"] == "vlm" and set(res["tasks"]) == {"caption", "scene"}
    for name in ("caption", "scene"):
        block = res["tasks"][name]
        assert block["n"] + block["n_failed"] == 3
        assert {"ir_cue_rate", "rgb_color_rate", "overclaim_rate", "class_hit_rate", "avg_words"} <= set(block["metrics"])
        lines = (tmp_path / "run" / block["samples"]).read_text().splitlines()
        assert len(lines) == 3
        rec = json.loads(lines[0])
        assert {"id", "prompt", "generation", "hits"} <= set(rec)
    assert "scene_accuracy" in res["tasks"]["scene"]["metrics"] and "bleu4" in res["tasks"]["caption"]["metrics"]
    assert main(argv) == 0                                           # resume: nothing left to generate
    again = json.loads((tmp_path / "run" / "results.json").read_text())
    assert again["tasks"]["caption"]["metrics"] == res["tasks"]["caption"]["metrics"]
    assert len((tmp_path / "run" / "samples_caption.jsonl").read_text().splitlines()) == 3
