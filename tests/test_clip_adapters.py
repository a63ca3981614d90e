"""CLIP adapters (transformers + open_clip) and model family detection, on tiny local models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from harness.models.clip import _features
from harness.models.detect import _config_family, detect
from harness.registry import load_model
from monoir_rs.errors import UserError


def _images(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 255, size=(40 + i, 48), dtype=np.uint8), "L") for i in range(n)]


TEXTS = ["an infrared image of an airport with planes", "bright roofs of a dense residential area", "a river"]


@pytest.mark.parametrize("kind", ["clip", "open_clip"])
def test_embeddings_normalised_and_batch_invariant(tiny_models, kind):
    clip = load_model(str(tiny_models(kind)))
    assert clip.info.family == "clip" and clip.preprocess_key
    pix = torch.stack([clip.preprocess_image(im) for im in _images()])
    assert pix.shape[1:] == (3, 32, 32)
    img = clip.encode_images(pix)
    txt = clip.encode_texts(clip.tokenize(TEXTS))
    for e in (img, txt):
        assert e.dtype == torch.float32 and e.device.type == "cpu" and e.shape == (3, 16)
        torch.testing.assert_close(e.norm(dim=-1), torch.ones(3))
    torch.testing.assert_close(clip.encode_images(pix[1:2]), img[1:2], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(clip.encode_texts(clip.tokenize(TEXTS[2:])), txt[2:], atol=1e-5, rtol=1e-4)


def test_transformers_uses_its_own_processor(tiny_models):
    from transformers import AutoProcessor

    path = tiny_models("clip")
    clip = load_model(str(path))
    proc = AutoProcessor.from_pretrained(path)
    im = _images(1)[0]
    torch.testing.assert_close(clip.preprocess_image(im), proc(images=im.convert("RGB"), return_tensors="pt")["pixel_values"][0])
    assert clip.tokenize(TEXTS)["input_ids"].tolist() == proc.tokenizer(TEXTS, padding=True, return_tensors="pt")["input_ids"].tolist()


def test_features_accepts_tensor_and_output_objects():
    from transformers.modeling_outputs import BaseModelOutputWithPooling

    x = torch.randn(2, 4)
    assert _features(x) is x
    assert _features(BaseModelOutputWithPooling(last_hidden_state=torch.zeros(2, 3, 4), pooler_output=x)) is x


@pytest.mark.parametrize("kind", ["clip", "open_clip"])
def test_save_pretrained_round_trip(tiny_models, tmp_path, kind):
    clip = load_model(str(tiny_models(kind)))
    pix = torch.stack([clip.preprocess_image(im) for im in _images()])
    with torch.no_grad():  # change the weights so the copy must carry them
        next(clip.model.parameters()).add_(0.5)
    before = clip.encode_images(pix), clip.encode_texts(clip.tokenize(TEXTS))
    out = clip.save_pretrained(tmp_path / "saved")
    again = load_model(str(out))
    assert again.info.backend == clip.info.backend
    torch.testing.assert_close(again.encode_images(pix), before[0])
    torch.testing.assert_close(again.encode_texts(again.tokenize(TEXTS)), before[1])


def test_open_clip_arch_at_checkpoint_reports_missing_and_unexpected_keys(tmp_path):
    """ARCH@FILE loads a plain state dict (RemoteCLIP style) and reports key mismatches instead of hiding them."""
    import open_clip
    from safetensors.torch import save_file

    model = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None)
    sd = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("visual.conv1")}
    sd["logit_scale"] = torch.tensor(1.234)
    sd["not_a_weight"] = torch.zeros(1)
    ckpt = tmp_path / "partial.safetensors"
    save_file({"module." + k: v for k, v in sd.items()}, str(ckpt))  # DDP prefix is stripped
    clip = load_model(f"ViT-B-32-quickgelu@{ckpt}")
    rep = clip.info.extra
    assert rep["checkpoint"] == str(ckpt.resolve())
    assert rep["unexpected_keys"] == ["not_a_weight"]
    assert "visual.conv1.weight" not in rep["missing_keys"] and "text_projection" in rep["missing_keys"]
    assert float(clip.model.logit_scale.detach()) == pytest.approx(1.234)
    torch.testing.assert_close(clip.model.visual.conv1.weight, sd["visual.conv1.weight"])


def test_checkpoints_are_loaded_safely(tmp_path):
    import argparse

    bad = tmp_path / "pickled.pt"
    torch.save({"state_dict": argparse.Namespace(a=1)}, bad)  # arbitrary pickle: refused by weights_only=True
    with pytest.raises(UserError, match="weights_only=True"):
        load_model(f"ViT-B-32-quickgelu@{bad}")
    plain = tmp_path / "bare.pt"
    torch.save({"x": torch.zeros(1)}, plain)
    with pytest.raises(UserError, match="ARCH@FILE"):
        load_model(str(plain))


@pytest.mark.parametrize("cfg,family", [
    ({"model_type": "clip", "architectures": ["CLIPModel"]}, "clip"),
    ({"model_type": "siglip", "architectures": ["SiglipModel"]}, "clip"),
    ({"model_type": "siglip"}, "clip"),
    ({"model_type": "llava", "architectures": ["LlavaForConditionalGeneration"]}, "vlm"),
    ({"model_type": "qwen2_5_vl", "architectures": ["Qwen2_5_VLForConditionalGeneration"]}, "vlm"),
    ({"model_type": "instructblip", "architectures": ["InstructBlipForConditionalGeneration"]}, "vlm"),
    ({"model_type": "llava_next"}, "vlm"),
])
def test_family_from_config(cfg, family):
    assert _config_family(cfg, "config.json") == family


def test_family_detection_errors(tmp_path):
    with pytest.raises(UserError, match="neither a dual encoder"):
        _config_family({"model_type": "bert", "architectures": ["BertModel"]}, "config.json")
    with pytest.raises(UserError, match="trust-remote-code"):
        _config_family({"model_type": "custom_x", "auto_map": {"AutoModel": "m.M"}}, "config.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="neither open_clip_config.json nor config.json"):
        detect(str(tmp_path / "empty"))


def test_detect_names_without_network(tiny_models):
    d = detect("remoteclip-vit-b-32")
    assert (d.backend, d.load_id, d.open_clip["filename"]) == ("open_clip", "ViT-B-32-quickgelu", "RemoteCLIP-ViT-B-32.pt")
    assert detect("georsclip-vit-b-32").open_clip["filename"] == "ckpt/RS5M_ViT-B-32.pt"
    assert detect("openclip-vit-b-32").load_id == "hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
    assert detect("openai-clip-vit-b-32").load_id == "openai/clip-vit-base-patch32"
    assert detect("ViT-B-32@laion2b_s34b_b79k").open_clip == {"arch": "ViT-B-32", "pretrained": "laion2b_s34b_b79k"}
    assert detect("ViT-B-32:openai").open_clip["pretrained"] == "openai"
    with pytest.raises(UserError, match="monoir convert"):
        detect("geochat-7b")
    d = detect(str(tiny_models("clip")))
    assert (d.family, d.backend) == ("clip", "transformers") and d.revision.startswith("local-")
    d = detect(str(tiny_models("open_clip")))
    assert d.backend == "open_clip" and d.load_id.startswith("local-dir:")


def test_hub_id_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError) as err:
        detect("some-org/some-model-not-cached")
    assert "some-org/some-model-not-cached" in str(err.value) and "remoteclip-vit-b-32" in str(err.value)


def test_revision_changes_when_weights_are_resaved(tiny_models, tmp_path):
    clip = load_model(str(tiny_models("clip")))
    out = clip.save_pretrained(tmp_path / "m")
    r1 = detect(str(out)).revision
    with torch.no_grad():
        next(clip.model.parameters()).add_(1.0)
    clip.save_pretrained(out)
    assert detect(str(out)).revision != r1
    assert json.loads((out / "config.json").read_text())["model_type"] == "clip"


def test_peft_adapter_is_applied(tiny_models, tmp_path):
    from peft import LoraConfig, get_peft_model

    path = tiny_models("clip")
    base = load_model(str(path))
    pix = torch.stack([base.preprocess_image(im) for im in _images()])
    ref = base.encode_images(pix)
    lora = get_peft_model(base.model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    lora.save_pretrained(tmp_path / "lora")
    tuned = load_model(str(path), adapter=str(tmp_path / "lora"))
    assert tuned.info.adapter == str(tmp_path / "lora") and tuned.info.cache_key() != load_model(str(path)).info.cache_key()
    assert not torch.allclose(tuned.encode_images(pix), ref, atol=1e-4)
    with pytest.raises(UserError, match="adapter"):
        load_model(str(path), adapter=str(tmp_path / "missing"))
