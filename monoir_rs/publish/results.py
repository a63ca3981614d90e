"""Evaluation results for a model card: read results.json files (SPEC §5), split them into this model's
results and zero-shot baselines, and turn them into `model-index` entries, `.eval_results/` entries and tables.

Choices (documented here, tested in tests/test_publish_model.py):
- `model-index` holds only this model's own results, one `EvalResult` per metric, with the task's dataset
  config and split (from `tasks/<name>.yaml`), `task_type` = the model's pipeline tag and `task_name` = the
  MonoIR-RS task; per-source retrieval pools become extra entries with `dataset_args: {source: ...}`.
- A results.json counts as a zero-shot baseline when its model is the training run's base model with no
  adapter, or when it is passed with `--zero-shot`. Δ = fine-tuned - zero-shot (points, like paper Table 6).
- `.eval_results/` entries (the Hub's newer format) carry one headline value per benchmark task and link to
  a Hub *benchmark* dataset; only retrieval mR has a single headline, so only it is written, and only when the
  dataset is a Hub repo id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from monoir_rs.errors import UserError

METRIC_NAMES = {
    "i2t_r1": "I2T R@1", "i2t_r5": "I2T R@5", "i2t_r10": "I2T R@10",
    "t2i_r1": "T2I R@1", "t2i_r5": "T2I R@5", "t2i_r10": "T2I R@10", "mR": "mR",
    "ir_cue_rate": "IR-cue rate", "rgb_color_rate": "RGB-colour rate", "overclaim_rate": "Over-claim rate",
    "class_hit_rate": "Class-hit rate", "avg_words": "Avg. words",
}
RETRIEVAL_ORDER = ("i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10", "mR")
DEFAULT_TASK_DATA = {"retrieval": ("clean_test", "test")}
FALLBACK_TASK_DATA = ("vlm_eval", "test")
HEADLINE = {"retrieval": "mR"}  # tasks with one headline value, for `.eval_results/`


@dataclass
class RunResults:
    """One results.json: where it came from, its model block and its tasks."""

    path: Path
    model: dict
    dataset: dict
    tasks: dict
    created: str | None = None
    versions: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(self.model.get("name") or self.model.get("id") or self.path.parent.name)


def load_results(path) -> RunResults:
    """Read and check one results.json (SPEC §5); UserError names the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"results file {path} does not exist; pass the results.json written by `monoir-eval --output`")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise UserError(f"results file {path} is not valid JSON ({err}); re-run `monoir-eval` to rewrite it") from err
    if not isinstance(raw, dict) or not isinstance(raw.get("tasks"), dict):
        raise UserError(f"results file {path} has no `tasks` mapping; is it a monoir-eval results.json?")
    for task, block in raw["tasks"].items():
        if not isinstance(block, dict) or not isinstance(block.get("metrics"), dict):
            raise UserError(f"results file {path}: task {task!r} has no `metrics` mapping")
    return RunResults(path=path, model=raw.get("model") or {}, dataset=raw.get("dataset") or {},
                      tasks=raw["tasks"], created=raw.get("created"), versions=raw.get("versions") or {})


def is_zero_shot(run: RunResults, base_ids: set[str]) -> bool:
    """True when `run` evaluated the base model itself (no adapter)."""
    if run.model.get("adapter"):
        return False
    names = {str(run.model.get(k)) for k in ("name", "id") if run.model.get(k)}
    return bool(names & {b for b in base_ids if b})


def merge_tasks(runs: list[RunResults], what: str) -> dict[str, tuple[dict, RunResults]]:
    """{task: (block, run)} over several runs; the same task in two files is an error (which one is right?)."""
    out: dict[str, tuple[dict, RunResults]] = {}
    for run in runs:
        for task, block in run.tasks.items():
            if task in out:
                raise UserError(f"task {task!r} appears in two {what} results files ({out[task][1].path} and "
                                f"{run.path}); pass only one results.json per task")
            out[task] = (block, run)
    return out


def task_data(task: str) -> tuple[str, str]:
    """(config, split) a task reads, from `tasks/<task>.yaml` when the registry knows it."""
    try:
        from harness.registry import get_task

        t = get_task(task)
        return t.dataset.config, t.dataset.split
    except Exception:  # unknown task name or registry unavailable: use the SPEC defaults
        return DEFAULT_TASK_DATA.get(task, FALLBACK_TASK_DATA)


