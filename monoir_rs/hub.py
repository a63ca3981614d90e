"""The Hub layout of a built dataset: parquet export, README YAML `configs:`, and loading.

Export route (checked against the installed datasets 5.x): the `MonoIRRS` GeneratorBasedBuilder of
`monoir_rs/loading_script.py` reads the raw release and `download_and_prepare(out, file_format="parquet")`
writes it; for parquet the builder's writer embeds image bytes (`embed_local_files=True`; the generator also
yields the bytes itself), and splits shard at `max_shard_size`. The shards are then renamed to
`{config}/{split}-NNNNN-of-MMMMM.parquet` and listed in README.md's YAML (`configs:` with `data_files` per
split, `default: true` on `all`, and `dataset_info` with features and split sizes), so plain
`datasets.load_dataset(DATA, config)` reads them with no custom code.

Memory: the export streams `raw/records.jsonl`; the parquet writer holds the page index of the open shard,
so its memory is bounded by `max_shard_size`, not by the number of records.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

from monoir_rs.errors import UserError
from monoir_rs.schema import CONFIGS, SOURCES, ordered_sources

DEFAULT_REPO_DIR = "monoir-rs"
REPO_ENV = "MONOIR_RS_REPO"
MAX_SHARD_SIZE = "500MB"


def build_configs(sources=SOURCES) -> tuple[str, ...]:
    """The configs a build exports from the raw release: `all`, one per source (the release's five and a pool's
    own), clean_test, vlm_eval (`vlm_instruct` is added later by `monoir instruct`)."""
    return ("all", *ordered_sources(sources), "clean_test", "vlm_eval")


@contextmanager
def _progress(enabled: bool):
    """Turn datasets' progress bars off inside the block unless `enabled`."""
    from datasets.utils import logging as dlog

    was_enabled = dlog.is_progress_bar_enabled()
    if not enabled and was_enabled:
        dlog.disable_progress_bar()
    try:
        yield
    finally:
        if not enabled and was_enabled:
            dlog.enable_progress_bar()


def shard_name(split: str, index: int, total: int) -> str:
    return f"{split}-{index:05d}-of-{total:05d}.parquet"


def _move_shards(tmp: Path, dataset_name: str, split: str, dest: Path) -> list[str]:
    """Rename the builder's `{name}-{split}[-NNNNN-of-MMMMM].parquet` files to `dest/{split}-NNNNN-of-MMMMM`."""
    pattern = re.compile(rf"^{re.escape(dataset_name)}-{re.escape(split)}(-\d{{5}}-of-\d{{5}})?\.parquet$")
    files = sorted(p for p in tmp.iterdir() if pattern.match(p.name))
    names = []
    for i, src in enumerate(files):
        names.append(shard_name(split, i, len(files)))
        os.replace(src, dest / names[-1])
    return names


def export_config(data_dir: Path, name: str, max_shard_size: str | int = MAX_SHARD_SIZE,
                  progress: bool = True) -> dict:
    """Write `{data_dir}/{name}/*.parquet` from `{data_dir}/raw` with the loading-script builder.

    Returns {split: {"num_examples", "num_bytes", "files"}} for the non-empty splits (empty ones get no file)."""
    from monoir_rs.loading_script import MonoIRRS, config_splits

    data_dir = Path(data_dir)
    work = data_dir / ".work" / "export"
    tmp = work / name
    shutil.rmtree(tmp, ignore_errors=True)
    with _progress(progress):
        # a pool's own source has no BuilderConfig of its own: it is `all` restricted to that source
        kwargs = {"config_name": name} if name in CONFIGS else {"config_name": "all", "source": name}
        builder = MonoIRRS(**kwargs, data_dir=str(data_dir / "raw"), cache_dir=str(work / "cache"))
        builder.download_and_prepare(output_dir=str(tmp), file_format="parquet", max_shard_size=max_shard_size)
    dest = data_dir / name
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    splits = {}
    for split in config_splits(name):
        info = builder.info.splits[split]
        if not info.num_examples:
            continue
        files = _move_shards(tmp, builder.dataset_name, split, dest)
        splits[split] = {"num_examples": int(info.num_examples), "num_bytes": int(info.num_bytes),
                         "files": [f"{name}/{f}" for f in files]}
    shutil.rmtree(tmp, ignore_errors=True)
    if not splits:
        dest.rmdir()
    return splits


