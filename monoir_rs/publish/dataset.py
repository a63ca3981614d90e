"""`monoir publish dataset`: the built Hub layout with its card, the audit report, a licence summary and
SHA256SUMS, uploaded in one commit. The audit (monoir_rs.audit) runs on the staged folder, i.e. on exactly
what would be uploaded, manifest included; a folder with hard failures is refused.

Redistribution (choice, documented in the card): `monoir_rs.sources.info` marks sources whose original captions
may not be redistributed (RSICD, RSITMD, NWPU-Captions: no stated licence, as found by the FusionRS release).
Unless `include_restricted`, their `source_caption` values are set to null in every parquet shard (the column
stays, so all configs keep one schema; SPEC §3 allows null there) and in the raw release's JSONL files. No
source's RGB images are ever in the release (the images are synthesized infrared), so images are kept.
"""

from __future__ import annotations

import json
from pathlib import Path

from monoir_rs.errors import UserError
from monoir_rs.publish import files as F
from monoir_rs.publish.model import HUB_ID
from monoir_rs.schema import SOURCES as SOURCE_NAMES

RESTRICTED_FIELD = "source_caption"
TOP_FILES = ("build_report.json", "preview.png")  # copied when present (the card shows preview.png)


def restricted_sources() -> list[str]:
    """Sources whose original captions may not be redistributed (`redistributable_captions` is False)."""
    from monoir_rs.sources.info import SOURCE_INFO

    return [s for s, meta in SOURCE_INFO.items() if meta.get("redistributable_captions") is False]


