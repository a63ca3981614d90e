"""Original LLaVA-codebase checkpoints (GeoChat, VHM/H2RSVLM) -> llava-hf `LlavaForConditionalGeneration`.

Source layout (`LlavaLlamaForCausalLM` / `GeoChatLlamaForCausalLM`): `config.json` = a Llama config plus `mm_*`
keys (`mm_vision_tower`, `mm_vision_select_layer`, `mm_vision_select_feature`, `mm_projector_type`,
`mm_hidden_size`), weights `model.embed_tokens|layers|norm.*`, `lm_head.weight`, the projector
`model.mm_projector.{0,2}.*` (mlp2x_gelu) and, when the vision tower was saved with it,
`model.vision_tower.vision_tower.vision_model.*`. Otherwise the tower comes from `mm_vision_tower` (Hub ID or
folder) or `--vision-tower`.

Mapping (written in the llava-hf checkpoint layout of the Hub's `llava-hf/*` repos, which every transformers
version since 4.4x loads): `model.X` -> `language_model.model.X`, `lm_head` -> `language_model.lm_head`,
`model.mm_projector.0/2` -> `multi_modal_projector.linear_1/2`, vision tower -> `vision_tower.vision_model.*`.
- GeoChat: the CLIP ViT-L/14-336 position embeddings are interpolated to 504 px exactly as GeoChat does at load
  time (bicubic, align_corners=True, class token kept), and the processor works at 504 px.
- VHM: features of several CLIP layers are concatenated before the projector; llava-hf does the same with a
  `vision_feature_layer` list. The list comes from the config (`mm_vision_select_layer` as a list or
  `select_multi_layer`) or `--vision-feature-layer`; the projector's input width is checked against it.
- The original code splices image features at a -200 placeholder; llava-hf needs a real `<image>` token, so
  `<image>` (and `<pad>` if missing) are added to the tokenizer and the embedding / lm_head rows are extended with
  the mean of the existing rows. Prompts use the Vicuna-v1 template ("... USER: <image>\\n{prompt} ASSISTANT:").
Weights are only read from safetensors or `torch.load(weights_only=True)`; the model is never instantiated, so
7B checkpoints convert in the memory of their state dict.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

from monoir_rs.errors import UserError

PRESETS = {
    "geochat": {"image_size": 504, "vision_tower": "openai/clip-vit-large-patch14-336"},
    "vhm": {"image_size": None, "vision_tower": "openai/clip-vit-large-patch14-336"},
}
LLAMA_KEYS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
              "num_key_value_heads", "max_position_embeddings", "rms_norm_eps", "rope_theta", "rope_scaling",
              "hidden_act", "bos_token_id", "eos_token_id", "pad_token_id", "tie_word_embeddings",
              "attention_bias", "initializer_range")


def read_state_dict(src: Path) -> dict:
    """All tensors of a checkpoint folder (safetensors preferred; .bin via torch.load(weights_only=True))."""
    import torch

    files = sorted(src.glob("*.safetensors"))
    sd: dict = {}
    if files:
        from safetensors.torch import load_file

        for f in files:
            sd.update(load_file(f))
        return sd
    files = sorted(p for p in src.glob("*.bin") if "training_args" not in p.name)
    if not files:
        raise UserError(f"{src}: no *.safetensors or *.bin weights found; pass the checkpoint folder")
    for f in files:
        sd.update(torch.load(f, map_location="cpu", weights_only=True))
    return sd


def interpolate_pos_embedding(weight, image_size: int, patch_size: int):
    """GeoChat's `clip_interpolate_embeddings`: (1 + g*g, D) -> (1 + G*G, D), G = image_size // patch_size."""
    import torch

    n, dim = weight.shape
    new_grid = image_size // patch_size
    if n == new_grid * new_grid + 1:
        return weight
    grid = int(math.isqrt(n - 1))
    if grid * grid != n - 1:
        raise UserError(f"vision position embedding has {n - 1} patches, not a square grid")
    img = weight[1:].T.reshape(1, dim, grid, grid).float()
    new = torch.nn.functional.interpolate(img, size=new_grid, mode="bicubic", align_corners=True)
    new = new.reshape(dim, new_grid * new_grid).T.to(weight.dtype)
    return torch.cat([weight[:1], new], 0)