def export(data_dir, configs=None, max_shard_size: str | int = MAX_SHARD_SIZE,
           progress: bool = True) -> dict:
    """Export `configs` (default: the release's, `build_configs()`); {config: {split: {...}}} (configs with no
    records are left out)."""
    from tqdm.auto import tqdm

    out = {}
    for name in tqdm(configs or build_configs(), desc="build: export parquet configs", unit="config", disable=not progress):
        splits = export_config(Path(data_dir), name, max_shard_size=max_shard_size, progress=False)
        if splits:
            out[name] = splits
    shutil.rmtree(Path(data_dir) / ".work" / "export", ignore_errors=True)
    return out


# --- README YAML --------------------------------------------------------------------------------------------

def _config_order(name: str) -> float:
    """Release order; a pool's own sources go after the release's five."""
    return CONFIGS.index(name) if name in CONFIGS else CONFIGS.index(SOURCES[-1]) + 0.5


def card_metadata(card_data, exported: dict, features_by_config: dict | None = None) -> None:
    """Set `configs:` and `dataset_info:` of a huggingface_hub `DatasetCardData` for the exported configs
    (merged with what it already lists, in SPEC order), through datasets' own YAML writers."""
    import datasets
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs

    from monoir_rs.schema import features

    configs = MetadataConfigs.from_dataset_card_data(card_data)
    infos = DatasetInfosDict.from_dataset_card_data(card_data)
    for name, splits in exported.items():
        configs[name] = {"data_files": [{"split": s, "path": f"{name}/{s}-*.parquet"} for s in splits]}
        if name == "all":
            configs[name]["default"] = True
        feats = (features_by_config or {}).get(name) or features()
        split_dict = datasets.SplitDict()
        for s, meta in splits.items():
            split_dict.add(datasets.SplitInfo(name=s, num_bytes=meta.get("num_bytes", 0),
                                              num_examples=meta["num_examples"]))
        infos[name] = DatasetInfo(features=feats, splits=split_dict,
                                  dataset_size=sum(m.get("num_bytes", 0) for m in splits.values()))
    card_data.pop("configs", None)
    card_data.pop("dataset_info", None)
    MetadataConfigs(sorted(configs.items(), key=lambda kv: _config_order(kv[0]))).to_dataset_card_data(card_data)
    ordered = DatasetInfosDict(sorted(infos.items(), key=lambda kv: _config_order(kv[0])))
    ordered.to_dataset_card_data(card_data)


def metadata_yaml(exported: dict, base: dict | None = None) -> tuple[str, dict]:
    """(YAML text without `---` fences, {config: {split: num_examples}}) of the `configs:` / `dataset_info:`
    in `base` plus those of `exported`."""
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    card_data = DatasetCardData(**{k: v for k, v in (base or {}).items() if k in ("configs", "dataset_info")})
    card_metadata(card_data, exported)
    counts = {name: {s: info.splits[s].num_examples for s in info.splits}
              for name, info in DatasetInfosDict.from_dataset_card_data(card_data).items()}
    return card_data.to_yaml(), counts


def read_card_configs(data_dir) -> dict:
    """{config: [splits]} listed in `DATA/README.md` YAML `configs:` ({} when there is no card)."""
    from huggingface_hub import DatasetCard

    readme = Path(data_dir) / "README.md"
    if not readme.is_file():
        return {}
    data = DatasetCard.load(readme).data.to_dict()
    out = {}
    for cfg in data.get("configs") or []:
        files = cfg.get("data_files") or []
        out[cfg["config_name"]] = [f["split"] for f in files if isinstance(f, dict)] or ["train"]
    return out


