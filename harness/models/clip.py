"""CLIP-family adapters (dual encoders): transformers `AutoModel` and open_clip.

Both use the model's own processor / transform / tokenizer and return L2-normalised float32 CPU embeddings.
Image transforms are small picklable objects (no model inside) so DataLoader workers can run them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import torch

from monoir_rs.errors import UserError

from .base import ModelInfo
from .detect import Detected, hub_revision

log = logging.getLogger(__name__)

DTYPES = {None: None, "auto": None, "float32": torch.float32, "fp32": torch.float32, "float16": torch.float16,
          "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}


def torch_dtype(dtype: str | None):
    if dtype not in DTYPES:
        raise UserError(f"unknown --dtype {dtype!r}; choose from float32, float16, bfloat16")
    return DTYPES[dtype]


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _normalize(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(x.detach().float(), dim=-1).cpu()


def _features(out) -> torch.Tensor:
    """transformers ≤4 returns a tensor; 5 returns an output object whose pooler_output is the projection."""
    if isinstance(out, torch.Tensor):
        return out
    for attr in ("image_embeds", "text_embeds", "pooler_output"):
        val = getattr(out, attr, None)
        if isinstance(val, torch.Tensor):
            return val
    raise TypeError(f"cannot find embeddings in {type(out).__name__}")


class HFImageTransform:
    """PIL image → (C, H, W) tensor with a transformers image processor."""

    def __init__(self, image_processor):
        self.image_processor = image_processor

    def __call__(self, image) -> torch.Tensor:
        return self.image_processor(images=image.convert("RGB"), return_tensors="pt")["pixel_values"][0]


class RGBTransform:
    """open_clip transform applied to the image converted to RGB (IR images are single-channel)."""

    def __init__(self, transform):
        self.transform = transform

    def __call__(self, image) -> torch.Tensor:
        return self.transform(image.convert("RGB"))


class _ClipBase:
    info: ModelInfo
    preprocess_key: str
    image_transform: Any
    device: str
    dtype: Any

    def preprocess_image(self, image) -> torch.Tensor:
        return self.image_transform(image)

    def _pixels(self, pixel_values: torch.Tensor) -> torch.Tensor:
        pv = pixel_values.to(self.device, non_blocking=True)
        return pv.to(self.dtype) if self.dtype is not None else pv

    def eval(self):
        self.model.eval()
        return self


class TransformersClip(_ClipBase):
    """Any transformers dual encoder with `get_image_features` / `get_text_features` (CLIP, SigLIP, ...)."""

    def __init__(self, model, processor, info: ModelInfo, device: str = "cpu", dtype=None):
        self.model, self.processor, self.info, self.device, self.dtype = model, processor, info, device, dtype
        image_processor = getattr(processor, "image_processor", processor)
        self.tokenizer = getattr(processor, "tokenizer", None)
        if self.tokenizer is None:
            raise UserError(f"{info.name}: its processor has no tokenizer; a dual encoder needs one")
        self.image_transform = HFImageTransform(image_processor)
        cfg = model.config
        text_cfg = getattr(cfg, "text_config", cfg)
        self.max_length = min(int(getattr(text_cfg, "max_position_embeddings", 77) or 77),
                              int(self.tokenizer.model_max_length or 10**6))
        # SigLIP was trained with texts padded to max_length; CLIP pools at EOS so padding does not matter.
        self.padding = "max_length" if "siglip" in str(cfg.model_type) else True
        self.preprocess_key = _key("transformers", image_processor.to_dict(), type(self.tokenizer).__name__,
                                   len(self.tokenizer), self.max_length, self.padding)

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        return dict(self.tokenizer(list(texts), padding=self.padding, truncation=True, max_length=self.max_length,
                                   return_tensors="pt"))

    @torch.inference_mode()
    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return _normalize(_features(self.model.get_image_features(pixel_values=self._pixels(pixel_values))))

    @torch.inference_mode()
    def encode_texts(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        tokens = {k: v.to(self.device) for k, v in tokens.items()
                  if k in ("input_ids", "attention_mask", "position_ids")}
        return _normalize(_features(self.model.get_text_features(**tokens)))

    def save_pretrained(self, out: str | Path) -> Path:
        out = Path(out)
        self.model.save_pretrained(out)
        self.processor.save_pretrained(out)
        return out


class OpenClip(_ClipBase):
    """open_clip model + its validation transform + tokenizer."""

    def __init__(self, model, transform, tokenizer, info: ModelInfo, device: str = "cpu", dtype=None,
                 config: dict | None = None):
        self.model, self.tokenizer, self.info, self.device, self.dtype = model, tokenizer, info, device, dtype
        self.image_transform = RGBTransform(transform)
        self.config = config or {}
        tok_desc = (type(tokenizer).__name__, getattr(tokenizer, "context_length", None),
                    len(getattr(tokenizer, "tokenizer", None) or []) if hasattr(tokenizer, "tokenizer") else None)
        self.preprocess_key = _key("open_clip", repr(transform), tok_desc)

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        return self.tokenizer(list(texts))

    @torch.inference_mode()
    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return _normalize(self.model.encode_image(self._pixels(pixel_values)))

    @torch.inference_mode()
    def encode_texts(self, tokens: torch.Tensor) -> torch.Tensor:
        return _normalize(self.model.encode_text(tokens.to(self.device)))

    def save_pretrained(self, out: str | Path) -> Path:
        """Write an open_clip `local-dir:` folder: open_clip_config.json + open_clip_model.safetensors (+ tokenizer)."""
        from safetensors.torch import save_file

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        if not self.config.get("model_cfg"):
            raise UserError(f"{self.info.name}: no open_clip model config to save with the weights")
        (out / "open_clip_config.json").write_text(json.dumps(self.config, indent=2), encoding="utf-8")
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, str(out / "open_clip_model.safetensors"))
        if hasattr(self.tokenizer, "save_pretrained"):
            self.tokenizer.save_pretrained(out)
        return out


def _load_state_dict(path: str) -> dict[str, torch.Tensor]:
    """A plain checkpoint, loaded safely (safetensors or torch.load(weights_only=True))."""
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        sd = load_file(path)
    else:
        try:
            sd = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - unpickling refused: explain instead of retrying unsafely
            raise UserError(f"{path} could not be loaded with torch.load(weights_only=True) ({err}); "
                            f"convert it to safetensors or a plain state dict") from err
    if isinstance(sd, dict) and isinstance(sd.get("state_dict"), dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise UserError(f"{path} does not contain a state dict (a mapping of names to tensors)")
    return {k.removeprefix("module."): v for k, v in sd.items()}


def _load_open_clip(found: Detected, device: str, dtype) -> OpenClip:
    import open_clip
    from open_clip.factory import get_model_config

    oc = dict(found.open_clip)
    info = found.model_info()
    weights_report: dict[str, Any] = {}
    if "arch" in oc:  # built-in architecture + tag, or + plain checkpoint file (local or in a Hub repo)
        arch = oc["arch"]
        ckpt = oc.get("checkpoint")
        if oc.get("repo"):
            from .detect import _hub_file

            ckpt = _hub_file(oc["repo"], oc["filename"], found.revision)
            if not ckpt:
                raise UserError(f"{oc['repo']} has no file {oc['filename']}")
            info.revision = hub_revision(ckpt) or info.revision
        pretrained = None if ckpt else oc.get("pretrained")
        try:
            model, _, transform = open_clip.create_model_and_transforms(arch, pretrained=pretrained)
        except RuntimeError as err:
            tags = [t for a, t in open_clip.list_pretrained() if a == arch]
            raise UserError(f"open_clip could not load {arch} with pretrained={pretrained!r} ({err}); "
                            f"known tags for {arch}: {tags}") from err
        if ckpt:
            sd = _load_state_dict(str(ckpt))
            if "logit_scale" in sd and sd["logit_scale"].ndim != model.logit_scale.ndim:
                sd["logit_scale"] = sd["logit_scale"].reshape(model.logit_scale.shape)
            result = model.load_state_dict(sd, strict=False)
            weights_report = {"checkpoint": str(ckpt), "missing_keys": list(result.missing_keys),
                              "unexpected_keys": list(result.unexpected_keys)}
            if result.missing_keys or result.unexpected_keys:
                log.warning("%s: %d missing keys %s, %d unexpected keys %s", ckpt, len(result.missing_keys),
                            result.missing_keys[:8], len(result.unexpected_keys), result.unexpected_keys[:8])
        tokenizer = open_clip.get_tokenizer(arch)
        config = {"model_cfg": get_model_config(arch), "preprocess_cfg": _preprocess_cfg(model)}
    else:  # hf-hub: / local-dir: schemas carry their own config, weights and tokenizer
        try:
            model, _, transform = open_clip.create_model_and_transforms(found.load_id)
        except (RuntimeError, FileNotFoundError, ValueError) as err:
            raise UserError(f"open_clip could not load {found.load_id}: {err}") from err
        tokenizer = open_clip.get_tokenizer(found.load_id)
        config = _open_clip_json(found.load_id)
    info.extra.update(weights_report)
    model = model.to(device)
    if dtype is not None:
        model = model.to(dtype)
    return OpenClip(model.eval(), transform, tokenizer, info, device, dtype, config).eval()


def _preprocess_cfg(model) -> dict:
    vis = getattr(model, "visual", None)
    cfg = getattr(vis, "preprocess_cfg", None)
    return dict(cfg) if cfg else {}


def _open_clip_json(load_id: str) -> dict:
    if load_id.startswith("local-dir:"):
        return json.loads((Path(load_id[len("local-dir:"):]) / "open_clip_config.json").read_text())
    from .detect import _hub_file

    path = _hub_file(load_id[len("hf-hub:"):], "open_clip_config.json", None)
    return json.loads(Path(path).read_text()) if path else {}


def _load_transformers(found: Detected, device: str, dtype, trust_remote_code: bool) -> TransformersClip:
    from transformers import AutoImageProcessor, AutoModel, AutoProcessor, AutoTokenizer

    kwargs = {"revision": found.revision} if found.revision and not found.revision.startswith("local-") else {}
    try:
        model = AutoModel.from_pretrained(found.load_id, trust_remote_code=trust_remote_code,
                                          dtype=dtype, **kwargs)
    except OSError as err:
        raise UserError(f"could not load {found.name} ({found.load_id}): {err}") from err
    if not (hasattr(model, "get_image_features") and hasattr(model, "get_text_features")):
        raise UserError(f"{found.name}: {type(model).__name__} has no get_image_features/get_text_features; "
                        "it is not a dual encoder")
    try:
        processor = AutoProcessor.from_pretrained(found.load_id, trust_remote_code=trust_remote_code, **kwargs)
        if not hasattr(processor, "image_processor"):
            raise TypeError
    except (OSError, TypeError, ValueError):
        from types import SimpleNamespace

        processor = SimpleNamespace(
            image_processor=AutoImageProcessor.from_pretrained(found.load_id, **kwargs),
            tokenizer=AutoTokenizer.from_pretrained(found.load_id, **kwargs),
            save_pretrained=lambda out: (processor.image_processor.save_pretrained(out),
                                         processor.tokenizer.save_pretrained(out)))
    model = model.to(device).eval()
    return TransformersClip(model, processor, found.model_info(), device, dtype)


def load_clip(found: Detected, adapter: str | None = None, device: str = "cpu", dtype: str | None = None,
              trust_remote_code: bool = False):
    """Load a detected dual encoder; a PEFT `adapter` (LoRA) is applied on top when given."""
    tdtype = torch_dtype(dtype) or torch.float32
    clip = (_load_open_clip(found, device, tdtype) if found.backend == "open_clip"
            else _load_transformers(found, device, tdtype, trust_remote_code))
    if adapter:
        from peft import PeftModel

        try:
            clip.model = PeftModel.from_pretrained(clip.model, adapter).merge_and_unload().eval()
        except (OSError, ValueError) as err:
            raise UserError(f"could not load adapter {adapter!r} onto {found.name}: {err}") from err
        clip.info.adapter = adapter
        if Path(adapter).exists():  # a re-saved local adapter must not hit stale cached embeddings
            from .detect import local_revision

            clip.info.extra["adapter_revision"] = local_revision(Path(adapter))
    return clip
