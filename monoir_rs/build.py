"""Paper Algorithm 1: source pool → IR images (T_φ) → IR-aware captions (R_ω) → quality gate Q (eq. 6) →
splits (eq. 7) → raw release → Hub layout (`all`, per-source, `clean_test` eq. 8–9, `vlm_eval`) → card → audit.

Streaming and scale. The pool is read as a stream (`monoir_rs.sources.iter_pool`) and cut into chunks of
`chunk_size` consecutive items (bad items included), so chunk k is the same set of items on every run. A chunk
is processed on its own (in-process, or in a worker of a process pool with `workers > 1`): its IR JPEGs go
straight to `raw/images/`, and its records and rejections to `.work/chunks/{k}.jsonl`, written atomically —
that file is the chunk's done-marker, so a killed build resumes without redoing finished chunks. Only a
bounded number of chunks is in flight, so memory does not grow with the pool. `shard=(i, n)` processes
chunks k ≡ i (mod n) only; when every chunk is done (any shard, or `merge=True`), the merge streams the chunk
files in order into `raw/records.jsonl`, `raw/splits/*.txt` and `raw/rejected.jsonl` (ids deduplicated with
an on-disk SQLite index) and exports the parquet configs. Output bytes do not depend on workers, shards or
resumes (chunk order, not completion order, decides everything).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import time
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from io import BytesIO
from pathlib import Path, PurePosixPath

from monoir_rs.errors import UserError
from monoir_rs.schema import SOURCES, SPLITS, is_rgb_path

CHUNK_SIZE = 64
JPEG_QUALITY = 95
VLM_EVAL_MAX = 500
MAX_REPORT_IDS = 1000  # ids per rejection reason kept in build_report.json (all are in raw/rejected.jsonl)
REPORT_VERSION = 1
SPLITS_BY_HOLDOUT = ("train", "validation", "test")  # a near-duplicate stays in the rightmost of its splits


@dataclass(frozen=True)
class Stages:
    """What a worker needs to rebuild the stage objects (picklable); also the resume fingerprint."""

    ir_synth: str = "thermal-proxy"
    synth_opts: dict = field(default_factory=dict)
    rewriter: str = "rules"
    rewriter_opts: dict = field(default_factory=dict)
    min_words: int | None = None
    chunk_size: int = CHUNK_SIZE
    jpeg_quality: int = JPEG_QUALITY
    near_dup_radius: int | None = 4  # split hygiene at merge (None: off); see `split_hygiene`


_STAGE_CACHE: dict[str, tuple] = {}


def stage_objects(stages: Stages):
    """(synth, rewriter) for `stages`, created once per process."""
    key = json.dumps(asdict(stages), sort_keys=True, default=str)
    if key not in _STAGE_CACHE:
        from monoir_rs.rewrite import get_rewriter
        from monoir_rs.synth import get_synth

        _STAGE_CACHE.clear()
        _STAGE_CACHE[key] = (get_synth(stages.ir_synth, **stages.synth_opts),
                             get_rewriter(stages.rewriter, **stages.rewriter_opts))
    return _STAGE_CACHE[key]


def release_path(pool_path: str) -> str:
    """Path of the IR JPEG in the raw release for a pool image path: `images/<pool path>` with the suffix
    `.jpg`; other suffixes are kept in the name (`a.png` → `a_png.jpg`) so distinct sources never collide.
    Directory and file names are kept, so eq. 8's "rgb" test sees the source's naming."""
    p = PurePosixPath(pool_path.replace("\\", "/"))
    suffix = p.suffix.lower()
    name = p.stem + ".jpg" if suffix == ".jpg" else (p.name.replace(".", "_") + ".jpg")
    return str(PurePosixPath("images") / p.parent / name)


def _is_bad(item) -> bool:
    return not hasattr(item, "image_file")


def _reject(item_id, source, reason, detail="", **extra) -> dict:
    return {"rejected": {"id": str(item_id), "source": source, "reason": reason, "detail": str(detail)[:500],
                        **extra}}


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _decode(raw):
    """(RGB image, None) or (None, (reason, detail)) for a record's source image."""
    from PIL import Image

    if not Path(raw.image_file).is_file():
        return None, ("missing_image", f"source image {raw.image_file} does not exist")
    try:
        with Image.open(raw.image_file) as im:
            im.load()
            return im.convert("RGB"), None
    except Exception as err:  # PIL raises OSError, SyntaxError, ValueError... for broken files
        return None, ("corrupt_image", f"{raw.image_file}: {type(err).__name__}: {err}")


