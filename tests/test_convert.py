"""`monoir convert`: a tiny checkpoint written in the original LLaVA layout converts to llava-hf, loads without
missing keys, and gives the logits of a hand-assembled original forward pass (GeoChat 504-px-style interpolation,
VHM multi-layer features)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from monoir_rs.errors import UserError

pytestmark = pytest.mark.one_thread

V_HIDDEN, T_HIDDEN = 32, 32




def write_original(root, layers, tower_inside: bool, select_cfg):
    """An original-LLaVA-layout checkpoint + a separate CLIP tower folder. Returns (src, parts)."""
    from safetensors.torch import save_file
    from transformers import (
        CLIPVisionConfig,
        CLIPVisionModel,
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
    )

    from harness.models.tiny.common import caption_corpus, train_bpe_tokenizer

    torch.manual_seed(0)
    clip = CLIPVisionModel(CLIPVisionConfig(hidden_size=V_HIDDEN, intermediate_size=64, num_hidden_layers=3,
                                            num_attention_heads=2, image_size=32, patch_size=8)).eval()
    clip.save_pretrained(root / "clip")
    bpe = train_bpe_tokenizer(caption_corpus(300), vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"],
                              byte_level=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    llama_cfg = LlamaConfig(vocab_size=len(tok), hidden_size=T_HIDDEN, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=2, num_key_value_heads=2, bos_token_id=1, eos_token_id=2,
                            initializer_range=0.2)
    llama = LlamaForCausalLM(llama_cfg).eval()
    n = 1 if isinstance(layers, int) else len(layers)
    proj = nn.Sequential(nn.Linear(n * V_HIDDEN, T_HIDDEN), nn.GELU(), nn.Linear(T_HIDDEN, T_HIDDEN)).eval()
    sd = dict(llama.state_dict())
    sd.update({f"model.mm_projector.{k}": v for k, v in proj.state_dict().items()})
    if tower_inside:
        # the original layout (transformers 4 names): model.vision_tower.vision_tower.vision_model.*
        sd.update({"model.vision_tower.vision_tower.vision_model." + k.removeprefix("vision_model."): v
                   for k, v in clip.state_dict().items()})
    src = root / "src"
    src.mkdir()
    save_file({k: v.contiguous() for k, v in sd.items()}, src / "model.safetensors")
    cfg = llama_cfg.to_dict()
    cfg.update(architectures=["LlavaLlamaForCausalLM"], model_type="llava", mm_vision_tower=str(root / "clip"),
               mm_hidden_size=n * V_HIDDEN, mm_vision_select_layer=select_cfg, mm_vision_select_feature="patch",
               mm_projector_type="mlp2x_gelu", mm_use_im_start_end=False, image_aspect_ratio="pad")
    (src / "config.json").write_text(json.dumps(cfg))
    tok.save_pretrained(src)
    return src, {"clip": clip, "llama": llama, "proj": proj, "tok": tok}


def geochat_interpolate(w, new_grid):
    """GeoChat's clip_interpolate_embeddings, written out independently."""
    cls, grid = w[:1], w[1:]
    g = int(math.sqrt(grid.shape[0]))
    img = grid.permute(1, 0).reshape(1, w.shape[1], g, g)
    img = nn.functional.interpolate(img, size=new_grid, mode="bicubic", align_corners=True)
    return torch.cat([cls, img.reshape(w.shape[1], new_grid * new_grid).permute(1, 0)], 0)


