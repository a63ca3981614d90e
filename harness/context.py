"""What a run needs besides the task and the model: output folder, batching, limits, caches, progress."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_cache_dir() -> Path:
    """Embedding / generation caches: $MONOIR_CACHE, else ~/.cache/monoir_rs."""
    return Path(os.environ.get("MONOIR_CACHE", Path.home() / ".cache" / "monoir_rs"))


@dataclass
class RunContext:
    output_dir: Path
    batch_size: int = 32
    limit: int | None = None            # evaluate only the first N items (smoke runs)
    num_workers: int = 0                # DataLoader workers that decode + preprocess images
    device: str = "cpu"
    seed: int = 0
    bootstrap: int = 1000               # bootstrap resamples for 95% CIs (0 disables)
    cache_dir: Path = field(default_factory=default_cache_dir)
    use_cache: bool = True
    progress: bool = True
    dataset_fingerprint: str = ""       # identifies the evaluated data for caches and results.json
