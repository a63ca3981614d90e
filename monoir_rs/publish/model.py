"""`monoir publish model`: a complete Hub repo folder for a PEFT adapter, a transformers checkpoint or an
open_clip checkpoint, with a model card carrying metadata and `model-index` results, then one commit."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from monoir_rs.errors import UserError
from monoir_rs.publish import files as F
from monoir_rs.publish import results as R

TRAINING_FILE = "monoir_training.json"
# Tokenizer, processor and generation files a transformers model may need next to its weights.
PROCESSOR_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
                   "merges.txt", "added_tokens.json", "tokenizer.model", "spiece.model", "vocab.txt",
                   "sentencepiece.bpe.model", "preprocessor_config.json", "processor_config.json",
                   "video_preprocessor_config.json", "chat_template.json", "chat_template.jinja",
                   "generation_config.json")
OPEN_CLIP_WEIGHTS = ("open_clip_model.safetensors", "open_clip_pytorch_model.safetensors",
                     "open_clip_pytorch_model.bin", "open_clip_pytorch_model.pth", "model.safetensors",
                     "pytorch_model.bin", "model.pth")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
PIPELINE = {"clip": "zero-shot-image-classification", "vlm": "image-text-to-text"}
VLM_TYPES = ("vl", "llava", "blip", "vision2seq", "image_text", "idefics", "paligemma", "mllama", "gemma3")


@dataclass
class Staged:
    """What was written: the folder, the card path, what each weight file became, and what was left out."""

    folder: Path
    card: Path
    library: str
    family: str
    weights: dict[str, str] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # source files that went into the repo

    def take(self, src: Path, name: str, out_name: str | None = None) -> str:
        """Stage `src/name` as weights (safetensors) or as is; remember it was used."""
        self.used.add(name)
        target = self.folder / (out_name or name)
        if out_name or name.endswith(F.PICKLE_SUFFIXES + (".safetensors",)):
            self.weights[out_name or name] = F.weights_to_safetensors(src / name, target)
        else:
            F.link_or_copy(src / name, target)
        return out_name or name


def hub_id(value) -> str | None:
    """`value` as a Hub repo id (`hf-hub:` prefix removed), or None for local paths and other strings."""
    if not value:
        return None
    s = str(value).removeprefix("hf-hub:")
    return s if HUB_ID.match(s) and not Path(s).exists() else None


def detect_library(path: Path) -> str:
    """peft (adapter_config.json), open_clip (open_clip_config.json) or transformers (config.json)."""
    if (path / "adapter_config.json").is_file():
        return "peft"
    if (path / "open_clip_config.json").is_file():
        return "open_clip"
    if (path / "config.json").is_file():
        return "transformers"
    raise UserError(f"{path} holds no adapter_config.json, open_clip_config.json or config.json; pass the folder "
                    f"a training run saved its weights to (e.g. `monoir train clip --out OUT` -> OUT)")


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise UserError(f"cannot read {path} ({err}); it should be a JSON file written by the training run") from err


def _family_of_config(cfg: dict) -> str:
    text = " ".join([str(cfg.get("model_type", ""))] + [str(a) for a in cfg.get("architectures") or []]).lower()
    if "clip" in text or "siglip" in text:
        return "clip"
    return "vlm"


# --- weights -------------------------------------------------------------------------------------------------

def _stage_transformers_weights(src: Path, out: Path, st: Staged) -> None:
    safe = sorted(src.glob("model*.safetensors"))
    if safe:
        for p in safe:
            st.take(src, p.name)
        if (src / "model.safetensors.index.json").is_file():
            st.take(src, "model.safetensors.index.json")
        return
    bins = sorted(src.glob("pytorch_model*.bin"))
    if not bins:
        raise UserError(f"{src} has config.json but no model*.safetensors or pytorch_model*.bin weights")
    rename = {p.name: p.name.replace("pytorch_model", "model").replace(".bin", ".safetensors") for p in bins}
    for p in bins:
        st.take(src, p.name, rename[p.name])
    index = src / "pytorch_model.bin.index.json"
    if index.is_file():
        st.used.add(index.name)
        data = read_json(index)
        data["weight_map"] = {k: rename.get(v, v) for k, v in data.get("weight_map", {}).items()}
        (out / "model.safetensors.index.json").write_text(json.dumps(data, indent=2) + "\n")


def _stage_peft_weights(src: Path, out: Path, st: Staged) -> None:
    for name in ("adapter_model.safetensors", "adapter_model.bin"):
        if (src / name).is_file():
            st.take(src, name, "adapter_model.safetensors")
            return
    raise UserError(f"{src} has adapter_config.json but no adapter_model.safetensors (or .bin)")


def _stage_open_clip_weights(src: Path, out: Path, st: Staged) -> None:
    for name in OPEN_CLIP_WEIGHTS:
        if (src / name).is_file():
            st.take(src, name, "open_clip_model.safetensors")
            return
    raise UserError(f"{src} has open_clip_config.json but no weights ({', '.join(OPEN_CLIP_WEIGHTS)})")


def _copy_processor(src: Path, out: Path, processor_from: str | None, st: Staged) -> list[str]:
    copied = [st.take(src, name) for name in PROCESSOR_FILES if (src / name).is_file()]
    if processor_from:
        from transformers import AutoProcessor

        try:
            AutoProcessor.from_pretrained(processor_from).save_pretrained(str(out))
        except Exception as err:
            raise UserError(f"cannot load a processor from --processor-from {processor_from} ({err})") from err
    return copied


def _check_processor(out: Path, family: str) -> None:
    has_tok = (out / "tokenizer_config.json").is_file() or (out / "tokenizer.json").is_file()
    has_img = (out / "preprocessor_config.json").is_file() or (out / "processor_config.json").is_file()
    if not (has_tok and has_img):
        missing = " and ".join(w for w, ok in (("tokenizer", has_tok), ("image processor", has_img)) if not ok)
        raise UserError(f"the checkpoint has no {missing} files, so the published {family} model could not be "
                        f"used; save them next to the weights (`processor.save_pretrained(OUT)`) or pass "
                        f"--processor-from BASE_MODEL_OR_DIR")


def _write_open_clip_config(src: Path, out: Path, repo_id: str, tokenizer_files: list[str]) -> None:
    """Copy open_clip_config.json; an HF tokenizer shipped in the folder under a non-Hub name (a local path)
    is pointed at this repo, so `get_tokenizer("hf-hub:REPO")` finds it (`local-dir:` reads the folder anyway)."""
    cfg = read_json(src / "open_clip_config.json")
    if "model_cfg" not in cfg:
        raise UserError(f"{src / 'open_clip_config.json'} has no `model_cfg`; write it with open_clip's "
                        f"save_for_hf layout ({{model_cfg, preprocess_cfg}})")
    text = cfg["model_cfg"].get("text_cfg") or {}
    name = text.get("hf_tokenizer_name")
    if name and not hub_id(name) and any(f.startswith("tokenizer") for f in tokenizer_files):
        text["hf_tokenizer_name"] = repo_id
    (out / "open_clip_config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")


# --- card ----------------------------------------------------------------------------------------------------

def _show(value):
    """Card display of a recorded value: floats to 6 significant digits (34.2105, 0.0005, 1e-06)."""
    return f"{value:.6g}" if isinstance(value, float) else value


def training_summary(training: dict) -> dict:
    """The card's view of `monoir_training.json` (monoir_rs/train/common.py `write_training_json`):
    recipe, base model {name, id}, data {path, fingerprint}, seed, best {...}, hyperparameters, versions."""
    base = training.get("model") or training.get("base_model") or {}
    base = base if isinstance(base, dict) else {"name": base}
    data = training.get("data") or {}
    data = data if isinstance(data, dict) else {"path": data}
    best = training.get("best") if isinstance(training.get("best"), dict) else {}
    hp = training.get("hyperparameters") if isinstance(training.get("hyperparameters"), dict) else {}
    recipe = str(training.get("recipe") or "")
    return {"recipe": recipe or None, "family": "clip" if "clip" in recipe else ("vlm" if "vlm" in recipe else None),
            "base_name": base.get("name"), "base_id": base.get("id") or base.get("name"),
            "data_path": data.get("path"), "data_fingerprint": data.get("fingerprint"),
            "data_config": data.get("config"), "seed": training.get("seed"),
            "best": {k: _show(v) for k, v in best.items() if v is not None and not isinstance(v, (dict, list))},
            "hyperparameters": {k: _show(v) for k, v in hp.items() if not isinstance(v, (dict, list))},
            "versions": training.get("versions") if isinstance(training.get("versions"), dict) else {}}


def _base_model(library: str, src: Path, training: dict, override: str | None) -> str | None:
    if override:
        return override
    if library == "peft":
        cfg = read_json(src / "adapter_config.json")
        return cfg.get("base_model_name_or_path") or training.get("base_id")
    return training.get("base_id")


def _family(library: str, src: Path, training: dict, base: str | None) -> str:
    if library == "open_clip":
        return "clip"
    if training.get("family"):
        return training["family"]
    if library == "transformers":
        return _family_of_config(read_json(src / "config.json"))
    if base and (Path(base) / "config.json").is_file():
        return _family_of_config(read_json(Path(base) / "config.json"))
    if base and (Path(base) / "open_clip_config.json").is_file():
        return "clip"
    return "vlm"


def _base_loader(base: str | None) -> dict:
    """How the card's code loads the base model of an adapter: library and the string to pass."""
    if not base:
        return {"library": "transformers", "ref": "BASE_MODEL"}
    if str(base).startswith("hf-hub:") or (Path(base) / "open_clip_config.json").is_file():
        return {"library": "open_clip", "ref": base if str(base).startswith("hf-hub:") else f"local-dir:{base}"}
    return {"library": "transformers", "ref": base}


