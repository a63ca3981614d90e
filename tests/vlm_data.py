"""A small in-memory vlm_eval-like dataset shared by the VLM tests."""

from __future__ import annotations

CLASSES = ["airport", "denseresidential", "storage_tank", None, "river", "bridge"]


def make_dataset(n: int, bad: tuple[int, ...] = (), seed: int = 0):
    """Small in-memory vlm_eval-like dataset of random grayscale-ish images (bad: corrupt image bytes)."""
    import io

    import datasets
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    rows = {"id": [], "image": [], "caption": [], "scene_class": []}
    for i in range(n):
        arr = rng.integers(0, 255, (24 + 8 * (i % 3), 32, 1), dtype=np.uint8).repeat(3, 2)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG")
        data = b"not an image" if i in bad else buf.getvalue()
        rows["id"].append(f"img{i:03d}")
        rows["image"].append({"bytes": data, "path": None})
        rows["caption"].append("a bright airport runway with dark planes in an infrared image")
        rows["scene_class"].append(CLASSES[i % len(CLASSES)])
    feats = datasets.Features({"id": datasets.Value("string"), "image": datasets.Image(),
                               "caption": datasets.Value("string"), "scene_class": datasets.Value("string")})
    return datasets.Dataset.from_dict(rows, features=feats)
