"""Paper-style tables from several results.json: CLIP retrieval per backbone (Tables 6/13), VLM diagnostics per
task averaged over backbones (Table 9) and per task x backbone (Table 16). Rows are plain dicts
(report-friendly); `markdown` renders them.

    monoir tables runs/clip-b32 runs/remoteclip runs/qwen runs/llava         # prints every table that applies
"""

from __future__ import annotations

import sys

from harness.metrics.lexical import LEXICAL_METRICS

TASK_TITLES = {"caption": "Infrared image captioning", "scene": "Scene question", "object": "Object-presence question",
               "ir_cue": "Infrared-cue explanation", "evidence": "Visual-evidence QA", "hard_scene": "Hard scene",
               "hard_negative": "Hard-negative"}
COLUMNS = {"ir_cue_rate": "IR-cue rate ↑", "rgb_color_rate": "RGB-color rate ↓", "overclaim_rate": "Overclaim rate ↓",
           "class_hit_rate": "Class-hit rate ↑", "avg_words": "Avg. words"}
EXTRA = {"empty_rate": "Empty/failed ↓", "scene_accuracy": "Scene acc. ↑"}


def load_results(paths) -> list[dict]:
    """results.json files (or folders holding one), in the given order."""
    from harness.report import load_results as load_one

    return [load_one(p) for p in paths]


def _backbone(res: dict) -> str:
    from harness.report import model_label

    return model_label(res)


def retrieval_table(results: list[dict]) -> list[dict]:
    """Tables 6/13: one row per CLIP backbone with the pooled clean_test R@k and mR."""
    from harness.metrics.retrieval import METRIC_KEYS  # (imports torch: only when a table needs it)

    rows = []
    for res in results:
        block = res.get("tasks", {}).get("retrieval")
        if block:
            rows.append({"backbone": _backbone(res), "n": block.get("n"),
                         **{c: block.get("metrics", {}).get(c) for c in METRIC_KEYS}})
    return rows


def _ordered_tasks(results: list[dict]) -> list[str]:
    seen = [t for res in results for t in res.get("tasks", {}) if t in TASK_TITLES]
    return [t for t in TASK_TITLES if t in seen]


def backbone_table(results: list[dict], extra: bool = False) -> list[dict]:
    """Table 16: one row per (task, backbone) with the five lexical diagnostics (+ empty rate, scene acc.)."""
    cols = list(LEXICAL_METRICS) + (list(EXTRA) if extra else [])
    rows = []
    for task in _ordered_tasks(results):
        for res in results:
            block = res.get("tasks", {}).get(task)
            if block:
                rows.append({"task": TASK_TITLES[task], "backbone": _backbone(res), "n": block.get("n"),
                             **{c: block.get("metrics", {}).get(c) for c in cols}})
    return rows


def task_table(results: list[dict], extra: bool = False) -> list[dict]:
    """Table 9: one row per task, each metric averaged over the backbones that ran it."""
    cols = list(LEXICAL_METRICS) + (list(EXTRA) if extra else [])
    rows = []
    for task in _ordered_tasks(results):
        blocks = [r["tasks"][task] for r in results if task in r.get("tasks", {})]
        row = {"task": TASK_TITLES[task], "backbones": len(blocks)}
        for c in cols:
            vals = [b.get("metrics", {}).get(c) for b in blocks]
            vals = [v for v in vals if v is not None]
            row[c] = sum(vals) / len(vals) if vals else None
        rows.append(row)
    return rows


def shift_table(pairs: list[tuple[dict, dict]], task: str = "caption") -> list[dict]:
    """Table 11: zero-shot -> fine-tuned per backbone for one task, cells "a → b" (one decimal)."""
    cols = {"ir_cue_rate": "IR-cue (zero→ft)", "rgb_color_rate": "RGB-color (zero→ft)",
            "overclaim_rate": "Overclaim (zero→ft)", "avg_words": "Avg. words (zero→ft)"}
    rows = []
    for zero, ft in pairs:
        mz = zero.get("tasks", {}).get(task, {}).get("metrics", {})
        mf = ft.get("tasks", {}).get(task, {}).get("metrics", {})
        fmt = lambda v: "–" if v is None else f"{v:.1f}"  # noqa: E731
        rows.append({"backbone": _backbone(zero), **{t: f"{fmt(mz.get(c))} → {fmt(mf.get(c))}" for c, t in cols.items()}})
    return rows


def markdown(rows: list[dict], digits: int = 2) -> str:
    """A markdown table of `rows` (metric keys get the paper's column titles)."""
    if not rows:
        return "_no VLM task results_\n"
    keys = list(rows[0])
    titles = [COLUMNS.get(k, EXTRA.get(k, k)) for k in keys]

    def cell(v):
        if v is None:
            return "–"
        return f"{v:.{digits}f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def vlm_tables_markdown(results: list[dict]) -> str:
    """Both VLM tables, as report.py / `monoir compare` can embed them."""
    out = "### VLM diagnostics averaged over backbones (paper Table 9)\n\n" + markdown(task_table(results, True))
    if len(results) > 1:
        out += "\n### VLM diagnostics per backbone (paper Table 16)\n\n" + markdown(backbone_table(results, True), 1)
    return out


def tables_markdown(results: list[dict]) -> str:
    """Every table that applies to `results`: retrieval per backbone, then the VLM tables."""
    parts = []
    if any("retrieval" in r.get("tasks", {}) for r in results):
        parts.append("### Retrieval on clean_test per backbone (paper Tables 6/13)\n\n" + markdown(retrieval_table(results)))
    if _ordered_tasks(results):
        parts.append(vlm_tables_markdown(results))
    return "\n".join(parts) or "_no results to tabulate_\n"


if __name__ == "__main__":
    print(tables_markdown(load_results(sys.argv[1:])))