def publish_model(path, repo_id: str, results=(), zero_shot=(), *, folder=None, dry_run: bool = False,
                  private: bool = False, dataset_id: str | None = None, base_model: str | None = None,
                  license: str | None = None, processor_from: str | None = None) -> dict:
    """Stage `path` as a Hub model repo (weights as safetensors, configs, processor, card) and upload it
    in one commit unless `dry_run`. Returns {"folder", "card", "files", "commit_url"}."""
    from monoir_rs.publish.commit import describe, preflight, upload

    src = Path(path)
    if not src.is_dir():
        raise UserError(f"--path {src} is not a folder; pass the training output folder")
    if not HUB_ID.match(repo_id or ""):
        raise UserError(f"--repo-id {repo_id!r} is not of the form ORG/NAME")
    library = detect_library(src)
    if not dry_run:
        preflight()
    training = training_summary(read_json(src / TRAINING_FILE)) if (src / TRAINING_FILE).is_file() else {}
    base = _base_model(library, src, training, base_model)
    family = _family(library, src, training, base)
    out = F.fresh_folder(Path(folder) if folder else src.parent / f"{src.name}.hub", src)
    st = Staged(folder=out, card=out / "README.md", library=library, family=family)

    if library == "peft":
        st.take(src, "adapter_config.json")
        _stage_peft_weights(src, out, st)
        _copy_processor(src, out, processor_from, st)
    elif library == "open_clip":
        _stage_open_clip_weights(src, out, st)
        st.used.add("open_clip_config.json")
        _write_open_clip_config(src, out, repo_id, _copy_processor(src, out, processor_from, st))
    else:
        st.take(src, "config.json")
        _stage_transformers_weights(src, out, st)
        _copy_processor(src, out, processor_from, st)
        _check_processor(out, family)
    if (src / TRAINING_FILE).is_file():
        st.take(src, TRAINING_FILE)

    runs = [R.load_results(p) for p in results]
    zs_runs = [R.load_results(p) for p in zero_shot]
    base_ids = {base, training.get("base_name"), training.get("base_id")} - {None}
    base_ids |= {str(b).removeprefix("hf-hub:") for b in base_ids}
    zs_runs += [r for r in runs if R.is_zero_shot(r, base_ids)]
    tuned_runs = [r for r in runs if r not in zs_runs]
    for i, run in enumerate(tuned_runs + zs_runs):
        role = "finetuned" if run in tuned_runs else "zero_shot"
        F.link_or_copy(run.path, out / "eval" / f"{role}_{i}_results.json")
    tuned = R.merge_tasks(tuned_runs, "fine-tuned")
    zero = R.merge_tasks(zs_runs, "zero-shot")

    ds_id = dataset_id or hub_id(training.get("data_path")) or next(
        (hub_id(r.dataset.get("path")) for r in tuned_runs if hub_id(r.dataset.get("path"))), None) or hub_id(
        os.environ.get("MONOIR_RS_REPO"))
    card_path = _write_card(st, repo_id, training, base, tuned, zero, ds_id, license)
    _write_eval_results(out, tuned, ds_id)
    listing = describe(out, repo_id, "model", card_path, _notes(src, st, base, ds_id))
    if dry_run:
        return {"folder": out, "card": card_path, "files": F.repo_files(out), "listing": listing, "commit_url": None}
    url = upload(out, repo_id, repo_type="model", private=private,
                 message=f"Upload {library} {family} model with monoir publish")
    return {"folder": out, "card": card_path, "files": F.repo_files(out), "listing": listing, "commit_url": url}


