"""IR-VLM LoRA recipe (paper eq. 28–32, Algorithm 3, Table 19) on tiny VLMs and the sample dataset."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from harness.registry import get_task, load_model
from monoir_rs import hub
from monoir_rs.train.recipes import VLM_RECIPES, vlm_recipe
from monoir_rs.train.vlm import VlmCollator, VlmTrainArgs, apply_lora, lora_target_regex, train_vlm

torch.set_num_threads(2)
VISION = ("vision_tower", "visual.", "vision_model", "qformer")
PROJECTOR = {"qwen2_5_vl": "visual.merger", "llava": "multi_modal_projector", "llava_next": "multi_modal_projector",
             "instructblip": "language_projection"}
ROWS = [
    {"image": Image.new("L", (64, 64), 100),
     "messages": [{"role": "user", "content": "Describe this infrared remote-sensing image in one concise sentence."},
                  {"role": "assistant", "content": "A bright runway crosses dark fields."}]},
    {"image": Image.new("L", (48, 40), 30),
     "messages": [{"role": "user", "content": "List the main visible objects."},
                  {"role": "assistant", "content": "Dark water and bright sand."}]},
]


def test_table19_recipes():
    q, ib, lv = vlm_recipe("qwen2_5_vl"), vlm_recipe("instructblip"), vlm_recipe("llava")
    assert (q.batch_size, q.grad_accum, q.max_len) == (1, 8, None)
    assert (ib.batch_size, ib.grad_accum, ib.max_len, ib.target_modules) == (2, 8, 128, ("q", "v"))
    assert (lv.batch_size, lv.grad_accum, lv.max_len) == (4, 4, 1024)
    assert set(q.target_modules) == {f"{m}_proj" for m in ("q", "k", "v", "o", "gate", "up", "down")}
    for r in VLM_RECIPES.values():
        assert (r.lora_r, r.lora_alpha, r.lora_dropout, r.lr, r.epochs, r.warmup_ratio, r.scheduler) == (
            32, 64, 0.05, 2e-4, 1.0, 0.03, "cosine")


@pytest.mark.parametrize("kind", ["qwen2_5_vl", "llava", "llava_next", "instructblip"])
def test_lora_on_language_model_only(tiny_models, kind):
    vlm = load_model(str(tiny_models(kind)), dtype="fp32")
    recipe = vlm_recipe(vlm.model.config.model_type)
    # the bare leaf names also exist outside the language model: a name list would hit them
    bare = [n for n, _ in vlm.model.named_modules()
            if n.rsplit(".", 1)[-1] in recipe.target_modules and "language_model" not in n]
    if kind.startswith("llava"):   # CLIP vision tower: q_proj/k_proj/... like the LLM (Qwen: qkv; BLIP: query)
        assert bare, "test premise: the vision side has modules with the same leaf names"
    assert not any(re.fullmatch(lora_target_regex(recipe), n) for n in bare)
    for p in vlm.model.parameters():
        p.requires_grad_(False)
    model = apply_lora(vlm.model, recipe)
    lora = [n for n, _ in model.named_modules() if n.endswith("lora_A")]
    assert lora and all("language_model" in n for n in lora)
    assert not any(v in n for n in lora for v in VISION)
    saved = [n for n, _ in model.named_modules() if n.endswith(".modules_to_save")]
    assert any(PROJECTOR[kind] in n for n in saved)
    # full-size recipe: the projector only; tiny recipe: the projector and the LM head (documented)
    assert all(PROJECTOR[kind] in n or n.endswith("lm_head.modules_to_save") for n in saved)
    assert vlm_recipe(vlm.model.config.model_type).projector == (PROJECTOR[kind],)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert all("lora_" in n or "modules_to_save" in n for n in trainable)


@pytest.mark.parametrize("kind", ["qwen2_5_vl", "llava", "llava_next"])
def test_prompt_tokens_carry_minus_100(tiny_models, kind):
    vlm = load_model(str(tiny_models(kind)), dtype="fp32")
    col = VlmCollator(vlm, None)
    batch = col(ROWS)
    tok = vlm.processor.tokenizer
    for i, row in enumerate(ROWS):
        prompt, answer = col.turns(row["messages"])
        head = vlm.processor(images=[row["image"].convert("RGB")], text=[vlm.render(prompt)],
                             return_tensors="pt")["input_ids"][0]
        labels, ids = batch["labels"][i], batch["input_ids"][i]
        assert torch.equal(ids[:len(head)], head)          # the generation prompt is a prefix
        assert (labels[:len(head)] == -100).all()          # prompt (image tokens included) masked
        kept = labels[labels != -100]
        assert torch.equal(kept, ids[len(head):len(head) + len(kept)])   # answer tokens are their own labels
        text = tok.decode(kept, skip_special_tokens=True).strip()
        assert text.startswith(answer), text
        assert (labels[batch["attention_mask"][i] == 0] == -100).all()   # padding masked


def test_encoder_decoder_labels_are_the_answer(tiny_models):
    vlm = load_model(str(tiny_models("instructblip")), dtype="fp32")
    batch = VlmCollator(vlm, 128)(ROWS)
    tok = vlm.processor.tokenizer
    for i, row in enumerate(ROWS):
        kept = batch["labels"][i][batch["labels"][i] != -100]
        assert tok.decode(kept, skip_special_tokens=True).strip() == row["messages"][1]["content"]


@pytest.fixture(scope="module")
def instruct_data(built_data, tmp_path_factory):
    from monoir_rs.train.instruct import build_instruct

    dest = tmp_path_factory.mktemp("vlmdata") / "monoir-rs"
    shutil.copytree(built_data, dest)
    build_instruct(dest, size=200, seed=0, progress=False)
    return dest


def _ir_cue_rate(base, data, adapter=None, n=24) -> float:
    from harness.metrics.lexical import lexical_metrics

    vlm = load_model(str(base), adapter=str(adapter) if adapter else None, dtype="fp32")
    ds = hub.load("vlm_eval", "test", data).select(range(n))
    prompt = get_task("caption").prompt
    answers = vlm.generate(list(ds["image"]), [prompt] * n, max_new_tokens=24)
    return lexical_metrics(answers, ds["scene_class"])["ir_cue_rate"]


def test_finetuned_tiny_vlm_raises_ir_cue_rate(tiny_models, instruct_data, tmp_path):
    from monoir_rs.cli import main

    base, out = tiny_models("llava"), tmp_path / "adapter"
    assert main(["train", "vlm", "--model", str(base), "--data", str(instruct_data), "--output", str(out),
                 "--seed", "0", "--no-progress"]) == 0
    cfg = json.loads((out / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == str(base.resolve()) and cfg["r"] == 32 and cfg["lora_alpha"] == 64
    keys = load_file(str(out / "adapter_model.safetensors")).keys()
    assert keys and all("lora_" in k or "multi_modal_projector" in k or "lm_head" in k for k in keys)
    assert any("multi_modal_projector" in k for k in keys)
    assert not (out / "checkpoints").exists()
    rec = json.loads((out / "monoir_training.json").read_text())
    assert rec["recipe"] == "ir-vlm-lora" and rec["completed"] and rec["model"]["id"] == str(base.resolve())
    zero_shot, tuned = _ir_cue_rate(base, instruct_data), _ir_cue_rate(base, instruct_data, out)
    assert tuned >= zero_shot + 20, (zero_shot, tuned)


def test_resume_continues_from_checkpoint(tiny_models, instruct_data, tmp_path):
    """Interrupted at step 5 (checkpoint saved), re-run: training continues at step 5 and ends with the
    same adapter as an uninterrupted run (Trainer restores optimiser, scheduler and RNG state)."""
    kw = dict(model=str(tiny_models("llava")), data=str(instruct_data), limit=40, max_steps=10,
              save_steps=5, progress=False, seed=0)
    train_vlm(VlmTrainArgs(output=str(tmp_path / "full"), **kw))
    part = train_vlm(VlmTrainArgs(output=str(tmp_path / "resumed"), stop_after_steps=5, **kw))
    assert part["completed"] is False and part["best"]["step"] == 5
    assert (tmp_path / "resumed" / "checkpoints" / "checkpoint-5").is_dir()
    final = train_vlm(VlmTrainArgs(output=str(tmp_path / "resumed"), **kw))
    assert final["completed"] and final["best"]["step"] == 10
    assert final["resumed_from"].endswith("checkpoint-5") and final["steps_this_call"] == 5
    a = load_file(str(tmp_path / "full" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
