"""results.json → readable markdown tables (both task families, generic over metric dicts), and side-by-side
comparison of two results with deltas (zero-shot vs fine-tuned, like Table 6's last columns)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from monoir_rs.errors import UserError


def fmt(v, digits: int = 2) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _ci(ci: dict | None, key: str) -> str:
    val = (ci or {}).get(key)
    return f"{fmt(val[0])}–{fmt(val[1])}" if val else ""


def task_markdown(name: str, block: dict) -> str:
    """One task: Table 6 style (metrics as columns) when there are few metrics, else one row per metric;
    CIs below/beside; then a per-source table (Table 7 style) when present."""
    metrics, ci = block.get("metrics", {}), block.get("ci95") or {}
    keys = list(metrics)
    out = [f"### {name} (n={block.get('n', '?')})", ""]
    if len(keys) <= 7:
        rows = [["value", *(fmt(metrics[k]) for k in keys)]]
        if ci:
            rows.append(["95% CI", *(_ci(ci, k) for k in keys)])
        out.append(_table(["", *keys], rows))
    else:
        out.append(_table(["metric", "value", "95% CI"], [[k, fmt(metrics[k]), _ci(ci, k)] for k in keys]))
    per = block.get("per_source") or {}
    if per:
        out += ["", _table(["source", "n", *keys],
                           [[s, str(b.get("n", "")), *(fmt(b["metrics"].get(k)) for k in keys)] for s, b in per.items()])]
    return "\n".join(out)


def render_markdown(results: dict) -> str:
    m, d = results.get("model", {}), results.get("dataset", {})
    head = [f"# MonoIR-RS results: {m.get('name')}", "",
            f"- model: `{m.get('id')}` ({m.get('family')}, {m.get('backend', '')}"
            f"{', revision ' + str(m['revision']) if m.get('revision') else ''}"
            f"{', adapter ' + str(m['adapter']) if m.get('adapter') else ''})",
            f"- dataset: `{d.get('path')}` (fingerprint {d.get('fingerprint')})",
            f"- created: {results.get('created')}", ""]
    return "\n".join(head + [task_markdown(n, b) + "\n" for n, b in results.get("tasks", {}).items()])


def load_results(path: str | Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        raise UserError(f"{path} does not exist; pass a results.json written by `monoir-eval` (or its folder)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise UserError(f"{path} is not valid JSON: {err}") from err


def _delta(a: dict, b: dict) -> dict:
    keys = [k for k in a if k in b]
    return {k: {"a": a[k], "b": b[k], "delta": (b[k] - a[k]) if isinstance(a[k], (int, float))
                and isinstance(b[k], (int, float)) else None} for k in keys}


def compare(a: dict, b: dict) -> dict:
    """Tasks present in both: per metric a, b and Δ = b − a (also per source)."""
    tasks = {}
    for name in a.get("tasks", {}):
        if name not in b.get("tasks", {}):
            continue
        ta, tb = a["tasks"][name], b["tasks"][name]
        entry = {"n": [ta.get("n"), tb.get("n")], "metrics": _delta(ta.get("metrics", {}), tb.get("metrics", {}))}
        pa, pb = ta.get("per_source") or {}, tb.get("per_source") or {}
        if pa and pb:
            entry["per_source"] = {s: _delta(pa[s]["metrics"], pb[s]["metrics"]) for s in pa if s in pb}
        tasks[name] = entry
    if not tasks:
        raise UserError("the two results share no task; nothing to compare")
    return {"a": model_label(a), "b": model_label(b), "tasks": tasks}


def model_label(results: dict) -> str:
    """`name` or `name + adapter`: how a run is named in comparisons."""
    m = results.get("model", {})
    return f"{m.get('name')} + {m['adapter']}" if m.get("adapter") else str(m.get("name"))


def render_compare_markdown(cmp: dict) -> str:
    out = [f"# {cmp['a']} (A) vs {cmp['b']} (B)", ""]
    for name, entry in cmp["tasks"].items():
        rows = [[k, fmt(v["a"]), fmt(v["b"]), _signed(v["delta"])] for k, v in entry["metrics"].items()]
        out += [f"### {name} (n: {entry['n'][0]} vs {entry['n'][1]})", "", _table(["metric", "A", "B", "Δ (B−A)"], rows), ""]
        for src, d in (entry.get("per_source") or {}).items():
            out += [f"- {src}: " + ", ".join(f"{k} {fmt(v['a'])}→{fmt(v['b'])} ({_signed(v['delta'])})" for k, v in d.items())]
        if entry.get("per_source"):
            out.append("")
    return "\n".join(out)


def _signed(v) -> str:
    return "–" if v is None else f"{v:+.2f}"


def print_markdown(text: str) -> None:
    """Print markdown nicely in a terminal (rich), plainly otherwise."""
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console()
    console.width = max(console.width, 120)  # the retrieval table (7 metrics + CIs) needs ~120 columns
    console.print(Markdown(text))


def write_comparison(cmp: dict, out: Path) -> str:
    """Write comparison.json, comparison.md and comparison.png (Δ bars) into `out`; returns the markdown."""
    from harness.lm_eval_bridge import METRIC_AGG
    from harness.runner import write_json
    from monoir_rs.plots import comparison_figure

    out.mkdir(parents=True, exist_ok=True)
    md = render_compare_markdown(cmp)
    write_json(out / "comparison.json", cmp)
    (out / "comparison.md").write_text(md, encoding="utf-8")
    comparison_figure(cmp, out / "comparison.png", {m for m, (_, higher) in METRIC_AGG.items() if not higher})
    return md