def write_config(data_dir, name: str, dataset_dict, max_shard_size: str | int = MAX_SHARD_SIZE) -> dict:
    """Write `{name}/{split}-NNNNN-of-MMMMM.parquet` from a `datasets.DatasetDict` (images embedded) and add
    the config to README.md's YAML (`configs:` and `dataset_info`). Returns {split: {...}}."""
    from datasets.utils.py_utils import convert_file_size_to_int
    from huggingface_hub import DatasetCard

    data_dir = Path(data_dir)
    readme = data_dir / "README.md"
    if not readme.is_file():
        raise UserError(f"{data_dir} has no README.md: it is not a built MonoIR-RS dataset; run `monoir build` first")
    dest = data_dir / name
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    limit = convert_file_size_to_int(max_shard_size)
    splits = {}
    for split, ds in dataset_dict.items():
        if len(ds) == 0:
            continue
        n_shards = max(1, -(-int(ds.data.nbytes) // limit))
        files = []
        for i in range(n_shards):
            shard = ds.shard(num_shards=n_shards, index=i, contiguous=True)
            files.append(f"{name}/{shard_name(split, i, n_shards)}")
            shard.to_parquet(str(data_dir / files[-1]))  # to_parquet embeds image bytes
        splits[split] = {"num_examples": len(ds), "num_bytes": int(ds.data.nbytes), "files": files}
    card = DatasetCard.load(readme)
    card_metadata(card.data, {name: splits}, {name: next(iter(dataset_dict.values())).features})
    card.save(readme)
    _refresh_manifest(data_dir)
    return splits


def _refresh_manifest(data_dir: Path) -> None:
    """Rewrite `SHA256SUMS` after files changed, when the folder has one (the audit verifies it)."""
    if (data_dir / "SHA256SUMS").is_file():
        from monoir_rs.audit import write_manifest

        write_manifest(data_dir)


# --- loading -------------------------------------------------------------------------------------------------

def resolve_data(data: str | os.PathLike | None) -> tuple[str, bool]:
    """(path or repo id, is_local): `data`, else a local `monoir-rs` folder, else `$MONOIR_RS_REPO`."""
    if data is not None:
        if Path(data).is_dir():
            return str(data), True
        if str(data).startswith((".", "/", "~")) or os.path.exists(data):
            raise UserError(f"dataset folder {data} does not exist (or is not a folder); build it with "
                            f"`monoir build --pool POOL --out {data}`")
        return str(data), False
    if Path(DEFAULT_REPO_DIR).is_dir():
        return DEFAULT_REPO_DIR, True
    repo = os.environ.get(REPO_ENV)
    if repo:
        return repo, False
    raise UserError(f"no dataset given: pass a built folder (`monoir build --out {DEFAULT_REPO_DIR}`) or set "
                    f"{REPO_ENV}=OWNER/NAME to load it from the Hugging Face Hub")


def load(config: str = "all", split: str | None = None, data: str | os.PathLike | None = None, **kwargs):
    """Load a MonoIR-RS config with plain `datasets.load_dataset` from a local build or a Hub repo."""
    import datasets

    where, local = resolve_data(data)
    if local:
        known = read_card_configs(where)
        if not known:
            raise UserError(f"{where} has no README.md with `configs:`; build it with `monoir build --out {where}`")
        if config not in known:
            hint = " (run `monoir instruct` to add it)" if config == "vlm_instruct" else ""
            raise UserError(f"config {config!r} is not in {where}{hint}; available: {', '.join(known)}")
        if split is not None and split not in known[config]:
            raise UserError(f"config {config!r} of {where} has no split {split!r}; it has {', '.join(known[config])}")
        return datasets.load_dataset(where, config, split=split, **kwargs)
    try:
        return datasets.load_dataset(where, config, split=split, **kwargs)
    except ValueError as err:
        if "BuilderConfig" in str(err) or "config" in str(err).lower():
            raise UserError(f"config {config!r} is not in Hub dataset {where}: {err}") from err
        raise
    except (ConnectionError, OSError) as err:
        raise UserError(f"cannot load {where!r} from the Hugging Face Hub ({type(err).__name__}: {err}); check the "
                        f"network and the repo id in {REPO_ENV}, or pass a local folder built by `monoir build`"
                        ) from err
    except Exception as err:  # huggingface_hub / datasets raise many types for an unreachable or missing repo
        if type(err).__name__ in ("DatasetNotFoundError", "OfflineModeIsEnabled", "LocalEntryNotFoundError",
                                  "RepositoryNotFoundError", "HfHubHTTPError", "ConnectError", "ConnectTimeout"):
            raise UserError(f"cannot load {where!r} from the Hugging Face Hub ({type(err).__name__}: {err}); check "
                            f"the network and {REPO_ENV}, or pass a local folder built by `monoir build`") from err
        raise


# --- dataset card --------------------------------------------------------------------------------------------

def template_path() -> Path:
    path = Path(__file__).resolve().parents[1] / "model_cards" / "dataset_card.md.j2"
    if not path.is_file():
        raise UserError(f"dataset card template {path} is missing; reinstall monoir-rs from its source tree")
    return path


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < limit:
            return name
    return "n>10M"


def _source_rows(report: dict) -> tuple[list[dict], list[str], list[str]]:
    """(table rows, restricted source names, bibtex citations) from `monoir_rs.sources.info`; a pool's own
    sources (not in that table) get "see the source" rows."""
    from monoir_rs.sources.info import SOURCE_INFO

    rows, restricted, cites = [], [], []
    for name in ordered_sources([*SOURCES, *report["counts"]]):
        meta = SOURCE_INFO.get(name, {})
        allowed = meta.get("redistributable_captions")
        if allowed is False:
            restricted.append(name)
        label = f"{meta['name']} (`{name}`)" if meta.get("name") else name
        rows.append({"name": label, "records": sum(report["counts"].get(name, {}).values()),
                     "license": str(meta.get("license") or "see the source").replace("|", "/"),
                     "homepage": meta.get("homepage") or "",
                     "redistribution": {True: "captions yes", False: "captions restricted",
                                        None: "see licence"}.get(allowed, str(allowed))})
        if meta.get("citation"):
            cites.append(str(meta["citation"]).strip())
    return rows, restricted, cites


def _audit_summary(audit: dict) -> list[tuple[str, str]]:
    out = []
    for key, value in audit.items():
        if key == "hard_failures":
            continue
        if isinstance(value, (int, float, bool)):  # strings (e.g. the data_dir path) are left out
            out.append((key, str(value)))
        elif isinstance(value, dict) and isinstance(value.get("count"), (int, float)):
            out.append((key, str(value["count"])))
        elif isinstance(value, list):
            out.append((key, str(len(value))))
    return out


def render_card(report: dict, exported: dict | None = None, audit: dict | None = None,
                include_restricted: bool = True, repo_id: str = DEFAULT_REPO_DIR, base_yaml: dict | None = None) -> str:
    """The dataset card (README.md) for a build report; `include_restricted=False` describes a release where
    the text of sources with redistribution limits is withheld (used by `monoir publish dataset`)."""
    import jinja2

    from monoir_rs.keywords import KEYWORDS_VERSION

    exported = exported if exported is not None else report["configs"]
    rows, restricted, cites = _source_rows(report)
    yaml_text, counts = metadata_yaml(exported, base_yaml)
    config_rows = [{"name": c, **{s: counts[c].get(s, "–") for s in ("train", "validation", "test")}}
                   for c in sorted(counts, key=_config_order)]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_path().parent)), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["tojson"] = lambda value: json.dumps(value, sort_keys=True, default=str)
    return env.get_template(template_path().name).render(
        size_category=_size_category(report["n_records"]), metadata_yaml=yaml_text,
        total_records=report["n_records"], split_totals=[f"{n} {s}" for s, n in report["totals"].items()],
        repo_id=repo_id, sources=rows, restricted=restricted, include_restricted=include_restricted,
        stages=report["stages"], keywords_version=KEYWORDS_VERSION, n_candidates=report["n_candidates"],
        n_rejected=report["n_rejected"], rejections=[(k, v["count"]) for k, v in report["rejections"].items()],
        config_rows=config_rows, source_rows=[{"name": s, **report["counts"][s]} for s in ordered_sources(report["counts"])],
        clean=report["clean_test"], vlm_eval=report["vlm_eval"],
        audit={"hard_failures": audit.get("hard_failures", []), "summary": _audit_summary(audit)} if audit else None,
        source_citations=cites, preview=report.get("preview"))