def _encode(ir, quality: int) -> tuple[bytes, object]:
    ir = ir.convert("L")
    buf = BytesIO()
    ir.save(buf, format="JPEG", quality=quality)
    return buf.getvalue(), ir


def synthesize_batch(raws: list, synth, quality: int) -> dict:
    """{image_file: (jpeg bytes, IR image) or (None, reason, detail)} for the distinct source images of `raws`.

    T_φ runs once per chunk through `synth.run_batch` (one call of an external command per batch); when the
    batch fails with an ordinary exception, each image is retried alone so the failure is pinned to its item
    (`synth_failed`). A UserError (e.g. the external command failing after its retries) stops the build."""
    made, todo = {}, {}
    for raw in raws:
        key = str(raw.image_file)
        if key in made or key in todo:
            continue
        rgb, bad = _decode(raw)
        if bad:
            made[key] = (None, *bad)
        else:
            todo[key] = rgb
    if not todo:
        return made
    try:
        irs = synth.run_batch(list(todo.values())) if hasattr(synth, "run_batch") else None
    except UserError:
        raise
    except Exception:
        irs = None
    if irs is not None and len(irs) != len(todo):
        raise UserError(f"IR synthesizer {synth.name} returned {len(irs)} images for {len(todo)} inputs")
    for i, (key, rgb) in enumerate(todo.items()):
        try:
            made[key] = _encode(irs[i] if irs is not None else synth(rgb), quality)
        except UserError:
            raise
        except Exception as err:
            made[key] = (None, "synth_failed", f"{type(err).__name__}: {err}")
    return made


