"""MonoIR-RS as a `datasets.GeneratorBasedBuilder` over the raw release (`DATA/raw/`).

datasets >= 4 no longer runs dataset scripts (neither from the Hub nor from a local path), so this builder is
not something `load_dataset` executes. The published dataset is the parquet layout next to it
(`load_dataset("monoir-rs", "clean_test")` needs no custom code). The builder is used

* by the build's export (`monoir_rs.hub.export`: `download_and_prepare(..., file_format="parquet")`, which
  embeds the image bytes in the parquet shards), and
* locally, to read a raw release directly::

      from monoir_rs.loading_script import MonoIRRS
      builder = MonoIRRS(config_name="clean_test", data_dir="monoir-rs/raw")
      builder.download_and_prepare()
      ds = builder.as_dataset(split="test")

Raw release layout (written by `monoir build`):
    images/...            IR JPEGs; `image_path` of a record is relative to `raw/`
    records.jsonl         one retained record per line (SPEC §3 columns except `image`)
    splits/{train,validation,test,clean_test,flagged_rgb,vlm_eval}.txt   record ids, one per line
    rejected.jsonl        every rejected item with its reason(s)
    vlm_instruct.jsonl    optional (SPEC `vlm_instruct` columns except `image`), for the `vlm_instruct` config

One BuilderConfig per SPEC config: `all`, one per source, `clean_test` (test minus eq. 8 rgb paths),
`vlm_eval` (the ids in `splits/vlm_eval.txt`), `vlm_instruct` (train conversations).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import datasets

from monoir_rs.schema import CONFIGS, SOURCES, SPLITS, features, instruct_features, is_rgb_path

_DESCRIPTION = "MonoIR-RS: infrared remote-sensing image-text records (synthetic IR, IR-aware captions)."
CONFIG_SPLITS: dict[str, tuple[str, ...]] = {
    "all": SPLITS, **{s: SPLITS for s in SOURCES}, "clean_test": ("test",), "vlm_eval": ("test",),
    "vlm_instruct": ("train",)}


def config_splits(name: str) -> tuple[str, ...]:
    """Splits of a config; any name that is not a special config is a per-source config (train/val/test)."""
    return CONFIG_SPLITS.get(name, SPLITS)


@dataclass
class MonoIRRSConfig(datasets.BuilderConfig):
    """A SPEC config; `data_dir` is the raw release folder (`DATA/raw`). `source` keeps one source's records:
    set for the per-source configs, and passed for a pool's own sources, e.g.
    `MonoIRRS(config_name="all", source="my_uav", data_dir=...)`."""

    source: str | None = None


class MonoIRRS(datasets.GeneratorBasedBuilder):
    """Reads the raw release of a MonoIR-RS build (see module docstring)."""

    BUILDER_CONFIGS = [MonoIRRSConfig(name=name, version=datasets.Version("1.0.0"),
                                      description=f"MonoIR-RS config `{name}`",
                                      source=name if name in SOURCES else None) for name in CONFIGS]
    DEFAULT_CONFIG_NAME = "all"

    def _info(self) -> datasets.DatasetInfo:
        feats = instruct_features() if self.config.name == "vlm_instruct" else features()
        return datasets.DatasetInfo(description=_DESCRIPTION, features=feats)

    def _raw(self) -> Path:
        if not self.config.data_dir:
            raise ValueError("MonoIRRS needs data_dir= the raw release folder (DATA/raw of `monoir build`)")
        raw = Path(self.config.data_dir)
        if not (raw / "records.jsonl").is_file():
            raise FileNotFoundError(f"{raw}/records.jsonl not found: data_dir must be DATA/raw of `monoir build`")
        return raw

    def _split_generators(self, dl_manager):
        raw = self._raw()
        name = self.config.name
        if name == "vlm_instruct" and not (raw / "vlm_instruct.jsonl").is_file():
            raise FileNotFoundError(f"{raw}/vlm_instruct.jsonl not found: run `monoir instruct` first")
        return [datasets.SplitGenerator(name=split, gen_kwargs={"raw": str(raw), "split": split})
                for split in config_splits(name)]

    def _keep(self, rec: dict, split: str, wanted_ids: set[str] | None) -> bool:
        name = self.config.name
        if rec["split"] != split:
            return False
        if self.config.source is not None:
            return rec["source"] == self.config.source
        if name == "clean_test":
            return not is_rgb_path(rec["image_path"])
        if name == "vlm_eval":
            return rec["id"] in wanted_ids
        return True

    def _generate_examples(self, raw: str, split: str):
        raw_dir = Path(raw)
        if self.config.name == "vlm_instruct":
            yield from self._generate_instruct(raw_dir)
            return
        wanted = None
        if self.config.name == "vlm_eval":
            wanted = set((raw_dir / "splits" / "vlm_eval.txt").read_text(encoding="utf-8").split())
        columns = list(features())
        with open(raw_dir / "records.jsonl", encoding="utf-8") as fh:
            for idx, line in enumerate(fh):
                rec = json.loads(line)
                if not self._keep(rec, split, wanted):
                    continue
                out = {k: rec.get(k) for k in columns if k != "image"}
                out["image"] = {"path": None, "bytes": _read_image(raw_dir, rec)}
                yield datasets.builder.Key(0, idx), out

    def _generate_instruct(self, raw_dir: Path):
        columns = list(instruct_features())
        with open(raw_dir / "vlm_instruct.jsonl", encoding="utf-8") as fh:
            for idx, line in enumerate(fh):
                rec = json.loads(line)
                out = {k: rec.get(k) for k in columns if k != "image"}
                out["image"] = {"path": None, "bytes": _read_image(raw_dir, rec)}
                yield datasets.builder.Key(0, idx), out


def _read_image(raw_dir: Path, rec: dict) -> bytes:
    path = raw_dir / rec["image_path"]
    try:
        return path.read_bytes()
    except OSError as err:
        raise FileNotFoundError(f"record {rec.get('id')}: image {path} is missing from the raw release ({err}); "
                                "rebuild with `monoir build`") from err
