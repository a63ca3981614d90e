"""Paper training defaults: Table 18 (IR-CLIP, per backbone) and Table 19 / §C.4 (IR-VLM LoRA, per family).

Shared CLIP settings (§C.3): frozen text encoder, AdamW, weight decay 0.1, gradient clipping 1.0, fp16 AMP,
20 linear warm-up steps then cosine decay; checkpoint selected by validation mR (Algorithm 2).
Shared VLM settings (Table 5/19): LoRA r=32, alpha=64, dropout 0.05, lr 2e-4, cosine, warm-up ratio 0.03,
one epoch, projector trained where exposed, final-epoch adapter kept.

Documented choices for models the paper did not train:
- an unknown real CLIP backbone gets the B/32-family settings with batch 256 (`DEFAULT_CLIP`);
- a tiny random-weight model (fewer than `TINY_PARAMS` parameters, e.g. `monoir tiny-model`) gets a short,
  high learning-rate schedule (`TINY_CLIP` / `TINY_VLM`) so the offline demo learns something in seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

TINY_PARAMS = 20_000_000


@dataclass(frozen=True)
class ClipRecipe:
    name: str
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    warmup_steps: int = 20
    stage2: dict | None = None   # Table 18 bracketed values (OpenAI ViT-L/14 only)

    def to_dict(self) -> dict:
        return asdict(self)


_B32 = dict(epochs=2, lr=2e-6)
CLIP_RECIPES: dict[str, ClipRecipe] = {
    "openai-clip-vit-b-32": ClipRecipe("openai-clip-vit-b-32", batch_size=768, **_B32),
    "openai-clip-vit-l-14": ClipRecipe("openai-clip-vit-l-14", epochs=2, batch_size=256, lr=1e-6,
                                       stage2={"epochs": 6, "batch_size": 128, "lr": 5e-7}),
    "openclip-vit-b-32": ClipRecipe("openclip-vit-b-32", batch_size=1024, **_B32),
    "georsclip-vit-b-32": ClipRecipe("georsclip-vit-b-32", batch_size=1024, **_B32),
    "remoteclip-vit-b-32": ClipRecipe("remoteclip-vit-b-32", batch_size=1024, **_B32),
}
# The same recipes under the resolved ids (SPEC §6), so a Hub ID finds its row too.
_CLIP_IDS = {
    "openai/clip-vit-base-patch32": "openai-clip-vit-b-32",
    "openai/clip-vit-large-patch14": "openai-clip-vit-l-14",
    "hf-hub:laion/clip-vit-b-32-laion2b-s34b-b79k": "openclip-vit-b-32",
    "laion/clip-vit-b-32-laion2b-s34b-b79k": "openclip-vit-b-32",
    "zilun/georsclip": "georsclip-vit-b-32",
    "chendelong/remoteclip": "remoteclip-vit-b-32",
}
DEFAULT_CLIP = ClipRecipe("default (unknown backbone: B/32-family settings)", epochs=2, batch_size=256, lr=2e-6)
TINY_CLIP = ClipRecipe("tiny (offline demo)", epochs=20, batch_size=16, lr=2e-3, warmup_steps=10)


def clip_recipe(name: str, model_id: str | None = None, n_params: int | None = None, stage: int = 1) -> ClipRecipe:
    """Table 18 row for an alias / Hub ID (else the documented defaults); `stage=2` gives the ViT-L/14 resume."""
    key = None
    for cand in (name, model_id):
        cand = (cand or "").strip().lower()
        if cand in CLIP_RECIPES:
            key = cand
        elif cand in _CLIP_IDS:
            key = _CLIP_IDS[cand]
        if key:
            break
    if key:
        recipe = CLIP_RECIPES[key]
    elif n_params is not None and n_params < TINY_PARAMS:
        recipe = TINY_CLIP
    else:
        recipe = DEFAULT_CLIP
    if stage == 2:
        if not recipe.stage2:
            from monoir_rs.errors import UserError

            raise UserError(f"model {name}: only OpenAI CLIP ViT-L/14 has a stage-2 schedule in Table 18; "
                            "drop --stage 2 or pass --epochs/--batch-size/--lr yourself")
        recipe = replace(recipe, name=recipe.name + " stage 2", stage2=None, **recipe.stage2)
    return recipe


@dataclass(frozen=True)
class VlmRecipe:
    family: str
    batch_size: int
    grad_accum: int
    max_len: int | None               # None: the processor's default (no truncation)
    target_modules: tuple[str, ...]   # leaf module names inside the language model
    projector: tuple[str, ...]        # trained in full via PEFT `modules_to_save`
    lr: float = 2e-4
    epochs: float = 1.0
    lora_r: int = 32
    lora_alpha: int = 64
    lora_dropout: float = 0.05
    warmup_ratio: float = 0.03
    scheduler: str = "cosine"
    notes: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


_ATTN_MLP = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
VLM_RECIPES: dict[str, VlmRecipe] = {
    "qwen2_5_vl": VlmRecipe("qwen2_5_vl", 1, 8, None, _ATTN_MLP, ("visual.merger",),
                            notes="Table 19: 1x8, processor default length, q,k,v,o,gate,up,down proj"),
    "instructblip": VlmRecipe("instructblip", 2, 8, 128, ("q", "v"), ("language_projection",),
                              notes="Table 19: 2x8, max len 128, LoRA on the FLAN-T5 q and v projections"),
    "llava": VlmRecipe("llava", 4, 4, 1024, _ATTN_MLP, ("multi_modal_projector",),
                       notes="Table 19: 4x4, max len 1024, LLaVA default attention/MLP projections "
                             "(also GeoChat / H2RSVLM after conversion to llava-hf)"),
    "llava_next": VlmRecipe("llava_next", 4, 4, 1024, _ATTN_MLP, ("multi_modal_projector",),
                            notes="Table 19: LLaVA-1.6 as LLaVA"),
}
# Tiny random models: same families, a schedule short enough for the CPU demo, and the LM head trained too
# (documented choice): a random, frozen head gives near-uniform logits that LoRA cannot sharpen, because the
# final norm bounds the hidden state, so a tiny model would learn nothing visible in the demo.
TINY_VLM = dict(batch_size=4, grad_accum=1, lr=5e-3, epochs=4.0)
TINY_VLM_EXTRA = ("lm_head",)


def vlm_recipe(model_type: str, n_params: int | None = None) -> VlmRecipe:
    """Table 19 row for a transformers `model_type` (qwen2_5_vl, instructblip, llava, llava_next)."""
    key = model_type.replace("-", "_").lower()
    if key == "qwen2_vl":
        key = "qwen2_5_vl"
    if key not in VLM_RECIPES:
        from monoir_rs.errors import UserError

        raise UserError(f"VLM family {model_type!r} has no LoRA recipe; supported: {', '.join(VLM_RECIPES)} "
                        "(GeoChat / H2RSVLM: convert them to llava-hf first with `monoir convert`)")
    recipe = VLM_RECIPES[key]
    if n_params is not None and n_params < TINY_PARAMS:
        recipe = replace(recipe, notes=recipe.notes + "; tiny model: short high-lr schedule, LM head trained",
                         projector=recipe.projector + TINY_VLM_EXTRA, **TINY_VLM)
    return recipe