def process_chunk(k: int, items: list, out: str, stages: Stages) -> dict:
    """Run T_φ, R_ω and Q over one chunk; write its IR JPEGs and `.work/chunks/{k}.jsonl`. Returns counts."""
    from PIL import Image

    from monoir_rs.gate import caption_reasons, record_reason, resolve_split
    from monoir_rs.phash import phash
    from monoir_rs.rewrite import RewriteInput

    out_dir = Path(out)
    synth, rewriter = stage_objects(stages)
    t0 = time.perf_counter()
    lines, valid = [], []
    for pos, item in enumerate(items):
        if _is_bad(item):
            lines.append((pos, _reject(item.id, item.source, item.reason, item.detail)))
            continue
        split = resolve_split(item.id, item.split)
        reason = record_reason(item.source, item.image_path, split)
        if reason:
            lines.append((pos, _reject(item.id, item.source, reason,
                                       f"split={item.split!r} image_path={item.image_path!r}")))
            continue
        valid.append((pos, item, split))
    try:
        images = synthesize_batch([item for _, item, _ in valid], synth, stages.jpeg_quality)
    except UserError as err:
        raise UserError(f"IR synthesis of chunk {k} failed: {err}; fix it and re-run: finished chunks are kept"
                        ) from err
    pending = []
    for pos, item, split in valid:
        made = images[str(item.image_file)]
        if made[0] is None:
            lines.append((pos, _reject(item.id, item.source, made[1], made[2])))
        else:
            pending.append((pos, item, split, made))
    del images
    t1 = time.perf_counter()
    try:
        texts = rewriter.rewrite_batch([
            RewriteInput(id=item.id, source_caption=item.source_caption or "", scene_class=item.scene_class,
                         rgb_path=item.image_file, ir_image=made[1]) for _, item, _, made in pending])
    except UserError as err:
        ids = f"ids {pending[0][1].id} .. {pending[-1][1].id}" if pending else "no items"
        raise UserError(f"rewriting chunk {k} ({ids}) failed: {err}; fix it and re-run: finished chunks are kept"
                        ) from err
    if len(texts) != len(pending):
        raise UserError(f"rewriter {stages.rewriter} returned {len(texts)} captions for {len(pending)} inputs "
                        f"in chunk {k}; it must return one per input")
    t2 = time.perf_counter()
    written: dict[str, str] = {}  # release path -> pHash64 hex
    for (pos, item, split, made), text in zip(pending, texts, strict=True):
        text = (text or "").strip()
        reasons = caption_reasons(text, stages.min_words)
        if reasons:
            lines.append((pos, _reject(item.id, item.source, reasons[0], "caption failed the quality gate",
                                       reasons=reasons, caption=text)))
            continue
        path = release_path(item.image_path)
        if path not in written:
            _write_atomic(out_dir / "raw" / path, made[0])
            written[path] = f"{phash(Image.open(BytesIO(made[0]))):016x}"  # of the released JPEG, as the audit
        lines.append((pos, {"phash": written[path], "record": {
            "id": item.id, "image_path": path, "caption": text, "source": item.source, "split": split,
            "scene_class": item.scene_class, "source_caption": item.source_caption,
            "source_image_path": item.image_path}}))
    t3 = time.perf_counter()
    lines.sort(key=lambda pl: pl[0])
    meta = {"chunk": k, "n_items": len(items),
            "timings": {"read_synth": t1 - t0, "rewrite": t2 - t1, "gate_write": t3 - t2}}
    body = "".join(json.dumps(obj, ensure_ascii=False, sort_keys=True) + "\n" for _, obj in lines)
    _write_atomic(chunk_file(out_dir, k), (json.dumps(meta) + "\n" + body).encode("utf-8"))
    n_ok = sum(1 for _, obj in lines if "record" in obj)
    return {"chunk": k, "records": n_ok, "rejected": len(lines) - n_ok}


def chunk_file(out: Path, k: int) -> Path:
    return Path(out) / ".work" / "chunks" / f"{k:08d}.jsonl"


def _chunks(pool, size: int):
    """(k, items) for consecutive chunks of the pool stream."""
    from monoir_rs.sources import iter_pool

    buf, k = [], 0
    for item in iter_pool(pool):
        buf.append(item)
        if len(buf) == size:
            yield k, buf
            buf, k = [], k + 1
    if buf:
        yield k, buf


def parse_shard(shard) -> tuple[int, int] | None:
    """`"i/n"` or (i, n) → (i, n) with 0 <= i < n; None stays None."""
    if shard is None:
        return None
    try:
        i, n = (int(x) for x in (shard.split("/") if isinstance(shard, str) else shard))
    except (ValueError, TypeError):
        raise UserError(f"--shard {shard!r}: expected i/n with 0 <= i < n, e.g. --shard 0/4") from None
    if not 0 <= i < n:
        raise UserError(f"--shard {shard!r}: expected i/n with 0 <= i < n, e.g. --shard 0/4")
    return i, n


# --- plan / resume -------------------------------------------------------------------------------------------

