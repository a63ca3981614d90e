"""Short names of the paper's backbones (SPEC §6). Any other Hub ID or local directory works too."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Alias:
    name: str
    repo_id: str                      # Hub repo (open_clip `hf-hub:` form for open_clip repos with a config)
    family: str                       # "clip" | "vlm"
    backend: str                      # "transformers" | "open_clip"
    filename: str | None = None       # open_clip: checkpoint file inside the repo (plain state dict)
    arch: str | None = None           # open_clip: built-in architecture the checkpoint needs
    needs_conversion: bool = False    # original LLaVA format: `monoir convert` to llava-hf first
    note: str = ""


ALIASES: dict[str, Alias] = {a.name: a for a in (
    Alias("openai-clip-vit-b-32", "openai/clip-vit-base-patch32", "clip", "transformers"),
    Alias("openai-clip-vit-l-14", "openai/clip-vit-large-patch14", "clip", "transformers"),
    Alias("openclip-vit-b-32", "hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "clip", "open_clip"),
    Alias("remoteclip-vit-b-32", "chendelong/RemoteCLIP", "clip", "open_clip",
          filename="RemoteCLIP-ViT-B-32.pt", arch="ViT-B-32-quickgelu"),
    Alias("georsclip-vit-b-32", "Zilun/GeoRSCLIP", "clip", "open_clip",
          filename="ckpt/RS5M_ViT-B-32.pt", arch="ViT-B-32-quickgelu"),
    Alias("qwen2.5-vl-7b", "Qwen/Qwen2.5-VL-7B-Instruct", "vlm", "transformers"),
    Alias("instructblip-flan-t5-xl", "Salesforce/instructblip-flan-t5-xl", "vlm", "transformers"),
    Alias("llava-1.5-7b", "llava-hf/llava-1.5-7b-hf", "vlm", "transformers"),
    Alias("llava-1.6-vicuna-7b", "llava-hf/llava-v1.6-vicuna-7b-hf", "vlm", "transformers"),
    Alias("geochat-7b", "MBZUAI/geochat-7B", "vlm", "transformers", needs_conversion=True,
          note="original LLaVA format: needs conversion to llava-hf"),
    Alias("h2rsvlm-7b", "FitzPC/vhm_7B", "vlm", "transformers", needs_conversion=True,
          note="original LLaVA format: needs conversion to llava-hf"),
)}


def resolve_alias(name: str) -> Alias | None:
    """The alias entry for `name` (case-insensitive), or None."""
    return ALIASES.get(name.strip().lower())


def alias_table() -> str:
    """One line per alias, for error messages and `--help`."""
    return "\n".join(f"  {a.name:<26} {a.repo_id}" + (f" [{a.filename}, {a.arch}]" if a.filename else "")
                     + f" ({a.backend}{'; ' + a.note if a.note else ''})" for a in ALIASES.values())