def strip_parquet(src: Path, dst: Path, sources: list[str]) -> int:
    """Copy a parquet shard with `source_caption` set to null for rows of `sources`; returns rows changed.
    Shards without the column, or without such rows, are linked unchanged."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    schema = pq.read_schema(src)
    if RESTRICTED_FIELD not in schema.names or "source" not in schema.names or not sources:
        F.link_or_copy(src, dst)
        return 0
    table = pq.read_table(src)
    mask = pc.and_(pc.is_in(table["source"], value_set=pa.array(sources)), pc.is_valid(table[RESTRICTED_FIELD]))
    changed = pc.sum(mask).as_py() or 0
    if not changed:
        F.link_or_copy(src, dst)
        return 0
    col = pc.if_else(mask, pa.scalar(None, table.schema.field(RESTRICTED_FIELD).type), table[RESTRICTED_FIELD])
    table = table.set_column(table.schema.get_field_index(RESTRICTED_FIELD), table.schema.field(RESTRICTED_FIELD), col)
    dst.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, dst)  # the schema metadata (datasets features) travels with `table.schema`
    return int(changed)


def strip_jsonl(src: Path, dst: Path, sources: list[str]) -> int:
    """Copy a JSONL file with `source_caption` nulled on records of `sources`; returns records changed."""
    changed = 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for line in fin:
            if line.strip():
                rec = json.loads(line)
                if rec.get("source") in sources and rec.get(RESTRICTED_FIELD) is not None:
                    rec[RESTRICTED_FIELD] = None
                    changed += 1
                line = json.dumps(rec, ensure_ascii=False) + "\n"
            fout.write(line)
    return changed


def _config_dirs(data: Path) -> list[str]:
    from monoir_rs.hub import read_card_configs

    configs = read_card_configs(data)
    if not configs:
        raise UserError(f"{data} has no README.md with `configs:`; is it a folder written by `monoir build --out`?")
    missing = [c for c in configs if not (data / c).is_dir()]
    if missing:
        raise UserError(f"{data}: configs {', '.join(missing)} are listed in README.md but have no folder; "
                        f"re-run `monoir build` (or `monoir instruct`) to write them")
    return list(configs)


def _licence_text(include_restricted: bool, restricted: list[str], own_sources=()) -> str:
    from monoir_rs.sources.info import SOURCE_INFO

    lines = ["MonoIR-RS release: licence summary", "",
             "The synthesized infrared images and IR-aware captions derive from five public remote-sensing",
             "collections; each record inherits the licence of its source collection (paper §5.5). Research use.", ""]
    for name, meta in SOURCE_INFO.items():
        lines += [f"{meta.get('name', name)} ({name}): {meta.get('license', 'see the source')}",
                  f"  homepage: {meta.get('homepage', '')}",
                  f"  original captions redistributed here: "
                  f"{'no (source_caption is null)' if name in restricted and not include_restricted else 'yes'}", ""]
    for name in own_sources:
        lines += [f"{name}: a source added by the publisher of this copy; its licence is the publisher's to state",
                  "  original captions redistributed here: yes", ""]
    return "\n".join(lines)


def publish_dataset(data, repo_id: str, *, folder=None, dry_run: bool = False, private: bool = False,
                    include_restricted: bool = False, include_raw: bool = False, progress: bool = True) -> dict:
    """Stage the built dataset as a Hub dataset repo and upload it in one commit unless `dry_run`."""
    from monoir_rs.audit import audit, save_report, write_manifest
    from monoir_rs.hub import write_card
    from monoir_rs.publish.commit import describe, preflight, upload

    data = Path(data)
    if not data.is_dir():
        raise UserError(f"--data {data} is not a folder; pass the folder written by `monoir build --out`")
    if not HUB_ID.match(repo_id or ""):
        raise UserError(f"--repo-id {repo_id!r} is not of the form ORG/NAME")
    if not (data / "build_report.json").is_file():
        raise UserError(f"{data} has no build_report.json; is it a folder written by `monoir build --out`?")
    configs = _config_dirs(data)
    if not dry_run:
        preflight()
    restricted = [] if include_restricted else restricted_sources()

    out = F.fresh_folder(Path(folder) if folder else data.parent / f"{data.name}.hub", data)
    from tqdm.auto import tqdm

    stripped = 0
    shards = [shard for cfg in configs for shard in sorted((data / cfg).glob("*.parquet"))]
    for shard in tqdm(shards, desc="staging parquet shards", unit="shard", disable=not progress):
        stripped += strip_parquet(shard, out / shard.relative_to(data), restricted)
    if include_raw:
        if not (data / "raw").is_dir():
            raise UserError(f"--include-raw given but {data / 'raw'} does not exist")
        for p in sorted((data / "raw").rglob("*")):
            if p.is_file():
                dst = out / p.relative_to(data)
                if p.suffix == ".jsonl":
                    stripped += strip_jsonl(p, dst, restricted)
                else:
                    F.link_or_copy(p, dst)
    report = json.loads((data / "build_report.json").read_text(encoding="utf-8"))
    for name in TOP_FILES:
        if (data / name).is_file():
            F.link_or_copy(data / name, out / name)
    if (data / "LICENSE").is_file():
        F.link_or_copy(data / "LICENSE", out / "LICENSE")
    else:
        (out / "LICENSE").write_text(_licence_text(include_restricted, restricted_sources(),
                                                          [s for s in report["counts"] if s not in SOURCE_NAMES]), encoding="utf-8")
    # a copy, not a link: write_card rewrites it in place (and keeps configs it lists, e.g. vlm_instruct)
    (out / "README.md").write_bytes((data / "README.md").read_bytes())
    write_manifest(out)
    result = dict(audit(out, progress=progress))
    result["data_dir"] = repo_id  # the staging path is local detail, not part of the release
    save_report(result, out / "audit_report.json")
    if result.get("hard_failures"):
        raise UserError(f"the audit of the staged release {out} has hard failures: "
                        f"{'; '.join(map(str, result['hard_failures']))}; fix the build (see `monoir audit {data}`) "
                        f"before publishing")
    card = write_card(out, report, audit=result, include_restricted=include_restricted, repo_id=repo_id)
    write_manifest(out)  # again: the card changed
    notes = []
    if restricted:
        notes.append(f"source_caption withheld for {', '.join(restricted)} ({stripped} values set to null); "
                     f"pass --include-restricted to keep them")
    if not include_raw and (data / "raw").is_dir():
        notes.append(f"the raw release ({data / 'raw'}) is not uploaded; pass --include-raw to add it")
    listing = describe(out, repo_id, "dataset", card, notes)
    result = {"folder": out, "card": card, "files": F.repo_files(out), "listing": listing, "commit_url": None,
              "withheld": stripped, "restricted": restricted}
    if not dry_run:
        result["commit_url"] = upload(out, repo_id, repo_type="dataset", private=private,
                                      message="Upload MonoIR-RS with monoir publish")
    return result