def _plan(out: Path, pool, stages: Stages, resume: bool) -> dict:
    """Check (or start) `.work/plan.json`: a resumed build must use the same pool and stage settings.

    A fresh plan is created with O_EXCL, so shards started at the same moment agree on one plan and only its
    creator clears leftovers of an older build (`raw/`, `.work/chunks`)."""
    work = out / ".work"
    plan_file = work / "plan.json"
    plan = json.loads(json.dumps({"pool": str(Path(pool).resolve()), "stages": asdict(stages)}, default=str))
    if not resume:
        for sub in (".work", "raw"):
            shutil.rmtree(out / sub, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(plan_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        old = _read_plan(plan_file)
        if old.get("pool") != plan["pool"] or old.get("stages") != plan["stages"]:
            raise UserError(f"{out} holds a build with other settings ({old.get('stages')} from {old.get('pool')}); "
                            "re-run with those settings to resume, or pass --no-resume to start over") from None
        return old
    shutil.rmtree(out / "raw", ignore_errors=True)
    shutil.rmtree(work / "chunks", ignore_errors=True)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(plan, indent=1, sort_keys=True))
    return plan


def _read_plan(plan_file: Path) -> dict:
    """The plan, waiting briefly if another shard is writing it right now."""
    for _ in range(50):
        try:
            return json.loads(plan_file.read_text())
        except (json.JSONDecodeError, FileNotFoundError):
            time.sleep(0.1)
    raise UserError(f"{plan_file} is unreadable; remove {plan_file.parent} or pass --no-resume to start over")


def _update_plan(out: Path, **fields) -> None:
    plan_file = out / ".work" / "plan.json"
    plan = json.loads(plan_file.read_text())
    plan.update(fields)
    _write_atomic(plan_file, json.dumps(plan, indent=1, sort_keys=True).encode())


def run_chunks(pool, out: Path, stages: Stages, workers: int, shard, progress: bool, total: int | None = None) -> dict:
    """Process this shard's unfinished chunks; returns {"n_chunks", "n_items", "processed", "skipped"}."""
    from tqdm.auto import tqdm

    i_shard, n_shard = shard or (0, 1)
    processed = skipped = n_items = n_chunks = 0
    bar = tqdm(desc="build: synthesize + rewrite + gate", unit="item", total=total, disable=not progress)
    pool_exec = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context()) if workers > 1 else None
    in_flight: dict = {}

    def drain(limit: int) -> None:
        nonlocal processed
        while len(in_flight) > limit:
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for fut in done:
                n = in_flight.pop(fut)
                fut.result()
                processed += 1
                bar.update(n)

    try:
        for k, items in _chunks(pool, stages.chunk_size):
            n_chunks, n_items = k + 1, n_items + len(items)
            if k % n_shard != i_shard:
                continue
            if chunk_file(out, k).is_file():
                skipped += 1
                bar.update(len(items))
                continue
            if pool_exec is None:
                process_chunk(k, items, str(out), stages)
                processed += 1
                bar.update(len(items))
            else:
                in_flight[pool_exec.submit(process_chunk, k, items, str(out), stages)] = len(items)
                drain(2 * workers)
        drain(0)
    finally:
        bar.close()
        if pool_exec is not None:
            pool_exec.shutdown(wait=True, cancel_futures=True)
    return {"n_chunks": n_chunks, "n_items": n_items, "processed": processed, "skipped": skipped}


def _mp_context():
    import multiprocessing

    return multiprocessing.get_context("spawn")


# --- merge ---------------------------------------------------------------------------------------------------