def reference_logits(parts, pixel_values, layers, pre_ids, post_ids, image_size=None):
    """The original LLaVA forward: CLIP hidden states -> patch tokens -> mm_projector -> spliced embeddings."""
    from transformers import CLIPVisionConfig, CLIPVisionModel

    clip = parts["clip"]
    if image_size:
        cfg = CLIPVisionConfig(**{**clip.config.to_dict(), "image_size": image_size})
        clip2 = CLIPVisionModel(cfg).eval()
        sd = dict(clip.state_dict())
        key = next(k for k in sd if k.endswith("embeddings.position_embedding.weight"))
        sd[key] = geochat_interpolate(sd[key], image_size // cfg.patch_size)
        clip2.load_state_dict(sd, strict=True)
        clip = clip2
    with torch.no_grad():
        hs = clip(pixel_values, output_hidden_states=True).hidden_states
        sel = [layers] if isinstance(layers, int) else layers
        feats = torch.cat([hs[i][:, 1:] for i in sel], -1)
        img = parts["proj"](feats)
        emb = parts["llama"].get_input_embeddings()
        x = torch.cat([emb(torch.tensor([pre_ids])), img, emb(torch.tensor([post_ids]))], 1)
        return parts["llama"](inputs_embeds=x).logits, img.shape[1]


def check_converted(out, parts, layers, image_size=None):
    from PIL import Image
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    model, info = LlavaForConditionalGeneration.from_pretrained(out, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    model.eval()
    proc = AutoProcessor.from_pretrained(out)
    img = Image.linear_gradient("L").convert("RGB").resize((40, 30))
    pixel_values = proc.image_processor(img, return_tensors="pt")["pixel_values"]
    tok = parts["tok"]
    pre = [tok.bos_token_id] + tok("USER:", add_special_tokens=False)["input_ids"]
    post = tok(" describe the airport ASSISTANT:", add_special_tokens=False)["input_ids"]
    ref, n_img = reference_logits(parts, pixel_values, layers, pre, post, image_size)
    ids = torch.tensor([pre + [model.config.image_token_index] * n_img + post])
    with torch.no_grad():
        got = model(input_ids=ids, pixel_values=pixel_values).logits
    vocab = parts["llama"].config.vocab_size
    assert got.shape[1] == ref.shape[1]
    torch.testing.assert_close(got[..., :vocab], ref, atol=1e-5, rtol=1e-4)
    return model, proc


def test_geochat_tower_from_folder_interpolated(tmp_path):
    from harness.convert import convert

    src, parts = write_original(tmp_path, -2, tower_inside=False, select_cfg=-2)
    out = convert("geochat", src, tmp_path / "out", image_size=48)
    model, proc = check_converted(out, parts, -2, image_size=48)
    assert model.config.vision_config.image_size == 48
    assert model.config.image_seq_length == 36
    text = proc.apply_chat_template([{"role": "user", "content": [{"type": "image"}, {"type": "text",
                                     "text": "Describe it."}]}], add_generation_prompt=True, tokenize=False)
    assert text.startswith("A chat between a curious user") and text.endswith("USER: <image>\nDescribe it. ASSISTANT:")


def test_vhm_concatenated_layers_from_config_and_cli(tmp_path):
    from harness.convert import convert
    from harness.models.vlm import load_vlm

    src, parts = write_original(tmp_path, [-2, -3], tower_inside=True, select_cfg=[-2, -3])
    out = convert("vhm", src, tmp_path / "out")
    model, _ = check_converted(out, parts, [-2, -3])
    assert model.config.vision_feature_layer == [-2, -3]
    vlm = load_vlm(str(out))                                   # the runner takes the converted folder as is
    from PIL import Image
    assert isinstance(vlm.generate([Image.new("RGB", (32, 32))], ["Describe it."], 4)[0], str)

    (tmp_path / "b").mkdir()   # config says one layer (-2) but the projector takes two: needs the CLI override
    src2, parts2 = write_original(tmp_path / "b", [-2, -3], tower_inside=True, select_cfg=-2)
    with pytest.raises(UserError, match="vision-feature-layer"):
        convert("vhm", src2, tmp_path / "b" / "out")
    from monoir_rs.cli import main
    assert main(["convert", "vhm", str(src2), str(tmp_path / "b" / "out"), "--vision-feature-layer=-2,-3"]) == 0
    check_converted(tmp_path / "b" / "out", parts2, [-2, -3])


def test_bad_sources(tmp_path):
    from harness.convert import convert

    with pytest.raises(UserError, match="config.json"):
        convert("geochat", tmp_path, tmp_path / "o")
    with pytest.raises(UserError, match="unknown checkpoint kind"):
        convert("blip", tmp_path, tmp_path / "o")
