"""Pieces both recipes share: seeding, data access, optimiser groups, run records (`monoir_training.json`)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import random
from pathlib import Path

from monoir_rs.errors import UserError

TRAINING_JSON = "monoir_training.json"


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def load_split(data: str | Path, config: str, split: str):
    """One split of a built dataset as a `datasets.Dataset`; a clear UserError when it is missing."""
    from monoir_rs import hub

    try:
        return hub.load(config, split, data)
    except UserError:
        raise
    except (FileNotFoundError, ValueError, KeyError) as err:
        raise UserError(f"dataset {data}: cannot read config {config!r} split {split!r} ({err}); "
                        "build it with `monoir build --pool POOL --out DATA`"
                        + (" and then `monoir instruct --data DATA`" if config == "vlm_instruct" else "")) from err


def data_fingerprint(data: str | Path) -> str:
    """Identity of a local built dataset: sha256 over its card and parquet shard names and sizes."""
    root = Path(data)
    if not root.is_dir():
        return hashlib.sha256(str(data).encode()).hexdigest()[:16]
    h = hashlib.sha256()
    card = root / "README.md"
    if card.exists():
        h.update(card.read_bytes())
    for f in sorted(root.glob("*/*.parquet")):
        h.update(f"{f.relative_to(root)}:{f.stat().st_size}".encode())
    return h.hexdigest()[:16]


def decay_groups(model, weight_decay: float) -> list[dict]:
    """AdamW groups over trainable parameters: no decay on norms, biases, embeddings' scalars and the logit
    scale (every parameter with fewer than 2 dimensions, plus any named *logit_scale* / *norm* / *ln_*)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        low = name.lower()
        if p.ndim < 2 or "logit_scale" in low or "norm" in low or ".ln_" in low or low.startswith("ln_"):
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def count_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def write_training_json(out: Path, record: dict) -> Path:
    """Write OUT/monoir_training.json atomically (docs/DESIGN.md: recipe, base model, data, hparams, seed,
    best epoch/step and val mR, library versions) and OUT/training_curves.png from its history."""
    from harness.runner import versions

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    full = {"schema_version": 1, "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "versions": versions(), **record}
    path = out / TRAINING_JSON
    write_json_atomic(path, full)
    from monoir_rs.plots import training_curves

    training_curves(full, out / "training_curves.png")
    return path


def write_json_atomic(path: Path, obj) -> None:
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)


def resolve_device(device: str | None) -> str:
    import torch

    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device {device!r} asked for but CUDA is not available; use --device cpu")
    return device