class _Merger:
    """Streams chunk files in order into the raw release; ids and image paths are indexed in SQLite on disk."""

    def __init__(self, out: Path, near_dup_radius: int | None = None):
        self.out, self.raw = out, out / "raw"
        self.radius = near_dup_radius
        self.drop: dict[int, str] = {}  # record-line ordinal -> the held-out split its near-duplicate stays in
        self.hygiene = {"near_dup_radius": near_dup_radius, "dropped": 0}
        self._ordinal = 0
        db_path = out / ".work" / "merge.sqlite"
        db_path.unlink(missing_ok=True)
        self.db = sqlite3.connect(db_path)
        self.db.execute("CREATE TABLE ids (id TEXT PRIMARY KEY)")
        self.db.execute("CREATE TABLE paths (path TEXT PRIMARY KEY, src TEXT)")
        self.db.execute("CREATE TABLE orphans (path TEXT PRIMARY KEY)")
        (self.raw / "splits").mkdir(parents=True, exist_ok=True)
        self.files = {name: open(self._tmp(name), "w", encoding="utf-8") for name in
                      ("records.jsonl", "rejected.jsonl", *(f"splits/{s}.txt" for s in
                       (*SPLITS, "flagged_rgb")))}
        self.counts = {src: dict.fromkeys(SPLITS, 0) for src in SOURCES}
        self.rejections: dict[str, dict] = {}
        self.clean_test: list[tuple[str, str]] = []  # (id, image_path): bounded by the test split
        self.preview: dict[str, list[dict]] = defaultdict(list)  # the first clean_test records per source
        self.timings: dict[str, float] = defaultdict(float)
        self.n_candidates = 0

    def _tmp(self, name: str) -> Path:
        return self.raw / f"{name}.tmp"

    def _write(self, name: str, line: str) -> None:
        self.files[name].write(line + "\n")

    def reject(self, rej: dict) -> None:
        self._write("rejected.jsonl", json.dumps(rej, ensure_ascii=False, sort_keys=True))
        slot = self.rejections.setdefault(rej["reason"], {"count": 0, "ids": []})
        slot["count"] += 1
        if len(slot["ids"]) < MAX_REPORT_IDS:
            slot["ids"].append(rej["id"])

    def record(self, rec: dict) -> None:
        if self.db.execute("SELECT 1 FROM ids WHERE id = ?", (rec["id"],)).fetchone():
            self.db.execute("INSERT OR IGNORE INTO orphans VALUES (?)", (rec["image_path"],))
            return self.reject({"id": rec["id"], "source": rec["source"], "reason": "duplicate_id",
                                "detail": "an earlier record of the pool has the same id; the first is kept"})
        row = self.db.execute("SELECT src FROM paths WHERE path = ?", (rec["image_path"],)).fetchone()
        if row and row[0] != rec["source_image_path"]:
            return self.reject({"id": rec["id"], "source": rec["source"], "reason": "image_path_collision",
                                "detail": f"{rec['source_image_path']} and {row[0]} map to {rec['image_path']}"})
        self.db.execute("INSERT INTO ids VALUES (?)", (rec["id"],))
        if not row:
            self.db.execute("INSERT INTO paths VALUES (?, ?)", (rec["image_path"], rec["source_image_path"]))
        self._write("records.jsonl", json.dumps(rec, ensure_ascii=False, sort_keys=True))
        self._write(f"splits/{rec['split']}.txt", rec["id"])
        self.counts.setdefault(rec["source"], dict.fromkeys(SPLITS, 0))[rec["split"]] += 1
        if rec["split"] == "test":
            if is_rgb_path(rec["image_path"]):
                self._write("splits/flagged_rgb.txt", rec["id"])
            else:
                self.clean_test.append((rec["id"], rec["image_path"]))
                if len(self.preview[rec["source"]]) < PREVIEW_PER_SOURCE:
                    self.preview[rec["source"]].append(rec)

    def plan_split_hygiene(self, paths: list[Path]) -> None:
        """Pre-pass: a record whose image is within `radius` pHash64 bits of an image in a more held-out split
        (test > validation > train) is marked to be rejected as `near_duplicate_split`, so a scene never sits
        in two splits and the held-out sets stay intact. Direct neighbours only: a chain of look-alikes (flat
        water, bare land) cannot pull unrelated train images out. Memory: 17 bytes per record (numpy)."""
        from array import array

        import numpy as np

        from monoir_rs.phash import nearest_rank

        if self.radius is None:
            return
        rank = {s: i for i, s in enumerate(SPLITS_BY_HOLDOUT)}
        self.db.execute("CREATE TEMP TABLE pre_ids (id TEXT PRIMARY KEY)")
        ordinals, hashes, ranks = array("q"), array("Q"), array("b")  # 17 bytes per record
        ordinal = 0
        for path in paths:
            with open(path, encoding="utf-8") as fh:
                fh.readline()
                for line in fh:
                    obj = json.loads(line)
                    if "record" not in obj:
                        continue
                    rid = obj["record"]["id"]
                    fresh = self.db.execute("INSERT OR IGNORE INTO pre_ids VALUES (?)", (rid,)).rowcount
                    if fresh and obj.get("phash"):
                        ordinals.append(ordinal)
                        hashes.append(int(obj["phash"], 16))
                        ranks.append(rank[obj["record"]["split"]])
                    ordinal += 1
        self.db.execute("DROP TABLE pre_ids")
        if not hashes:
            return
        ranks = np.frombuffer(ranks, dtype=np.int8)
        nearest = nearest_rank(np.frombuffer(hashes, dtype=np.uint64), ranks, self.radius)
        del hashes
        for i in np.flatnonzero(ranks < nearest).tolist():
            self.drop[ordinals[i]] = SPLITS_BY_HOLDOUT[int(nearest[i])]

    def add_chunk(self, path: Path) -> None:
        with open(path, encoding="utf-8") as fh:
            meta = json.loads(fh.readline())
            self.n_candidates += meta["n_items"]
            for name, sec in meta["timings"].items():
                self.timings[name] += sec
            for line in fh:
                obj = json.loads(line)
                if "record" not in obj:
                    self.reject(obj["rejected"])
                    continue
                kept_in = self.drop.get(self._ordinal)
                self._ordinal += 1
                if kept_in is None:
                    self.record(obj["record"])
                    continue
                rec = obj["record"]
                self.hygiene["dropped"] += 1
                self.db.execute("INSERT OR IGNORE INTO orphans VALUES (?)", (rec["image_path"],))
                self.reject({"id": rec["id"], "source": rec["source"], "reason": "near_duplicate_split",
                             "detail": f"its image is within {self.radius} pHash64 bits of a {kept_in} image; "
                                       f"the {kept_in} copy is kept so the scene is in one split only"})

    def finish(self) -> dict:
        """Write the clean_test / vlm_eval id lists, drop orphan images, move files into place."""
        clean_ids = [rid for rid, _ in self.clean_test]
        self.files["splits/clean_test.txt"] = open(self._tmp("splits/clean_test.txt"), "w", encoding="utf-8")
        for rid in clean_ids:
            self._write("splits/clean_test.txt", rid)
        vlm_ids = vlm_eval_ids(self.clean_test)
        self.files["splits/vlm_eval.txt"] = open(self._tmp("splits/vlm_eval.txt"), "w", encoding="utf-8")
        for rid in vlm_ids:
            self._write("splits/vlm_eval.txt", rid)
        for fh in self.files.values():
            fh.close()
        for name in self.files:
            os.replace(self._tmp(name), self.raw / name)
        orphans = self.db.execute("SELECT path FROM orphans WHERE path NOT IN (SELECT path FROM paths)").fetchall()
        for (path,) in orphans:
            (self.raw / path).unlink(missing_ok=True)
        self.db.close()
        (self.out / ".work" / "merge.sqlite").unlink(missing_ok=True)
        test = sum(c["test"] for c in self.counts.values())
        return {"clean_test": {"test": test, "flagged": test - len(clean_ids), "clean": len(clean_ids)},
                "vlm_eval": len(vlm_ids)}


