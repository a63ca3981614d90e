"""Tiny random-weight VLMs (a few MB) for offline tests: Qwen2.5-VL, LLaVA-1.5, LLaVA-NeXT, InstructBLIP.

Each is a real transformers architecture with a tokenizer trained locally on caption-like text, the family's
image processor and processor, and a chat template where the family has one (InstructBLIP has none: it takes a
plain prompt). Everything is written with `save_pretrained`, so `AutoModelForImageTextToText` and
`AutoProcessor` load it exactly like a Hub checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from harness.models.tiny.common import caption_corpus, train_bpe_tokenizer
from harness.models.vlm import VICUNA_SYSTEM, llava_chat_template

VLM_KINDS = ("qwen2_5_vl", "llava", "llava_next", "instructblip")

# Chat templates in the style of the families' own (content is a string or a list of {type: image|text} parts).
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
def _fast_tokenizer(specials: list[str], byte_level: bool, vocab_size: int = 600, **names):
    from transformers import PreTrainedTokenizerFast

    tok = train_bpe_tokenizer(caption_corpus(600), vocab_size=vocab_size, special_tokens=specials,
                              byte_level=byte_level, unk_token=names.get("unk_token", "<unk>"))
    return PreTrainedTokenizerFast(tokenizer_object=tok, **names)


def _clip_vision(image_size: int = 32, patch_size: int = 8):
    from transformers import CLIPVisionConfig

    return CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                            image_size=image_size, patch_size=patch_size, projection_dim=32)


def _llama(vocab: int, **kw):
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024, **kw)


def _make_llava(out: Path, next_: bool) -> None:
    from transformers import (
        CLIPImageProcessor,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaNextConfig,
        LlavaNextForConditionalGeneration,
        LlavaNextImageProcessor,
        LlavaNextProcessor,
        LlavaProcessor,
    )

    tok = _fast_tokenizer(["<unk>", "<s>", "</s>", "<pad>", "<image>"], byte_level=False,
                          unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    ids = dict(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    common = dict(vision_config=_clip_vision(), text_config=_llama(len(tok), **ids),
                  image_token_index=tok.convert_tokens_to_ids("<image>"), vision_feature_layer=-2,
                  vision_feature_select_strategy="default", projector_hidden_act="gelu", pad_token_id=tok.pad_token_id)
    proc_kw = dict(patch_size=8, vision_feature_select_strategy="default", num_additional_image_tokens=1)
    img_kw = dict(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    if next_:
        grid = [[32, 32], [32, 64], [64, 32], [64, 64]]
        config = LlavaNextConfig(image_grid_pinpoints=grid, **common)
        model = LlavaNextForConditionalGeneration(config)
        proc = LlavaNextProcessor(LlavaNextImageProcessor(image_grid_pinpoints=grid, **img_kw), tok,
                                  chat_template=llava_chat_template(VICUNA_SYSTEM), **proc_kw)
    else:
        config = LlavaConfig(**common)
        model = LlavaForConditionalGeneration(config)
        proc = LlavaProcessor(CLIPImageProcessor(**img_kw), tok, chat_template=llava_chat_template(), **proc_kw)
    _save(model, proc, out)


def _make_qwen(out: Path) -> None:
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
    )
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                "<|image_pad|>", "<|video_pad|>"]
    tok = _fast_tokenizer(specials, byte_level=True, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.add_special_tokens({"additional_special_tokens": specials[1:]})
    tid = tok.convert_tokens_to_ids
    text = dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024, initializer_range=0.2,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [4, 6, 6]},
                bos_token_id=tid("<|endoftext|>"), eos_token_id=tid("<|im_end|>"), pad_token_id=tid("<|endoftext|>"))
    vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64, patch_size=14,
                  spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1])
    config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, image_token_id=tid("<|image_pad|>"),
                              video_token_id=tid("<|video_pad|>"), vision_start_token_id=tid("<|vision_start|>"),
                              vision_end_token_id=tid("<|vision_end|>"), tie_word_embeddings=True)
    model = Qwen2_5_VLForConditionalGeneration(config)
    size = {"shortest_edge": 56 * 56, "longest_edge": 56 * 56}
    proc = Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(size=size),
                               tokenizer=tok, video_processor=Qwen2VLVideoProcessor(size=size),
                               chat_template=QWEN_CHAT_TEMPLATE)
    _save(model, proc, out)


def _make_instructblip(out: Path) -> None:
    from transformers import (
        BlipImageProcessor,
        BlipVisionConfig,
        InstructBlipConfig,
        InstructBlipForConditionalGeneration,
        InstructBlipProcessor,
        InstructBlipQFormerConfig,
        T5Config,
    )

    tok = _fast_tokenizer(["<pad>", "</s>", "<unk>", "<image>"], byte_level=False,
                          pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    qtok = _fast_tokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], byte_level=False, vocab_size=400,
                           pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                           mask_token="[MASK]")
    nq = 4
    config = InstructBlipConfig(
        vision_config=BlipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=2, image_size=32, patch_size=8).to_dict(),
        qformer_config=InstructBlipQFormerConfig(vocab_size=len(qtok), hidden_size=32, num_hidden_layers=2,
                                                 num_attention_heads=2, intermediate_size=64,
                                                 encoder_hidden_size=32, pad_token_id=qtok.pad_token_id).to_dict(),
        text_config=T5Config(vocab_size=len(tok), d_model=32, d_kv=16, d_ff=64, num_layers=2, num_decoder_layers=2,
                             num_heads=2, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                             decoder_start_token_id=tok.pad_token_id, initializer_factor=10.0).to_dict(),
        num_query_tokens=nq, image_token_index=tok.convert_tokens_to_ids("<image>"))
    model = InstructBlipForConditionalGeneration(config)
    img = BlipImageProcessor(size={"height": 32, "width": 32})
    proc = InstructBlipProcessor(image_processor=img, tokenizer=tok, qformer_tokenizer=qtok, num_query_tokens=nq)
    _save(model, proc, out)


def _save(model, proc, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.generation_config.do_sample = False
    model.save_pretrained(out)
    proc.save_pretrained(out)


def make_tiny_vlm(kind: str, out, seed: int = 0) -> Path:
    """Write a tiny random-weight VLM of `kind` (one of VLM_KINDS) to `out`; deterministic for a seed."""
    import torch

    if kind not in VLM_KINDS:
        raise ValueError(f"unknown tiny VLM kind {kind!r}; expected one of {VLM_KINDS}")
    out = Path(out)
    torch.manual_seed(seed)
    builders = {"qwen2_5_vl": _make_qwen, "llava": lambda o: _make_llava(o, False),
                "llava_next": lambda o: _make_llava(o, True), "instructblip": _make_instructblip}
    builders[kind](out)
    return out
