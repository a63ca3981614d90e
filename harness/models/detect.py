"""Model resolution and family detection from a repo's files (local folder or Hub ID).

Accepted model names:
  alias (SPEC §6)                          e.g. remoteclip-vit-b-32
  local folder                             open_clip_config.json → open_clip; config.json → transformers
  Hub ID                                   same detection on the repo's config files (downloaded)
  hf-hub:ORG/NAME, local-dir:PATH          open_clip schemas
  ARCH@TAG or ARCH:TAG                     open_clip built-in architecture with a `pretrained=` tag
  ARCH@FILE (.pt/.pth/.bin/.safetensors)   plain state dict for a built-in architecture (e.g. RemoteCLIP)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monoir_rs.errors import UserError

from .aliases import Alias, alias_table, resolve_alias
from .base import ModelInfo

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".npz")


@dataclass
class Detected:
    """What `detect` found: enough to load the model and to describe it in results.json."""

    name: str                         # what the user typed
    id: str                           # resolved Hub ID / absolute path / open_clip spec
    family: str                       # clip | vlm
    backend: str                      # transformers | open_clip
    load_id: str                      # what the backend loader receives
    revision: str | None = None
    open_clip: dict[str, Any] = field(default_factory=dict)  # arch, pretrained, checkpoint, repo, filename
    alias: Alias | None = None

    def model_info(self, adapter: str | None = None) -> ModelInfo:
        extra = {k: v for k, v in self.open_clip.items() if v is not None}
        return ModelInfo(name=self.name, id=self.id, family=self.family, backend=self.backend,
                         revision=self.revision, adapter=adapter, extra=extra)


def local_revision(path: Path) -> str:
    """A revision for local weights: hash of weight file names, sizes and mtimes (changes when re-saved)."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in WEIGHT_SUFFIXES)
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return "local-" + h.hexdigest()[:16]


def hub_revision(downloaded: str | Path) -> str | None:
    """The commit hash from a Hub cache path (…/snapshots/<commit>/file), if it is one."""
    parts = Path(downloaded).parts
    return parts[parts.index("snapshots") + 1] if "snapshots" in parts else None


def _unknown(name: str, why: str) -> UserError:
    return UserError(f"cannot resolve model {name!r}: {why}. Give an alias, a Hub ID, a local folder with "
                     f"config.json / open_clip_config.json, or ARCH@CHECKPOINT for open_clip. Aliases:\n"
                     f"{alias_table()}")


def _config_family(cfg: dict, where: str, trust_remote_code: bool = False) -> str:
    """clip | vlm from a transformers config.json (architectures first, then model_type)."""
    from transformers.models.auto import modeling_auto as ma

    vlm_types = set(ma.MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES) | set(
        getattr(ma, "MODEL_FOR_VISION_2_SEQ_MAPPING_NAMES", {}))
    archs = [str(a) for a in cfg.get("architectures") or []]
    model_type = cfg.get("model_type")
    generative = any(a.endswith(("ForConditionalGeneration", "ForCausalLM", "Vision2Seq")) for a in archs)

    def is_dual(cls_name: str) -> bool:
        import transformers

        cls = getattr(transformers, cls_name, None)
        return cls is not None and hasattr(cls, "get_image_features") and hasattr(cls, "get_text_features")

    if archs and not generative and any(is_dual(a) for a in archs):
        return "clip"
    if model_type in vlm_types or generative:
        return "vlm"
    base = ma.MODEL_MAPPING_NAMES.get(model_type)
    if isinstance(base, str) and is_dual(base):
        return "clip"
    if cfg.get("auto_map") and not trust_remote_code:
        raise UserError(f"{where} uses custom code (auto_map); re-run with --trust-remote-code if you trust it")
    if cfg.get("auto_map"):
        return "vlm" if generative else "clip"
    raise UserError(f"{where}: model_type {model_type!r} / architectures {archs} is neither a dual encoder "
                    f"(get_image_features + get_text_features) nor an image-text-to-text model")


def _detect_dir(name: str, path: Path, trust_remote_code: bool) -> Detected:
    path = path.resolve()
    if (path / "open_clip_config.json").is_file():
        return Detected(name, str(path), "clip", "open_clip", f"local-dir:{path}", local_revision(path))
    if (path / "config.json").is_file():
        cfg = json.loads((path / "config.json").read_text(encoding="utf-8"))
        family = _config_family(cfg, str(path / "config.json"), trust_remote_code)
        return Detected(name, str(path), family, "transformers", str(path), local_revision(path))
    raise _unknown(name, f"folder {path} has neither open_clip_config.json nor config.json")