def vlm_eval_ids(clean_test: list[tuple[str, str]], k: int = VLM_EVAL_MAX) -> list[str]:
    """Up to `k` clean_test images: id-sorted records, one per image (the first id of each image path),
    sampled with `random.Random(0)`; returned in id order."""
    seen, pool = set(), []
    for rid, path in sorted(clean_test):
        if path not in seen:
            seen.add(path)
            pool.append(rid)
    return sorted(random.Random(0).sample(pool, min(k, len(pool))))


PREVIEW = "preview.png"
PREVIEW_PER_SOURCE = 2


def write_preview(out: Path, picked: dict[str, list[dict]], max_rows: int = 10) -> str | None:
    """OUT/preview.png: the first clean_test records of each source (`picked` by the merge), IR image and
    IR-aware caption (only the release's own content: no RGB source image, whose licence may forbid
    redistribution). Returns the file name, or None when there is nothing to show."""
    from PIL import Image

    from monoir_rs.plots import contact_sheet

    rows = [{"image": Image.open(out / "raw" / rec["image_path"]).convert("L"), "caption": rec["caption"],
             "title": f"{rec['source']} / {rec.get('scene_class') or '-'}"}
            for rec in [r for recs in picked.values() for r in recs][:max_rows]]
    return PREVIEW if contact_sheet(rows, out / PREVIEW, columns=5) else None


