"""Runs tasks on one model and writes results.json (SPEC §5), results.md and the evaluators' per-sample logs.

Task blocks come from `harness.evaluators.<family>.evaluate(task, model, dataset, ctx)`; the runner knows
nothing about their internals. results.json is rewritten after every task, so a crash keeps finished tasks;
re-running is cheap because retrieval embeddings are cached and generation resumes from its sample logs.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from harness.context import RunContext
from harness.registry import MODEL_FAMILY_FOR, resolve_tasks
from monoir_rs.errors import UserError

SCHEMA_VERSION = 1
VERSIONED = ("monoir-rs", "torch", "torchvision", "transformers", "open_clip_torch", "datasets", "peft",
             "huggingface_hub", "tokenizers", "numpy", "accelerate", "trl")


def versions() -> dict[str, str]:
    """Installed versions of the libraries a run depends on (results.json and monoir_training.json)."""
    out = {}
    for pkg in VERSIONED:
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    if "monoir-rs" not in out:
        import harness

        out["monoir-rs"] = harness.__version__
    return out


def select_tasks(spec: str | list[str], model_family: str | None = None) -> list:
    """Resolve tasks; with a group (`all`/`vlm`) keep only the model's family, else a mismatch is an error."""
    tasks = resolve_tasks(spec)
    if model_family is None:
        return tasks
    names = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec)]
    fitting = [t for t in tasks if MODEL_FAMILY_FOR[t.family] == model_family]
    wrong = [t for t in tasks if t not in fitting and t.name in names]
    if wrong:
        raise UserError(f"task(s) {', '.join(t.name for t in wrong)} need a {MODEL_FAMILY_FOR[wrong[0].family]} "
                        f"model, but the model is a {model_family}")
    if not fitting:
        raise UserError(f"no task in {spec!r} fits a {model_family} model")
    return fitting


def write_json(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def run_eval(model, tasks: str | list[str], data: str | None = None, output: str | Path = "results",
             adapter: str | None = None, device: str = "cpu", dtype: str | None = None,
             trust_remote_code: bool = False, args: dict | None = None, model_options: dict | None = None,
             **ctx_options) -> dict:
    """Evaluate `model` on `tasks`; returns the results dict (also written to `output`/results.json).

    `model` is a name (alias, Hub ID, folder...) or an already loaded adapter. The embedding cache is keyed by
    the model's identity on disk, so pass `use_cache=False` for an adapter whose weights changed in memory.
    `model_options` go to `load_model` (revision, min_pixels, max_pixels)."""
    from harness.data import data_fingerprint, load_task_dataset, resolve_data
    from harness.registry import load_model
    from harness.report import render_markdown

    resolve_tasks(tasks)  # unknown task names fail before the (slow) model load
    where, _ = resolve_data(data)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(output_dir=output, device=device, dataset_fingerprint=data_fingerprint(data), **ctx_options)
    adapter_obj = (load_model(model, adapter=adapter, device=device, dtype=dtype, trust_remote_code=trust_remote_code,
                              **(model_options or {}))
                   if isinstance(model, (str, Path)) else model)
    info = adapter_obj.info
    chosen = select_tasks(tasks, info.family)
    results = {
        "schema_version": SCHEMA_VERSION,
        "model": {"name": info.name, "id": info.id, "revision": info.revision, "adapter": info.adapter,
                  "family": info.family, "backend": info.backend,
                  **({"load_report": info.extra} if info.extra else {})},
        "dataset": {"path": str(Path(where).resolve()) if Path(where).is_dir() else where,
                    "fingerprint": ctx.dataset_fingerprint},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "args": args or {},
        "tasks": {},
    }
    if any(t.family == "generation" for t in chosen):
        from monoir_rs.keywords import KEYWORDS_VERSION

        results["keywords_version"] = KEYWORDS_VERSION
    datasets_by_split: dict = {}
    for task in chosen:
        key = (task.dataset.config, task.dataset.split)
        if key not in datasets_by_split:
            datasets_by_split[key] = load_task_dataset(task, data)
        evaluator = importlib.import_module(f"harness.evaluators.{task.family}")
        results["tasks"][task.name] = evaluator.evaluate(task, adapter_obj, datasets_by_split[key], ctx)
        write_json(output / "results.json", results)
        (output / "results.md").write_text(render_markdown(results), encoding="utf-8")
    from monoir_rs.plots import results_figure

    results_figure(results, output / "results.png")
    return results