def _write_eval_results(out: Path, tuned: dict, ds_id: str | None) -> None:
    if not ds_id:
        return
    import yaml
    from huggingface_hub import eval_result_entries_to_yaml

    entries = R.eval_result_entries(tuned, ds_id)
    if entries:
        (out / ".eval_results").mkdir(exist_ok=True)
        (out / ".eval_results" / "monoir-rs.yaml").write_text(
            yaml.safe_dump(eval_result_entries_to_yaml(entries), sort_keys=False))


def _notes(src: Path, st: Staged, base: str | None, ds_id: str | None) -> list[str]:
    """Dry-run notes: source files left out of the repo, and metadata that could not be filled in."""
    left = sorted(p.relative_to(src).as_posix() for p in src.rglob("*")
                  if p.is_file() and p.relative_to(src).as_posix() not in st.used)
    notes = []
    if left:
        shown = ", ".join(left[:8]) + (f" and {len(left) - 8} more" if len(left) > 8 else "")
        notes.append(f"left out (not part of the {st.library} model repo): {shown}")
    if not hub_id(base):
        notes.append(f"the base model {base or '(unknown)'} is not a Hub id, so the card has no `base_model`; "
                     f"pass --base-model ORG/NAME")
    if not ds_id:
        notes.append("no Hub dataset id known, so the card has no `datasets`; pass --dataset-id ORG/NAME")
    return notes


