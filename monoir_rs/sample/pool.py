"""`write_pool`: a deterministic, procedurally rendered RGB source pool in the five sources' public layouts.

Pool layout (what `monoir_rs.sources` reads; each folder mirrors the public release):

    rsicd/dataset_rsicd.json       + rsicd/RSICD_images/{class}_{n}.jpg      Karpathy-style JSON, 5 sentences
    rsitmd/dataset_RSITMD.json     + rsitmd/images/{class}_{n}.tif           Karpathy-style JSON, 5 sentences
    nwpu/dataset_nwpu.json         + nwpu/NWPU_images/{category}/{file}.jpg  grouped by category, raw, raw_1..raw_4
    rs5m/pub11_{split}_intermediate.csv + rs5m/pub11/{img_name}              columns img_name, caption
    skyscript/SkyScript_{split}_*.csv   + skyscript/{filepath}               columns filepath, title, title_multi_objects
    pool_summary.json

Sources are spread roughly like Table 3 but flattened so every source has test items; each source is split
2/3 train, 1/12 validation, 1/4 test. RS5M's public release has train/val CSVs only; the pool also writes
`pub11_test_intermediate.csv`, the FusionRS held-out part, in the same format. About 3% of test images sit under
folders whose name contains "rgb" (in RS5M and SkyScript, whose paths are free-form) for the clean_test rule.
Same `seed` -> byte-identical files.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from monoir_rs.errors import UserError
from monoir_rs.sample import captions as cap
from monoir_rs.sample.scenes import CLASS_NAMES, SCENE_CLASSES, render

# Share of scenes per source: Table 3 order, flattened so the small sources still get test items.
SOURCE_SHARE = {"rs5m": 0.50, "skyscript": 0.18, "nwpu": 0.14, "rsicd": 0.10, "rsitmd": 0.08}
SPLIT_SHARE = {"train": 2 / 3, "validation": 1 / 12, "test": 1 / 4}
RGB_TEST_SHARE = 0.03
SOURCE_SPLIT_NAME = {"train": "train", "validation": "val", "test": "test"}  # what the releases write
_RS5M_ORIGINS = ("laion2b", "coyo700m", "laioncoco", "cc12m")
_SKY_SOURCES = ("CH", "NAIP", "NJ", "WA")


def _apportion(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding of `total * share` (deterministic, ties by key order)."""
    raw = {k: total * v / sum(shares.values()) for k, v in shares.items()}
    out = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), list(shares).index(k)))[: total - sum(out.values())]:
        out[k] += 1
    return out


def plan(scenes: int, seed: int) -> list[dict]:
    """Source, split, class and rgb-flag of every scene, deterministically from `seed`."""
    if scenes < 1:
        raise ValueError("scenes must be >= 1")
    slots = []
    for source, n in _apportion(scenes, SOURCE_SHARE).items():
        for split, m in _apportion(n, SPLIT_SHARE).items():
            slots += [(source, split)] * m
    rng = np.random.default_rng([seed, 1])
    order = rng.permutation(len(slots))
    items = [{"index": i, "class": SCENE_CLASSES[i % len(SCENE_CLASSES)], "source": slots[o][0],
              "split": slots[o][1], "rgb": False} for i, o in enumerate(order)]
    free_paths = [it for it in items if it["split"] == "test" and it["source"] in ("rs5m", "skyscript")]
    n_test = sum(it["split"] == "test" for it in items)
    n_rgb = min(len(free_paths), max(1 if n_test >= 10 else 0, round(RGB_TEST_SHARE * n_test)))
    for k in rng.permutation(len(free_paths))[:n_rgb]:
        free_paths[int(k)]["rgb"] = True
    return items


def _image_path(it: dict, rng: np.random.Generator) -> str:
    """Path of the scene's image relative to its source folder, as that release names files."""
    i, cls = it["index"], it["class"]
    source = it["source"]
    if source == "rsicd":
        return f"RSICD_images/{cls.rsicd}_{i}.jpg"
    if source == "rsitmd":
        return f"images/{cls.rsicd}_{i}.tif"
    if source == "nwpu":
        return f"NWPU_images/{cls.nwpu}/{cls.nwpu}_{i:04d}.jpg"
    if source == "rs5m":
        name = f"{_RS5M_ORIGINS[int(rng.integers(len(_RS5M_ORIGINS)))]}_{i:08d}.jpg"
        return f"pub11/{'rgb_previews/' if it['rgb'] else ''}{name}"
    year = int(rng.integers(14, 23))
    name = f"a{100003 + 7919 * i}_{_SKY_SOURCES[int(rng.integers(len(_SKY_SOURCES)))]}_{year}.jpg"
    return f"{'images_rgb' if it['rgb'] else f'images{2 + i % 6}'}/{name}"