# --- driver --------------------------------------------------------------------------------------------------

def _missing_chunks(out: Path, n_chunks: int) -> list[int]:
    return [k for k in range(n_chunks) if not chunk_file(out, k).is_file()]


def build(pool=None, out="monoir-rs", ir_synth: str = "thermal-proxy", rewriter: str = "rules", workers: int = 1,
          shard=None, progress: bool = True, seed: int = 0, resume: bool = True, merge: bool = False,
          chunk_size: int = CHUNK_SIZE, synth_opts: dict | None = None, rewriter_opts: dict | None = None,
          min_words: int | None = None, max_shard_size: str | int = "500MB", run_audit: bool = True,
          near_dup_radius: int | None = 4, **opts) -> dict:
    """Build `out` from `pool` (paper Algorithm 1; see the module docstring). Returns the build report, or,
    for a shard that finishes before the others, {"status": "partial", ...}. `merge=True` only merges
    (every chunk must be done). `seed` is passed to the synthesizer when it has one (thermal-proxy's noise)."""
    if opts:
        raise UserError(f"unknown build option(s) {sorted(opts)}; see `monoir build --help`")
    out = Path(out)
    synth_opts = dict(synth_opts or {})
    if seed and "seed" not in synth_opts and ir_synth in ("thermal-proxy", "thermal_proxy"):
        synth_opts["seed"] = int(seed)
    stages = Stages(ir_synth, synth_opts, rewriter, dict(rewriter_opts or {}), min_words, int(chunk_size),
                    near_dup_radius=None if near_dup_radius is None or near_dup_radius < 0 else int(near_dup_radius))
    times: dict[str, float] = {}
    if merge:
        plan_file = out / ".work" / "plan.json"
        if not plan_file.is_file():
            raise UserError(f"{out} has no build in progress to merge; run `monoir build --pool POOL --out {out}`")
        plan = json.loads(plan_file.read_text())
        if "n_chunks" not in plan:
            raise UserError(f"{out}: no shard has finished reading the pool yet; run the shards first")
        stages = Stages(**plan["stages"])
        pool = plan["pool"]
    else:
        if pool is None or not Path(pool).is_dir():
            raise UserError(f"source pool {pool!r} is not a folder; write one with `monoir sample --out POOL`")
        shard = parse_shard(shard)
        if workers < 1:
            raise UserError(f"--workers {workers}: must be >= 1")
        out.mkdir(parents=True, exist_ok=True)
        stage_objects(stages)  # fail early on unknown plug-ins or bad options
        plan = _plan(out, pool, stages, resume)
        t = time.perf_counter()
        run = run_chunks(pool, out, stages, workers, shard, progress, total=plan.get("n_items"))
        times["process_s"] = time.perf_counter() - t
        _update_plan(out, n_chunks=run["n_chunks"], n_items=run["n_items"])
        plan.update(n_chunks=run["n_chunks"], n_items=run["n_items"])
    missing = _missing_chunks(out, plan["n_chunks"])
    if missing:
        if merge:
            raise UserError(f"{out}: {len(missing)} of {plan['n_chunks']} chunks are not done yet (first: {missing[0]});"
                            " finish every shard (`monoir build ... --shard i/n`) before `--merge`")
        return {"status": "partial", "shard": list(shard) if shard else None, "n_chunks": plan["n_chunks"],
                "chunks_missing": len(missing), "out": str(out)}
    import fcntl

    with open(out / ".work" / "merge.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UserError(f"{out}: another process is merging this build right now; wait for it to finish"
                            ) from None
        return _finish(out, stages, plan, times, progress, max_shard_size, run_audit)