def _hub_file(repo_id: str, filename: str, revision: str | None) -> str | None:
    """Download one file from the Hub; None if the repo lacks it; UserError if the Hub cannot be reached."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        return hf_hub_download(repo_id, filename, revision=revision)
    except EntryNotFoundError:
        return None
    except RepositoryNotFoundError as err:
        raise _unknown(repo_id, "no such Hub repo (or it is private: run `hf auth login`)") from err
    except LocalEntryNotFoundError as err:
        raise _unknown(repo_id, f"the Hub is unreachable (offline?) and {filename} is not in the local cache") from err


def _detect_hub(name: str, repo_id: str, revision: str | None, trust_remote_code: bool) -> Detected:
    oc = _hub_file(repo_id, "open_clip_config.json", revision)
    if oc:
        return Detected(name, repo_id, "clip", "open_clip", f"hf-hub:{repo_id}", hub_revision(oc))
    cfg_path = _hub_file(repo_id, "config.json", revision)
    if not cfg_path:
        raise _unknown(name, f"Hub repo {repo_id} has neither open_clip_config.json nor config.json")
    cfg = json.loads(Path(cfg_path).read_text(encoding="utf-8"))
    family = _config_family(cfg, f"{repo_id}/config.json", trust_remote_code)
    return Detected(name, repo_id, family, "transformers", repo_id, hub_revision(cfg_path))


def _open_clip_arch(spec: str) -> tuple[str, str] | None:
    """Split `ARCH@TAG` / `ARCH:TAG` when ARCH is an open_clip built-in architecture."""
    for sep in ("@", ":"):
        if sep in spec:
            arch, tag = spec.split(sep, 1)
            import open_clip

            if arch in open_clip.list_models():
                return arch, tag
    return None


def detect(name: str, revision: str | None = None, trust_remote_code: bool = False) -> Detected:
    """Resolve a model name to what should be loaded and which family/backend it is."""
    name = str(name).strip()
    alias = resolve_alias(name)
    if alias:
        if alias.needs_conversion:
            raise UserError(f"{alias.name} ({alias.repo_id}) is in the original LLaVA format ({alias.note}); "
                            f"convert it first (`monoir convert --help`) and pass the converted folder as --model")
        if alias.backend == "open_clip" and alias.filename:
            oc = {"arch": alias.arch, "repo": alias.repo_id, "filename": alias.filename}
            return Detected(name, f"{alias.repo_id}/{alias.filename}", "clip", "open_clip", alias.arch, revision,
                            open_clip=oc, alias=alias)
        if alias.backend == "open_clip":
            return Detected(name, alias.repo_id.removeprefix("hf-hub:"), "clip", "open_clip", alias.repo_id,
                            revision, alias=alias)
        return Detected(name, alias.repo_id, alias.family, alias.backend, alias.repo_id, revision, alias=alias)
    if name.startswith("hf-hub:"):
        return Detected(name, name[len("hf-hub:"):], "clip", "open_clip", name, revision)
    if name.startswith("local-dir:"):
        path = Path(name[len("local-dir:"):]).expanduser().resolve()
        if not (path / "open_clip_config.json").is_file():
            raise _unknown(name, f"{path} has no open_clip_config.json")
        return Detected(name, str(path), "clip", "open_clip", f"local-dir:{path}", local_revision(path))
    split = _open_clip_arch(name)
    if split:
        arch, tag = split
        file = Path(tag).expanduser()
        if file.is_file():
            file = file.resolve()
            return Detected(name, f"{arch}@{file}", "clip", "open_clip", arch, local_revision(file),
                            open_clip={"arch": arch, "checkpoint": str(file)})
        return Detected(name, f"{arch}@{tag}", "clip", "open_clip", arch, revision,
                        open_clip={"arch": arch, "pretrained": tag})
    path = Path(name).expanduser()
    if path.is_dir():
        return _detect_dir(name, path, trust_remote_code)
    if path.is_file():
        if path.suffix in WEIGHT_SUFFIXES:
            raise _unknown(name, "a bare checkpoint file needs its open_clip architecture: pass ARCH@FILE, "
                                 f"e.g. ViT-B-32-quickgelu@{path}")
        raise _unknown(name, "it is a file, not a model folder")
    if name.count("/") == 1 and not name.startswith((".", "/", "~")):
        return _detect_hub(name, name, revision, trust_remote_code)
    raise _unknown(name, "no such alias, local folder or Hub ID")