def _feature_layers(cfg: dict, override):
    if override is not None:
        return override
    for key in ("mm_vision_select_layer", "select_multi_layer", "mm_vision_select_layers"):
        val = cfg.get(key)
        if isinstance(val, str):
            val = ast.literal_eval(val)
        if val is not None:
            return list(val) if isinstance(val, (list, tuple)) and len(val) > 1 else (
                val[0] if isinstance(val, (list, tuple)) else int(val))
    return -2


def _vision_tower(cfg: dict, sd: dict, vision_tower: str | None):
    """(CLIPVisionConfig, {vision_model.* tensors}) from the checkpoint, else from the tower's own weights."""
    from transformers import CLIPVisionConfig, CLIPVisionModel

    name = vision_tower or cfg.get("mm_vision_tower") or cfg.get("vision_tower")
    if not name:
        raise UserError("the checkpoint names no vision tower (mm_vision_tower); pass --vision-tower")
    try:
        vcfg = CLIPVisionConfig.from_pretrained(name)
    except OSError as err:
        raise UserError(f"vision tower {name!r} not found ({err}); pass --vision-tower PATH_OR_ID") from err
    prefix = "model.vision_tower.vision_tower."
    inside = {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
    tensors = inside or dict(CLIPVisionModel.from_pretrained(name).state_dict())
    # transformers >= 5 names CLIPVisionModel weights without the `vision_model.` prefix; older ones with it
    return vcfg, {k.removeprefix("vision_model."): v for k, v in tensors.items()}


def convert_state_dict(sd: dict, vision: dict, n_new_tokens: int) -> dict:
    """Rename to llava-hf keys; extend embeddings / lm_head by `n_new_tokens` mean rows."""
    import torch

    out = {}
    for k, v in sd.items():
        if k.startswith("model.vision_tower."):
            continue
        if k.startswith("model.mm_projector."):
            idx, rest = k[len("model.mm_projector."):].split(".", 1)
            name = {"0": "linear_1", "2": "linear_2"}.get(idx)
            if name is None:
                raise UserError(f"unexpected projector weight {k}: only mlp2x_gelu projectors convert")
            out[f"multi_modal_projector.{name}.{rest}"] = v
        elif k.startswith("model."):
            out["language_model." + k] = v
        elif k == "lm_head.weight":
            out["language_model.lm_head.weight"] = v
        else:
            raise UserError(f"unexpected weight {k} in an original-LLaVA checkpoint")
    for k, v in vision.items():
        out["vision_tower.vision_model." + k] = v
    if n_new_tokens:
        for k in ("language_model.model.embed_tokens.weight", "language_model.lm_head.weight"):
            if k in out:
                w = out[k]
                out[k] = torch.cat([w, w.float().mean(0, keepdim=True).to(w.dtype).expand(n_new_tokens, -1)], 0)
    return out


def save_sharded(sd: dict, out: Path, max_shard: str = "5GB") -> None:
    from huggingface_hub import split_torch_state_dict_into_shards
    from safetensors.torch import save_file

    split = split_torch_state_dict_into_shards(sd, max_shard_size=max_shard)
    for filename, keys in split.filename_to_tensors.items():
        save_file({k: sd[k].contiguous() for k in keys}, out / filename, metadata={"format": "pt"})
    if split.is_sharded:
        index = {"metadata": {}, "weight_map": split.tensor_to_filename}
        (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))


