"""File helpers for publishing: a fresh staging folder, safetensors-only weights, listings and checksums."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from monoir_rs.errors import UserError

MARKER = ".monoir_publish"  # marks a folder this tool made (and may therefore empty); never uploaded
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")


def fresh_folder(folder: Path, source: Path) -> Path:
    """Create (or empty) the staging folder. Refuses folders it did not make, and the source folder itself."""
    folder = Path(folder).resolve()
    source = Path(source).resolve()
    if folder == source or source.is_relative_to(folder) or folder.is_relative_to(source):
        raise UserError(f"--folder {folder} overlaps the input {source}; choose a folder outside it")
    if folder.exists():
        if not folder.is_dir():
            raise UserError(f"--folder {folder} is a file; choose a folder path")
        if any(folder.iterdir()) and not (folder / MARKER).exists():
            raise UserError(f"--folder {folder} is not empty and was not written by `monoir publish`; "
                            f"choose an empty or new folder")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("written by monoir publish; the folder is rewritten on every run\n")
    return folder


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link `src` to `dst` when on the same file system (fast for big shards), else copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def state_dict_from_pickle(path: Path) -> dict:
    """Tensors of a `.bin/.pt` checkpoint, read with `torch.load(weights_only=True)` (no arbitrary code)."""
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise UserError(f"{path} is a pickle checkpoint that cannot be read safely ({type(err).__name__}); "
                        f"re-save it as safetensors (`save_pretrained(..., safe_serialization=True)`)") from err
    for key in ("state_dict", "model", "module"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise UserError(f"{path} does not hold a plain state dict of tensors; re-save it as safetensors")
    if all(k.startswith("module.") for k in obj):  # DataParallel/DDP checkpoints
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def save_safetensors(state: dict, dst: Path, metadata: dict | None = None) -> None:
    """Write tensors as safetensors; shared storage (tied weights) is cloned so every tensor stands alone."""
    from safetensors.torch import save_file

    seen: set = set()
    out = {}
    for name, tensor in state.items():
        key = tensor.untyped_storage().data_ptr()
        out[name] = tensor.detach().clone().contiguous() if key in seen else tensor.detach().contiguous()
        seen.add(key)
    dst.parent.mkdir(parents=True, exist_ok=True)
    save_file(out, str(dst), metadata={"format": "pt", **(metadata or {})})


def weights_to_safetensors(src: Path, dst: Path) -> str:
    """Copy `src` to `dst` as safetensors (converting a pickle checkpoint); returns "copied" or "converted"."""
    if src.suffix == ".safetensors":
        link_or_copy(src, dst)
        return "copied"
    if src.suffix in PICKLE_SUFFIXES:
        save_safetensors(state_dict_from_pickle(src), dst)
        return "converted"
    raise UserError(f"{src}: unknown weights format; expected .safetensors (or .bin/.pt to convert)")


def repo_files(folder: Path) -> list[tuple[str, int]]:
    """(path in repo, size) of every file that would be uploaded, sorted; the marker is left out."""
    folder = Path(folder)
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != MARKER:
            out.append((p.relative_to(folder).as_posix(), p.stat().st_size))
    return out


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
