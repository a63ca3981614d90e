"""One runner for every image-text-to-text model in transformers' `AutoModelForImageTextToText` mapping.

Families differ only in a few facts, kept in `QUIRKS` (keyed by `config.model_type`):
- how a prompt is rendered: the processor's chat template (Qwen2.5-VL, llava-hf LLaVA / LLaVA-NeXT) or a plain
  prompt (InstructBLIP), with `plain_template` as the fallback when a processor has no chat template;
- whether generated ids repeat the prompt: decoder-only models return prompt + answer (trimmed by the padded input
  length); encoder-decoder language models (InstructBLIP/Flan-T5) return only the answer — detected from the
  config, so any other encoder-decoder family is handled too;
- image-size settings (Qwen `min_pixels` / `max_pixels`) and dtype limits (Qwen: never fp16, it overflows).
Generation is batched with left padding and greedy unless the caller passes other generation kwargs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.models.base import ModelInfo
from monoir_rs.errors import UserError

# System prompts: LLaVA-NeXT-Vicuna (llava-hf) and the original LLaVA "v1" conversation (GeoChat, VHM).
VICUNA_SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. "
                 "The assistant gives helpful, detailed, and polite answers to the human's questions.")


def llava_chat_template(system: str | None = None) -> str:
    """LLaVA-style "USER: <image>\\n... ASSISTANT:" template (llava-1.5 without system, Vicuna-v1 with one)."""
    head = f"{system} " if system else ""
    return (
        head + "{% for message in messages %}"
        "{% if message['role'] == 'user' %}USER: {% elif message['role'] == 'assistant' %}ASSISTANT: {% endif %}"
        "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
        "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}<image>\n{% endfor %}"
        "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}{% endfor %}"
        "{% endif %}{% if message['role'] == 'assistant' %}</s>{% else %} {% endif %}{% endfor %}"
        "{% if add_generation_prompt %}ASSISTANT:{% endif %}")
VICUNA_V1_SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
                    "The assistant gives helpful, detailed, and polite answers to the user's questions.")


@dataclass(frozen=True)
class Quirks:
    chat: bool | None = None               # None: use the processor's chat template when it has one
    plain_template: str = "{prompt}"       # prompt text when no chat template is used
    no_fp16: bool = False                  # fp16 overflows (Qwen2/2.5-VL): use bf16 or fp32
    pixels: tuple[int, int] | None = None  # default (min_pixels, max_pixels) for dynamic-resolution processors
    processor_kwargs: dict = field(default_factory=dict)


_LLAVA = Quirks(plain_template="USER: <image>\n{prompt} ASSISTANT:")
QUIRKS: dict[str, Quirks] = {
    "qwen2_5_vl": Quirks(no_fp16=True, pixels=(256 * 28 * 28, 1280 * 28 * 28),
                         plain_template="<|vision_start|><|image_pad|><|vision_end|>{prompt}"),
    "qwen2_vl": Quirks(no_fp16=True, pixels=(256 * 28 * 28, 1280 * 28 * 28),
                       plain_template="<|vision_start|><|image_pad|><|vision_end|>{prompt}"),
    "llava": _LLAVA, "llava_next": _LLAVA, "llava_onevision": _LLAVA,
    "instructblip": Quirks(chat=False), "blip-2": Quirks(chat=False),
}
DTYPES = {"fp32": "float32", "float32": "float32", "bf16": "bfloat16", "bfloat16": "bfloat16",
          "fp16": "float16", "float16": "float16", "auto": None}


def quirks_for(model_type: str) -> Quirks:
    return QUIRKS.get(model_type, Quirks())


def resolve_dtype(device: str, dtype: str | None, quirks: Quirks):
    """fp32 on CPU; on GPU bf16 where supported, else fp16 (fp32 for families that must not run in fp16)."""
    import torch

    if dtype not in (None, "auto"):
        if dtype not in DTYPES:
            raise UserError(f"unknown dtype {dtype!r}; use one of fp32, bf16, fp16")
        if DTYPES[dtype] == "float16" and quirks.no_fp16:
            raise UserError("this model family overflows in fp16; use --dtype bf16 (or fp32)")
        return getattr(torch, DTYPES[dtype])
    if not str(device).startswith("cuda"):
        return torch.float32
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32 if quirks.no_fp16 else torch.float16


class HfVlm:
    """`VlmAdapter` over `AutoModelForImageTextToText` + `AutoProcessor` (see module docstring)."""

    def __init__(self, model, processor, info: ModelInfo, device: str = "cpu"):
        self.model, self.processor, self.info, self.device = model, processor, info, device
        cfg = model.config
        self.model_type = cfg.model_type
        self.quirks = quirks_for(self.model_type)
        text_cfg = getattr(cfg, "text_config", None)
        self.encoder_decoder = bool(cfg.is_encoder_decoder or getattr(text_cfg, "is_encoder_decoder", False))
        has_template = bool(getattr(processor, "chat_template", None))
        self.use_chat = has_template if self.quirks.chat is None else (self.quirks.chat and has_template)
        # Decoder-only LMs continue after the last prompt token, so pad on the left; encoders (T5, the BERT-like
        # Q-Former with absolute positions after its query tokens) keep the usual right padding.
        tok = getattr(processor, "tokenizer", None)
        if tok is not None:
            tok.padding_side = "right" if self.encoder_decoder else "left"
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
        if getattr(processor, "qformer_tokenizer", None) is not None:
            processor.qformer_tokenizer.padding_side = "right"

    def render(self, prompt: str) -> str:
        """The exact text handed to the processor for one prompt (logged per sample)."""
        if self.use_chat:
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
            return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return self.quirks.plain_template.format(prompt=prompt)

    def inputs(self, images: list, texts: list[str]):
        import torch

        batch = self.processor(images=[im.convert("RGB") for im in images], text=texts, padding=True,
                               return_tensors="pt", **self.quirks.processor_kwargs)
        batch = batch.to(self.device)
        dtype = self.model.dtype
        for k, v in batch.items():
            if torch.is_floating_point(v):
                batch[k] = v.to(dtype)
        return batch

    def generate(self, images: list, prompts: list[str], max_new_tokens: int, **gen_kwargs) -> list[str]:
        """Answers for (image, prompt) pairs, prompt removed, whitespace stripped. Greedy by default."""
        import torch

        if len(images) != len(prompts):
            raise ValueError(f"{len(images)} images but {len(prompts)} prompts")
        batch = self.inputs(images, [self.render(p) for p in prompts])
        kwargs = {"do_sample": False, "num_beams": 1, "max_new_tokens": int(max_new_tokens)}
        tok = getattr(self.processor, "tokenizer", None)
        if tok is not None and tok.pad_token_id is not None:
            kwargs["pad_token_id"] = tok.pad_token_id
        if not gen_kwargs.get("do_sample"):  # silence sampling-only defaults from the checkpoint
            kwargs.update(temperature=None, top_p=None, top_k=None)
        kwargs.update(gen_kwargs)
        with torch.inference_mode():
            out = self.model.generate(**batch, **kwargs)
        if not self.encoder_decoder:
            out = out[:, batch["input_ids"].shape[1]:]
        pad = kwargs.get("pad_token_id")
        self.last_new_tokens = int((out != pad).sum()) if pad is not None else int(out.numel())  # for benchmarks
        return [t.strip() for t in self.processor.batch_decode(out, skip_special_tokens=True)]


def load_peft_adapter(model, adapter: str):
    """Load a PEFT adapter onto `model`, refuse a partial load, and merge it for fast generation."""
    from peft import PeftConfig, PeftModel

    try:
        config = PeftConfig.from_pretrained(adapter)
    except Exception as err:  # noqa: BLE001 - any failure means "not a usable adapter"
        raise UserError(f"adapter {adapter!r}: no PEFT adapter found ({err}); pass the folder `monoir train vlm` "
                        "wrote or a Hub ID of a PEFT adapter") from err
    peft_model = PeftModel(model, config)
    result = peft_model.load_adapter(adapter, adapter_name="default")
    unexpected = [k for k in getattr(result, "unexpected_keys", []) if "lora_" in k or "modules_to_save" in k]
    if result.missing_keys or unexpected:
        raise UserError(f"adapter {adapter!r} does not match this base model: missing "
                        f"{list(result.missing_keys)[:5]} unexpected {unexpected[:5]} "
                        f"({len(result.missing_keys)} missing, {len(unexpected)} unexpected); check --model")
    return peft_model.merge_and_unload()


def _set_pixels(model_id, processor, quirks: Quirks, min_pixels: int | None, max_pixels: int | None) -> None:
    """Qwen-style dynamic resolution: explicit min/max_pixels win; otherwise the quirk's range caps the
    processor's own (the Hub default of up to 12.8 MP per image is far too many tokens for evaluation)."""
    image_processor = getattr(processor, "image_processor", None)
    dynamic = image_processor is not None and hasattr(image_processor, "merge_size")
    if (min_pixels or max_pixels) and not dynamic:
        raise UserError(f"model {model_id!r}: min/max_pixels only apply to dynamic-resolution (Qwen-VL) models")
    if not dynamic:
        return
    size = dict(image_processor.size)
    lo, hi = size.get("shortest_edge"), size.get("longest_edge")
    if max_pixels or min_pixels:
        hi, lo = max_pixels or hi, min_pixels or lo
    elif quirks.pixels and lo and hi:
        hi = min(hi, quirks.pixels[1])
        lo = min(max(lo, quirks.pixels[0]), hi)
    size.update(shortest_edge=lo, longest_edge=hi)
    image_processor.size = size