def convert(kind: str, src, out, vision_tower: str | None = None, image_size: int | None = None,
            vision_feature_layer=None) -> Path:
    """Convert `src` (original LLaVA format) into a llava-hf folder `out`; returns `out`."""
    import torch
    from transformers import AutoTokenizer, CLIPImageProcessor, LlamaConfig, LlavaConfig, LlavaProcessor

    from harness.models.vlm import VICUNA_V1_SYSTEM, llava_chat_template

    if kind not in PRESETS:
        raise UserError(f"unknown checkpoint kind {kind!r}; choose from {', '.join(PRESETS)}")
    src, out = Path(src), Path(out)
    if not (src / "config.json").exists():
        raise UserError(f"{src}: no config.json; download the original checkpoint folder first "
                        "(e.g. `hf download MBZUAI/geochat-7B --local-dir SRC`)")
    cfg = json.loads((src / "config.json").read_text())
    if cfg.get("mm_projector_type", "mlp2x_gelu") != "mlp2x_gelu":
        raise UserError(f"{src}: projector {cfg.get('mm_projector_type')!r} is not mlp2x_gelu; cannot map it")
    preset = PRESETS[kind]
    sd = read_state_dict(src)
    if "model.mm_projector.0.weight" not in sd:
        raise UserError(f"{src}: no model.mm_projector.0.weight: not an original-LLaVA multimodal checkpoint")
    vcfg, vision = _vision_tower(cfg, sd, vision_tower or (None if cfg.get("mm_vision_tower") else
                                                           preset["vision_tower"]))
    size = image_size or preset["image_size"]
    pos_key = "embeddings.position_embedding.weight"
    if size:
        vision[pos_key] = interpolate_pos_embedding(vision[pos_key], size, vcfg.patch_size)
    grid = int(math.isqrt(vision[pos_key].shape[0] - 1))
    vcfg.image_size = grid * vcfg.patch_size
    vision = {k: v for k, v in vision.items() if not k.endswith("position_ids")}

    layers = _feature_layers(cfg, vision_feature_layer)
    n_layers = 1 if isinstance(layers, int) else len(layers)
    proj_in = sd["model.mm_projector.0.weight"].shape[1]
    if proj_in != n_layers * vcfg.hidden_size:
        raise UserError(f"{src}: projector input {proj_in} != {n_layers} layer(s) x {vcfg.hidden_size}; pass "
                        "--vision-feature-layer with the concatenated CLIP layers (e.g. -2,-5)")

    tok = AutoTokenizer.from_pretrained(src)
    before = len(tok)
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    if tok.pad_token is None:
        tok.add_special_tokens({"pad_token": "<pad>"})
    n_new = len(tok) - before
    vocab = sd["model.embed_tokens.weight"].shape[0] + n_new
    text_kw = {k: cfg[k] for k in LLAMA_KEYS if k in cfg}
    text_kw.update(vocab_size=vocab, pad_token_id=tok.pad_token_id)
    strategy = "default" if cfg.get("mm_vision_select_feature", "patch") == "patch" else "full"
    config = LlavaConfig(vision_config=vcfg, text_config=LlamaConfig(**text_kw),
                         image_token_index=tok.convert_tokens_to_ids("<image>"), vision_feature_layer=layers,
                         vision_feature_select_strategy=strategy, projector_hidden_act="gelu",
                         image_seq_length=grid * grid + (strategy == "full"),
                         tie_word_embeddings=bool(cfg.get("tie_word_embeddings", False)))
    config.architectures = ["LlavaForConditionalGeneration"]
    config.dtype = str(sd["model.embed_tokens.weight"].dtype).replace("torch.", "")   # what the weights are
    config.monoir_converted_from = {"kind": kind, "source_architectures": cfg.get("architectures")}
    out.mkdir(parents=True, exist_ok=True)
    converted = convert_state_dict(sd, vision, n_new)
    with torch.no_grad():
        save_sharded(converted, out)
    config.save_pretrained(out)
    # OpenAI CLIP mean/std (the defaults), resized and centre-cropped to the tower's resolution
    image_proc = CLIPImageProcessor(size={"shortest_edge": vcfg.image_size},
                                    crop_size={"height": vcfg.image_size, "width": vcfg.image_size})
    LlavaProcessor(image_processor=image_proc, tokenizer=tok, patch_size=vcfg.patch_size,
                   vision_feature_select_strategy=strategy, num_additional_image_tokens=1,
                   chat_template=llava_chat_template(VICUNA_V1_SYSTEM)).save_pretrained(out)
    return out
