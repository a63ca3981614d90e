"""Figures people would rather look at than read: each function writes one PNG (matplotlib, Agg backend) and
returns its path. Used by the build (preview sheet), `monoir realism` (histograms), `monoir-eval` / `monoir
compare` (results and Δ bars) and the trainers (training curves)."""

from __future__ import annotations

import textwrap
from pathlib import Path

DIAGNOSTICS = ("ir_cue_rate", "rgb_color_rate", "overclaim_rate", "class_hit_rate")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def histograms(curves: dict, path, title: str = "grayscale histograms (256 bins over [0, 255])") -> Path:
    """Overlaid normalised histograms, e.g. {"real IR": p, "synthetic IR": q, "RGB-to-gray": r}."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for name, h in curves.items():
        ax.plot(range(len(h)), h, label=name, linewidth=1.4)
    ax.set(xlabel="intensity", ylabel="fraction of pixels", title=title, xlim=(0, 255))
    ax.legend()
    return _save(fig, path)


def _bars(ax, groups: list[str], series: dict[str, list[float]], ylabel: str) -> None:
    n = max(len(series), 1)
    width = 0.8 / n
    for i, (name, values) in enumerate(series.items()):
        ax.bar([g + (i - (n - 1) / 2) * width for g in range(len(groups))], values, width, label=name)
    ax.set_xticks(range(len(groups)), groups, rotation=20, ha="right")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)


def results_figure(results: dict, path) -> Path | None:
    """Retrieval R@k per pool (pooled + per source) and the lexical diagnostics per VLM task, side by side."""
    tasks = results.get("tasks", {})
    retrieval = tasks.get("retrieval")
    generation = {n: b for n, b in tasks.items() if n != "retrieval" and "ir_cue_rate" in b.get("metrics", {})}
    panels = [p for p in (retrieval, generation) if p]
    if not panels:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 3.8), squeeze=False)
    axes = list(axes[0])
    name = results.get("model", {}).get("name", "")
    if retrieval:
        pools = {"pooled": retrieval["metrics"], **{s: b["metrics"] for s, b in
                                                    (retrieval.get("per_source") or {}).items()}}
        recalls = [k for k in retrieval["metrics"] if k != "mR"]
        _bars(axes[0], recalls, {p: [m[k] for k in recalls] for p, m in pools.items()}, "recall (%)")
        axes[0].set_title(f"retrieval (clean_test): mR {retrieval['metrics']['mR']:.2f}")
    if generation:
        ax = axes[-1]
        _bars(ax, list(generation), {k: [b["metrics"].get(k, 0.0) for b in generation.values()]
                                     for k in DIAGNOSTICS}, "rate (%)")
        ax.set_title("VLM lexical diagnostics (eq. 33-36)")
    fig.suptitle(name, fontsize=9)
    return _save(fig, path)


def comparison_figure(cmp: dict, path, lower_is_better=frozenset()) -> Path | None:
    """Δ (B − A) of every shared metric, one horizontal bar per task/metric: green where B is better, red where
    it is worse (a metric in `lower_is_better` improves when it goes down)."""
    rows = [(f"{task}: {metric}", v["delta"]) for task, entry in cmp.get("tasks", {}).items()
            for metric, v in entry["metrics"].items() if isinstance(v.get("delta"), (int, float))
            and not metric.endswith("_n")]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(rows) + 1.2))
    labels, deltas = zip(*rows, strict=True)
    better = [(d <= 0) if label.split(": ", 1)[1] in lower_is_better else (d >= 0) for label, d in rows]
    ax.barh(range(len(rows)), deltas, color=["tab:green" if b else "tab:red" for b in better])
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set(xlabel="Δ (B − A); green: B better", title=textwrap.fill(f"B = {cmp.get('b')}  vs  A = {cmp.get('a')}", 70))
    ax.title.set_fontsize(8)
    return _save(fig, path)


def training_curves(record: dict, path) -> Path | None:
    """Validation mR per validation (IR-CLIP) or training loss per logged step (IR-VLM)."""
    clip = [h for h in record.get("history", []) if h.get("val_mR") is not None]
    vlm = [h for h in record.get("log_history", []) if "loss" in h]
    if not clip and not vlm:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.4))
    if clip:
        ax.plot([h["epoch"] for h in clip], [h["val_mR"] for h in clip], marker="o")
        best = max(clip, key=lambda h: h["val_mR"])
        ax.plot([best["epoch"]], [best["val_mR"]], marker="*", markersize=16, color="tab:orange", label="kept")
        ax.legend()
        ax.set(xlabel="epoch", ylabel="validation mR (%)", title="IR-CLIP: validation mR (best kept)")
    else:
        ax.plot([h["step"] for h in vlm], [h["loss"] for h in vlm], marker=".")
        ax.set(xlabel="step", ylabel="training loss", title="IR-VLM LoRA: training loss")
    return _save(fig, path)


def contact_sheet(rows: list[dict], path, columns: int = 5, wrap: int = 30) -> Path | None:
    """A grid of examples; each row dict has `image` (PIL), `caption` and `title`."""
    if not rows:
        return None
    plt = _plt()
    nrows = -(-len(rows) // columns)
    fig, axes = plt.subplots(nrows, columns, figsize=(2.3 * columns, 3.1 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, row in zip(axes.flat, rows, strict=False):
        img = row["image"]
        ax.imshow(img, cmap="gray" if img.mode == "L" else None, vmin=0, vmax=255)
        ax.set_title(row.get("title", ""), fontsize=7)
        ax.text(0, -0.04, textwrap.fill(row.get("caption", ""), wrap), fontsize=6, va="top", transform=ax.transAxes)
    return _save(fig, path)