def _write_card(st: Staged, repo_id: str, training: dict, base: str | None, tuned: dict, zero: dict,
                ds_id: str | None, license: str | None) -> Path:
    from monoir_rs.publish.cards import model_card

    base_hub = hub_id(base)
    pipeline = PIPELINE[st.family]
    tags = ["monoir-rs", "infrared", "thermal", "remote-sensing", "vision-language",
            "clip" if st.family == "clip" else "vlm"] + (["lora", "peft"] if st.library == "peft" else [])
    extra = {}
    if not license:
        extra = {"license_name": "same-as-base-model",
                 "license_link": f"https://huggingface.co/{base_hub}" if base_hub else None}
        extra = {k: v for k, v in extra.items() if v}
    name = repo_id.split("/")[-1]
    results = R.eval_results(tuned, task_type=pipeline, dataset_id=ds_id or "monoir-rs") or None
    data = R.card_data_class()(
        model_name=name if results else None, base_model=base_hub, library_name=st.library, pipeline_tag=pipeline,
        datasets=[ds_id] if ds_id else None, license=license or "other", tags=tags,
        eval_results=results, **extra)
    context = {
        "repo_id": repo_id, "name": name, "library": st.library, "family": st.family, "base_model": base,
        "base_hub": base_hub, "base_loader": _base_loader(base), "training": training,
        "tables": R.tables(tuned, zero), "dataset_id": ds_id or "monoir-rs", "pipeline_tag": pipeline,
        "converted": sorted(k for k, v in st.weights.items() if v == "converted"),
        "processor_ref": repo_id if (st.folder / "processor_config.json").is_file()
        or (st.folder / "preprocessor_config.json").is_file() else _base_loader(base)["ref"],
    }
    st.card.write_text(model_card(data, **context), encoding="utf-8")
    return st.card
