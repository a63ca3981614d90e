"""Task and model registries.

Tasks are `tasks/*.yaml` files (the folder next to the packages, or `$MONOIR_TASKS_PATH`, which may list several
folders separated by `os.pathsep`). Group names: `vlm` (every generation task) and `all` (every task).
Models are resolved by `load_model`: alias table (SPEC §6) → family detection from the repo files → adapter.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monoir_rs.errors import UserError

FAMILIES = ("retrieval", "generation")
# Which model family each task family needs.
MODEL_FAMILY_FOR = {"retrieval": "clip", "generation": "vlm"}
GROUPS = {"vlm": "every generation task (the seven VLM tasks)", "all": "every task"}


@dataclass(frozen=True)
class TaskDataset:
    """Which config and split of the dataset a task reads."""

    config: str
    split: str = "test"


@dataclass
class TaskConfig:
    """One task, as written in `tasks/<name>.yaml`.

    Known keys: name, family, dataset {config, split}, prompt, metrics, generation {...}, description, options.
    Any other top-level key is kept in `options` (so task files may carry family-specific settings).
    """

    name: str
    family: str
    dataset: TaskDataset
    prompt: str | None = None
    metrics: list[str] = field(default_factory=list)
    generation: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def model_family(self) -> str:
        return MODEL_FAMILY_FOR[self.family]

    @classmethod
    def from_dict(cls, raw: dict, path: Path | None = None) -> TaskConfig:
        where = str(path) if path else "task config"
        if not isinstance(raw, dict):
            raise UserError(f"{where}: expected a mapping of task settings, got {type(raw).__name__}")
        raw = dict(raw)
        name = raw.pop("name", None) or (path.stem if path else None)
        family = raw.pop("family", None)
        if family not in FAMILIES:
            raise UserError(f"{where}: `family` must be one of {FAMILIES}, got {family!r}")
        ds = raw.pop("dataset", None)
        if not isinstance(ds, dict) or "config" not in ds:
            raise UserError(f"{where}: `dataset` must be a mapping with `config` (and `split`, default test)")
        metrics = raw.pop("metrics", []) or []
        if not isinstance(metrics, list):
            raise UserError(f"{where}: `metrics` must be a list of metric names")
        generation = raw.pop("generation", {}) or {}
        if not isinstance(generation, dict):
            raise UserError(f"{where}: `generation` must be a mapping (e.g. max_new_tokens: 64)")
        options = dict(raw.pop("options", {}) or {})
        prompt = raw.pop("prompt", None)
        description = raw.pop("description", "") or ""
        options.update(raw)  # unknown top-level keys: family-specific settings
        return cls(name=str(name), family=family, dataset=TaskDataset(str(ds["config"]), str(ds.get("split", "test"))),
                   prompt=prompt, metrics=[str(m) for m in metrics], generation=generation,
                   description=str(description), options=options, path=path)


def tasks_dirs() -> list[Path]:
    """Folders searched for task YAMLs: `$MONOIR_TASKS_PATH` (os.pathsep-separated) else the repo's `tasks/`."""
    env = os.environ.get("MONOIR_TASKS_PATH")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path(__file__).resolve().parents[1] / "tasks"]


def load_tasks() -> dict[str, TaskConfig]:
    """Every task found in `tasks_dirs()` (the first folder wins on duplicate names), sorted by name."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster
    found: dict[str, TaskConfig] = {}
    for folder in tasks_dirs():
        for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            try:
                raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
            except yaml.YAMLError as err:
                raise UserError(f"task file {path} is not valid YAML: {err}") from err
            task = TaskConfig.from_dict(raw, path)
            found.setdefault(task.name, task)
    return dict(sorted(found.items()))


def resolve_tasks(spec: str | list[str]) -> list[TaskConfig]:
    """`retrieval,caption` / `vlm` / `all` → task configs in the given order, without duplicates."""
    names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    tasks = load_tasks()
    if not names:
        raise UserError(f"no task given; choose from {', '.join(tasks)} or a group ({', '.join(GROUPS)})")
    out: dict[str, TaskConfig] = {}
    for name in names:
        if name == "all":
            out.update({k: t for k, t in tasks.items() if k not in out})
        elif name == "vlm":
            out.update({k: t for k, t in tasks.items() if t.family == "generation" and k not in out})
        elif name in tasks:
            out.setdefault(name, tasks[name])
        else:
            groups = ", ".join(f"{g} ({d})" for g, d in GROUPS.items())
            raise UserError(f"unknown task {name!r}; tasks: {', '.join(tasks) or '(none found in ' + str(tasks_dirs()) + ')'}; "
                            f"groups: {groups}")
    return list(out.values())


def get_task(name: str) -> TaskConfig:
    return resolve_tasks([name])[0]


def load_model(name: str, adapter: str | None = None, device: str = "cpu", dtype: str | None = None,
               trust_remote_code: bool = False, revision: str | None = None, min_pixels: int | None = None,
               max_pixels: int | None = None):
    """Resolve `name` (alias, Hub ID, local dir, open_clip spec) and return its family's adapter.
    `min_pixels` / `max_pixels` set a dynamic-resolution VLM's (Qwen-VL) image size range."""
    from harness.models.detect import detect

    found = detect(name, revision=revision, trust_remote_code=trust_remote_code)
    if found.family == "clip":
        from harness.models.clip import load_clip

        if min_pixels or max_pixels:
            raise UserError(f"model {name!r} is a CLIP model: --min-pixels/--max-pixels apply to Qwen-VL models only")
        return load_clip(found, adapter=adapter, device=device, dtype=dtype, trust_remote_code=trust_remote_code)
    from harness.models import vlm

    info = found.model_info(adapter=adapter)
    return vlm.load_vlm(found.load_id, info=info, device=device, dtype=dtype, adapter=adapter,
                        trust_remote_code=trust_remote_code, min_pixels=min_pixels, max_pixels=max_pixels)