def _finish(out: Path, stages: Stages, plan: dict, times: dict, progress: bool, max_shard_size, run_audit) -> dict:
    """Merge the chunks, export the configs, write the card, audit, and write build_report.json."""
    from tqdm.auto import tqdm

    from monoir_rs import gate, hub
    from monoir_rs.keywords import KEYWORDS_VERSION

    t = time.perf_counter()
    merger = _Merger(out, stages.near_dup_radius)
    merger.plan_split_hygiene([chunk_file(out, k) for k in range(plan["n_chunks"])])
    for k in tqdm(range(plan["n_chunks"]), desc="build: merge chunks", unit="chunk", disable=not progress):
        merger.add_chunk(chunk_file(out, k))
    summary = merger.finish()
    summary["split_hygiene"] = merger.hygiene
    summary["preview"] = write_preview(out, merger.preview)
    times["merge_s"] = time.perf_counter() - t
    t = time.perf_counter()
    exported = hub.export(out, hub.build_configs(merger.counts), max_shard_size=max_shard_size, progress=progress)
    times["export_s"] = time.perf_counter() - t
    synth, rewriter = stage_objects(stages)
    n_records = sum(sum(c.values()) for c in merger.counts.values())
    report = {
        "report_version": REPORT_VERSION,
        "pool": plan["pool"], "out": str(out.resolve()),
        "n_candidates": merger.n_candidates, "n_records": n_records,
        "n_rejected": sum(r["count"] for r in merger.rejections.values()),
        "counts": merger.counts,
        "totals": {s: sum(c[s] for c in merger.counts.values()) for s in SPLITS},
        "rejections": {k: {**v, "ids_truncated": v["count"] > len(v["ids"])}
                       for k, v in sorted(merger.rejections.items())},
        "configs": exported,
        **summary,
        "stages": {"ir_synth": {"name": synth.name, "settings": synth.settings()},
                   "rewriter": {"name": rewriter.name, "settings": rewriter.settings()},
                   "gate": gate.settings(stages.min_words), "keywords_version": KEYWORDS_VERSION,
                   "chunk_size": stages.chunk_size, "jpeg_quality": stages.jpeg_quality},
        "timings": {**{f"{k}_cpu_s": round(v, 3) for k, v in merger.timings.items()},
                    **{k: round(v, 3) for k, v in times.items()}},
    }
    hub.write_card(out, report, exported=exported, manifest=False)
    _seal(out, report)
    if run_audit:
        t = time.perf_counter()
        audit_report = _audit(out)
        report["timings"]["audit_s"] = round(time.perf_counter() - t, 3)
        if audit_report is not None:
            report["audit"] = {"hard_failures": audit_report.get("hard_failures", []),
                               "warnings": audit_report.get("warnings", [])}
            hub.write_card(out, report, exported=exported, audit=audit_report, manifest=False)
            _seal(out, report)
    return report


def _seal(out: Path, report: dict) -> None:
    """Write build_report.json and the release manifest `SHA256SUMS` (when `monoir_rs.audit` provides it).
    The manifest is written before the audit (which verifies it) and again after the card gains the audit
    summary; it covers build_report.json, whose timings differ between runs."""
    (out / "build_report.json").write_text(json.dumps(report, indent=1, sort_keys=True, default=str) + "\n")
    try:
        from monoir_rs.audit import write_manifest
    except ImportError:
        return
    write_manifest(out)


def _audit(out: Path) -> dict | None:
    """Run `monoir_rs.audit.audit` when it exists; write `audit_report.json`."""
    try:
        from monoir_rs.audit import audit
    except ImportError:
        return None
    result = audit(out)
    (out / "audit_report.json").write_text(json.dumps(result, indent=1, sort_keys=True, default=str) + "\n")
    return result