def ordered_metrics(task: str, metrics: dict) -> list[str]:
    keys = [k for k in RETRIEVAL_ORDER if k in metrics] if task == "retrieval" else []
    return keys + [k for k in metrics if k not in keys]


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def eval_results(tasks: dict[str, tuple[dict, RunResults]], *, task_type: str, dataset_id: str,
                 dataset_name: str = "MonoIR-RS") -> list:
    """`huggingface_hub.EvalResult`s: one per numeric metric of every task (and per-source pool)."""
    from huggingface_hub import EvalResult

    out = []
    for task, (block, run) in tasks.items():
        config, split = task_data(task)
        revision = run.dataset.get("revision")
        groups = [(task, block["metrics"], None)]
        for src, sub in (block.get("per_source") or {}).items():
            groups.append((f"{task} ({src})", (sub or {}).get("metrics") or {}, {"source": src}))
        for name, metrics, args in groups:
            for key in ordered_metrics(task, metrics):
                if not _number(metrics[key]):
                    continue
                out.append(EvalResult(
                    task_type=task_type, task_name=name, dataset_type=dataset_id, dataset_name=dataset_name,
                    dataset_config=config, dataset_split=split, dataset_revision=revision, dataset_args=args,
                    metric_type=key, metric_name=METRIC_NAMES.get(key, key), metric_value=metrics[key]))
    return out


def model_index(model_name: str, results: list) -> list[dict]:
    """`model-index` with one result group per (task, per-source pool): huggingface_hub's own serializer,
    applied per group, because it merges every result sharing task type, dataset, config and split (all seven
    VLM tasks read vlm_eval/test) under the first one's task name."""
    from huggingface_hub.repocard_data import eval_results_to_model_index

    groups: dict[tuple, list] = {}
    for r in results:
        groups.setdefault((*r.unique_identifier, r.task_name, json.dumps(r.dataset_args, sort_keys=True)), []).append(r)
    out = [{"name": model_name, "results": []}]
    for group in groups.values():
        out[0]["results"] += eval_results_to_model_index(model_name, group)[0]["results"]
    return out


def card_data_class():
    """`huggingface_hub.ModelCardData` whose `model-index` keeps tasks apart (see `model_index`)."""
    from huggingface_hub import ModelCardData

    class MonoirModelCardData(ModelCardData):
        def _to_dict(self, data_dict):
            super()._to_dict(data_dict)
            if self.eval_results is not None:
                data_dict["model-index"] = model_index(self.model_name, self.eval_results)

    return MonoirModelCardData


def eval_result_entries(tasks: dict[str, tuple[dict, RunResults]], dataset_id: str) -> list:
    """`huggingface_hub.EvalResultEntry`s (`.eval_results/*.yaml`) for tasks with one headline metric."""
    from huggingface_hub import EvalResultEntry

    out = []
    for task, (block, run) in tasks.items():
        key = HEADLINE.get(task)
        value = block["metrics"].get(key) if key else None
        if _number(value):
            config, split = task_data(task)
            out.append(EvalResultEntry(dataset_id=dataset_id, task_id=task, value=value, date=run.created,
                                       notes=f"{METRIC_NAMES[key]} (%) on config {config}, split {split}"))
    return out


def fmt(value) -> str:
    if not _number(value):
        return "–" if value is None else str(value)
    return f"{value:.2f}"


def tables(tuned: dict[str, tuple[dict, RunResults]], zero: dict[str, tuple[dict, RunResults]]) -> list[dict]:
    """Markdown-ready tables, one per task: rows of metric / zero-shot / this model / Δ (Δ only with both)."""
    out = []
    for task, (block, _run) in tuned.items():
        base = zero.get(task, (None, None))[0]
        rows = []
        for key in ordered_metrics(task, block["metrics"]):
            value = block["metrics"][key]
            zs = (base or {}).get("metrics", {}).get(key) if base else None
            delta = value - zs if _number(value) and _number(zs) else None
            ci = (block.get("ci95") or {}).get(key)
            rows.append({"metric": METRIC_NAMES.get(key, key), "key": key, "value": fmt(value),
                         "zero_shot": fmt(zs) if base else None,
                         "delta": (f"{delta:+.2f}" if delta is not None else "–") if base else None,
                         "ci95": _fmt_ci(ci)})
        per_source = []
        for src, sub in (block.get("per_source") or {}).items():
            m = (sub or {}).get("metrics") or {}
            per_source.append({"source": src, "n": (sub or {}).get("n"),
                               "cells": [fmt(m.get(k)) for k in RETRIEVAL_ORDER]})
        config, split = task_data(task)
        out.append({"task": task, "n": block.get("n"), "config": config, "split": split, "rows": rows,
                    "has_zero_shot": base is not None, "per_source": per_source,
                    "per_source_header": [METRIC_NAMES[k] for k in RETRIEVAL_ORDER],
                    "zero_shot_model": zero[task][1].label if task in zero else None,
                    "has_ci": any(r["ci95"] for r in rows)})
    return out


def _fmt_ci(ci) -> str | None:
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(_number(x) for x in ci):
        return f"[{ci[0]:.2f}, {ci[1]:.2f}]"
    if _number(ci):
        return f"± {ci:.2f}"
    return None