def write_pool(out, scenes: int = 1200, seed: int = 0, progress: bool = False) -> dict:
    """Write the sample RGB source pool under `out` and return its summary (also `out/pool_summary.json`)."""
    out = Path(out)
    _prepare(out)
    items = plan(scenes, seed)
    karpathy = {"rsicd": [], "rsitmd": []}
    nwpu: dict[str, list] = defaultdict(list)
    rs5m_rows: dict[str, list] = defaultdict(list)
    sky_rows: dict[str, list] = defaultdict(list)
    counts: dict[str, Counter] = defaultdict(Counter)
    sentid = 0
    iterator = items
    if progress:
        from tqdm import tqdm

        iterator = tqdm(items, desc="sample pool", unit="scene")
    for it in iterator:
        rng = np.random.default_rng([seed, 2, it["index"]])
        img, _facts, sentences = render(it["class"], rng)
        sentences = [sentences[int(k)] for k in rng.permutation(len(sentences))]
        source, split = it["source"], SOURCE_SPLIT_NAME[it["split"]]
        rel = _image_path(it, rng)
        path = out / source / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".tif":
            img.save(path, "TIFF")
        else:
            img.save(path, "JPEG", quality=90)
        counts[source][it["split"]] += 1
        fname = rel.rsplit("/", 1)[-1]
        if source in karpathy:
            texts = cap.rsicd(sentences) if source == "rsicd" else cap.rsitmd(sentences)
            ids = list(range(sentid, sentid + len(texts)))
            sentid += len(texts)
            karpathy[source].append({
                "filename": fname, "imgid": len(karpathy[source]), "split": split, "sentids": ids,
                "sentences": [{"tokens": cap.tokens(t), "raw": t, "imgid": len(karpathy[source]), "sentid": s}
                              for t, s in zip(texts, ids, strict=True)]})
        elif source == "nwpu":
            texts = cap.nwpu(sentences)
            ids = list(range(sentid, sentid + len(texts)))
            sentid += len(texts)
            entry = {"filename": fname, "imgid": it["index"], "split": split, "raw": texts[0]}
            entry.update({f"raw_{k}": t for k, t in enumerate(texts[1:], start=1)})
            entry["sentids"] = ids
            nwpu[it["class"].nwpu].append(entry)
        elif source == "rs5m":
            rs5m_rows[split].append((rel.split("/", 1)[1], cap.rs5m(sentences, rng)[0]))
        else:
            title, multi = cap.skyscript(sentences, it["class"].name)
            sky_rows[split].append((rel, title, multi))
    files = _write_metadata(out, karpathy, nwpu, rs5m_rows, sky_rows)
    test = [it for it in items if it["split"] == "test"]
    summary = {
        "kind": "monoir-rs sample RGB source pool", "version": 1, "seed": seed, "scenes": scenes,
        "classes": list(CLASS_NAMES),
        "counts": {s: {sp: counts[s][sp] for sp in SPLIT_SHARE} for s in SOURCE_SHARE},
        "split_totals": {sp: sum(counts[s][sp] for s in SOURCE_SHARE) for sp in SPLIT_SHARE},
        "class_counts": dict(sorted(Counter(it["class"].name for it in items).items())),
        "rgb_test_paths": sum(it["rgb"] for it in test), "test_items": len(test),
        "metadata_files": files,
    }
    (out / "pool_summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _prepare(out: Path) -> None:
    """Create `out`; a previous sample pool there is replaced, any other non-empty folder is refused."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; choose a folder for the pool")
    if out.is_dir() and any(out.iterdir()):
        if not (out / "pool_summary.json").is_file():
            raise UserError(f"--out {out} is not empty and holds no sample pool (no pool_summary.json); "
                            "choose an empty or new folder")
        for name in (*SOURCE_SHARE, "pool_summary.json"):
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")


def _write_csv(path: Path, header: tuple[str, ...], rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _write_metadata(out: Path, karpathy, nwpu, rs5m_rows, sky_rows) -> dict[str, list[str]]:
    files: dict[str, list[str]] = {}
    for source, name in (("rsicd", "dataset_rsicd.json"), ("rsitmd", "dataset_RSITMD.json")):
        _write_json(out / source / name, {"images": karpathy[source], "dataset": source})
        files[source] = [f"{source}/{name}"]
    _write_json(out / "nwpu" / "dataset_nwpu.json", {k: nwpu[k] for k in sorted(nwpu)})
    files["nwpu"] = ["nwpu/dataset_nwpu.json"]
    files["rs5m"] = []
    for split in ("train", "val", "test"):
        name = f"pub11_{split}_intermediate.csv"
        _write_csv(out / "rs5m" / name, ("img_name", "caption"), rs5m_rows.get(split, []))
        files["rs5m"].append(f"rs5m/{name}")
    files["skyscript"] = []
    for split, name in (("train", "SkyScript_train_top50pct_filtered_by_CLIP_openai.csv"),
                        ("val", "SkyScript_val_5K_filtered_by_CLIP_openai.csv"),
                        ("test", "SkyScript_test_30K_filtered_by_CLIP_openai.csv")):
        _write_csv(out / "skyscript" / name, ("filepath", "title", "title_multi_objects"), sky_rows.get(split, []))
        files["skyscript"].append(f"skyscript/{name}")
    return files
