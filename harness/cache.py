"""Embedding cache: one safetensors file per (model, preprocessing, data, kind), so a re-run or a second task
on the same model and data does not re-encode. Writes are atomic (temp file + rename)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch


def cache_key(**parts) -> str:
    """Stable key from named parts (model cache_key, preprocess_key, data fingerprint, ids digest, kind...)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]


class EmbeddingCache:
    def __init__(self, root: str | os.PathLike, enabled: bool = True):
        self.root = Path(root) / "embeddings"
        self.enabled = enabled

    def path(self, key: str) -> Path:
        return self.root / f"{key}.safetensors"

    def load(self, key: str, n_rows: int | None = None) -> torch.Tensor | None:
        """The cached (N, D) tensor, or None when absent/disabled/unreadable or of the wrong length."""
        if not self.enabled or not self.path(key).is_file():
            return None
        from safetensors.torch import load_file

        try:
            emb = load_file(str(self.path(key)))["embeddings"]
        except Exception:  # noqa: BLE001 - a truncated/corrupt cache file is simply recomputed
            return None
        return emb if n_rows is None or emb.shape[0] == n_rows else None

    def save(self, key: str, emb: torch.Tensor, meta: dict | None = None) -> None:
        if not self.enabled:
            return
        from safetensors.torch import save_file

        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.path(key).with_suffix(f".tmp{os.getpid()}")
        save_file({"embeddings": emb.contiguous()}, str(tmp),
                  metadata={k: str(v) for k, v in (meta or {}).items()})
        os.replace(tmp, self.path(key))