def write_card(data_dir, report: dict, exported: dict | None = None, audit: dict | None = None,
               include_restricted: bool = True, repo_id: str = DEFAULT_REPO_DIR, manifest: bool = True) -> Path:
    """Render README.md, keeping configs that are already listed (e.g. `vlm_instruct`) in its YAML; with
    `manifest`, refresh an existing SHA256SUMS."""
    readme = Path(data_dir) / "README.md"
    base = None
    if readme.is_file():
        from huggingface_hub import DatasetCard

        old = DatasetCard.load(readme).data.to_dict()
        base = {k: old[k] for k in ("configs", "dataset_info") if k in old}
        keep = {c["config_name"] for c in old.get("configs") or []} - set(exported or report["configs"])
        base = _only_configs(base, keep)
    readme.write_text(render_card(report, exported, audit, include_restricted, repo_id, base), encoding="utf-8")
    if manifest:
        _refresh_manifest(Path(data_dir))
    return readme


def _only_configs(base: dict, keep: set[str]) -> dict:
    """`base` YAML restricted to the configs in `keep` (others are rewritten from the new export)."""
    out = {"configs": [c for c in base.get("configs") or [] if c["config_name"] in keep]}
    infos = base.get("dataset_info")
    infos = [infos] if isinstance(infos, dict) else (infos or [])
    out["dataset_info"] = [i for i in infos if i.get("config_name", "default") in keep]
    return {k: v for k, v in out.items() if v}
