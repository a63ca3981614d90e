"""Tiny CLIP models: transformers `CLIPModel` (+ CLIPProcessor) and an open_clip `local-dir:` folder."""

from __future__ import annotations

import json
from pathlib import Path

from .common import caption_corpus, train_bpe_tokenizer

BOS, EOS, UNK = "<|startoftext|>", "<|endoftext|>", "<unk>"
IMAGE_SIZE, PATCH, WIDTH, EMBED, CONTEXT = 32, 8, 32, 16, 32


def _fast_tokenizer(vocab_size: int = 600):
    """A CLIP-style fast tokenizer (lowercased BPE with `</w>`, BOS … EOS, pad = EOS) trained locally."""
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    tok = train_bpe_tokenizer(caption_corpus(), vocab_size, special_tokens=(BOS, EOS, UNK), lowercase=True,
                              byte_level=False, end_of_word_suffix="</w>", unk_token=UNK)
    bos, eos = tok.token_to_id(BOS), tok.token_to_id(EOS)
    tok.post_processor = TemplateProcessing(single=f"{BOS} $A {EOS}", pair=f"{BOS} $A {EOS} $B {EOS}",
                                            special_tokens=[(BOS, bos), (EOS, eos)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, unk_token=UNK,
                                   pad_token=EOS, model_max_length=CONTEXT)
    return fast


def make_tiny_clip(kind: str, out: Path, seed: int = 0) -> Path:
    """`clip`: transformers CLIPModel + CLIPProcessor; `open_clip`: open_clip_config.json + safetensors."""
    import torch

    torch.manual_seed(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _fast_tokenizer()
    if kind == "clip":
        return _make_transformers(out, tokenizer)
    return _make_open_clip(out, tokenizer)


def _make_transformers(out: Path, tokenizer) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    text = dict(vocab_size=len(tokenizer), hidden_size=WIDTH, intermediate_size=2 * WIDTH, num_hidden_layers=2,
                num_attention_heads=2, max_position_embeddings=CONTEXT, bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    vision = dict(hidden_size=WIDTH, intermediate_size=2 * WIDTH, num_hidden_layers=2, num_attention_heads=2,
                  image_size=IMAGE_SIZE, patch_size=PATCH)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=EMBED))
    image_processor = CLIPImageProcessor(size={"shortest_edge": IMAGE_SIZE},
                                         crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    model.save_pretrained(out)
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out


def _make_open_clip(out: Path, tokenizer) -> Path:
    """A custom (non built-in) tiny architecture, self-described in open_clip_config.json; the tokenizer is an
    HF tokenizer saved in the folder (`hf_tokenizer_name` makes open_clip load it from the `local-dir:`)."""
    import open_clip
    from safetensors.torch import save_file

    model_cfg = {
        "embed_dim": EMBED,
        "quick_gelu": True,
        "vision_cfg": {"image_size": IMAGE_SIZE, "layers": 2, "width": WIDTH, "head_width": WIDTH // 2,
                       "patch_size": PATCH},
        "text_cfg": {"context_length": CONTEXT, "vocab_size": len(tokenizer), "width": WIDTH, "heads": 2,
                     "layers": 2, "hf_tokenizer_name": "local", "pool_type": "eos",
                     "eos_id": tokenizer.eos_token_id, "pad_id": tokenizer.pad_token_id},
    }
    preprocess_cfg = {"size": IMAGE_SIZE, "mean": list(open_clip.OPENAI_DATASET_MEAN),
                      "std": list(open_clip.OPENAI_DATASET_STD), "interpolation": "bicubic", "resize_mode": "shortest"}
    model = open_clip.CLIP(**model_cfg)
    (out / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}, indent=2), encoding="utf-8")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "open_clip_model.safetensors"))
    tokenizer.save_pretrained(out)
    return out
