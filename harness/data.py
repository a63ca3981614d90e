"""Dataset access for tasks: loading a task's config/split, a fingerprint, and DataLoaders whose workers
decode and preprocess images."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from monoir_rs.errors import UserError


def resolve_data(data: str | os.PathLike | None) -> tuple[str, bool]:
    """(path or Hub repo, is_local) with `load_dataset` semantics (SPEC §2): see `monoir_rs.hub.resolve_data`."""
    from monoir_rs.hub import resolve_data as _resolve

    return _resolve(data)


def load_task_dataset(task, data: str | os.PathLike | None):
    """The `datasets.Dataset` a task reads (its `dataset.config` / `dataset.split`)."""
    from monoir_rs.hub import load

    return load(task.dataset.config, task.dataset.split, data)


def data_fingerprint(data: str | os.PathLike | None) -> str:
    """Identity of the evaluated data: local folders hash their files' names, sizes and mtimes (cheap; changes
    on rebuild); Hub datasets use the repo's commit sha when it can be looked up."""
    where, local = resolve_data(data)
    h = hashlib.sha256()
    if local:
        root = Path(where)
        for f in sorted(p for p in root.rglob("*") if p.is_file() and "raw" not in p.relative_to(root).parts[:1]):
            st = f.stat()
            h.update(f"{f.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
        return "local-" + h.hexdigest()[:16]
    try:
        from huggingface_hub import HfApi

        return "hub-" + str(HfApi().dataset_info(where).sha)
    except Exception:  # noqa: BLE001 - offline: fall back to the repo name (cache keys also hash the row ids)
        return "hub-" + hashlib.sha256(where.encode()).hexdigest()[:16]


def ids_digest(values) -> str:
    """Short hash of a sequence of strings (row ids, captions) for cache keys."""
    h = hashlib.sha256()
    for v in values:
        h.update(str(v).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


class ImageDataset(torch.utils.data.Dataset):
    """Rows of an HF dataset → preprocessed image tensors; decoding happens in the DataLoader workers."""

    def __init__(self, dataset, transform, column: str = "image"):
        if column not in dataset.column_names:
            raise UserError(f"the dataset has no `{column}` column (columns: {', '.join(dataset.column_names)})")
        self.dataset = dataset.select_columns([column])
        self.transform, self.column = transform, column

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.transform(self.dataset[int(i)][self.column])

    def __getitems__(self, indices: list[int]) -> list[torch.Tensor]:
        """A whole batch in one Arrow read (the DataLoader calls this when it exists): much faster than
        row-by-row access for contiguous batches."""
        return [self.transform(im) for im in self.dataset[list(map(int, indices))][self.column]]


def image_loader(dataset, transform, batch_size: int, num_workers: int = 0) -> torch.utils.data.DataLoader:
    """Batches of (B, C, H, W) tensors in dataset order. Workers only pay off with more than one batch (starting
    them costs more than decoding a single batch), so a one-batch pool is loaded in-process."""
    batch_size = max(1, batch_size)
    num_workers = min(max(0, num_workers), -(-len(dataset) // batch_size) - 1)
    return torch.utils.data.DataLoader(ImageDataset(dataset, transform), batch_size=batch_size,
                                       shuffle=False, num_workers=max(0, num_workers),
                                       prefetch_factor=4 if num_workers > 0 else None,
                                       persistent_workers=False, pin_memory=False)