def load_vlm(model_id: str, info: ModelInfo | None = None, device: str = "cpu", dtype: str | None = None,
             adapter: str | None = None, trust_remote_code: bool = False, min_pixels: int | None = None,
             max_pixels: int | None = None) -> HfVlm:
    """Load any `AutoModelForImageTextToText` model (+ optional PEFT adapter) as a `VlmAdapter`."""
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

    if info is None:
        local = Path(model_id)
        info = ModelInfo(name=model_id, id=str(local.resolve()) if local.exists() else model_id, family="vlm",
                         backend="transformers", adapter=adapter)
    try:
        config = AutoConfig.from_pretrained(model_id, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as err:
        raise UserError(f"model {model_id!r}: cannot read its config ({err}); pass a Hub ID, alias or a local "
                        "folder with config.json (GeoChat/H2RSVLM: run `monoir convert` first)") from err
    quirks = quirks_for(config.model_type)
    torch_dtype = resolve_dtype(device, dtype, quirks)
    try:
        placement = {"device_map": device} if str(device).startswith("cuda") else {}  # load straight onto the GPU
        model = AutoModelForImageTextToText.from_pretrained(model_id, dtype=torch_dtype,
                                                            trust_remote_code=trust_remote_code, **placement)
    except ValueError as err:
        raise UserError(f"model {model_id!r} ({config.model_type}) is not an image-text-to-text model "
                        f"transformers can load ({err})") from err
    processor = AutoProcessor.from_pretrained(model_id, trust_remote_code=trust_remote_code)
    _set_pixels(model_id, processor, quirks, min_pixels, max_pixels)
    if adapter:
        model = load_peft_adapter(model, adapter)
    model.to(device).eval()
    info.extra.setdefault("model_type", config.model_type)
    info.extra["dtype"] = str(torch_dtype).replace("torch.", "")
    return HfVlm(model, processor, info, device)
