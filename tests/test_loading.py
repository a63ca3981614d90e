"""`monoir_rs/loading_script.py`: the GeneratorBasedBuilder over the raw release, used locally."""

from __future__ import annotations

import datasets
import pytest

from monoir_rs.loading_script import MonoIRRS

datasets.disable_progress_bars()


@pytest.mark.parametrize("config", ["all", "rsicd", "clean_test", "vlm_eval"])
def test_builder_matches_the_parquet_config(built_data, tmp_path, config):
    builder = MonoIRRS(config_name=config, data_dir=str(built_data / "raw"), cache_dir=str(tmp_path))
    builder.download_and_prepare()
    local = builder.as_dataset()
    hubbed = datasets.load_dataset(str(built_data), config)
    assert set(local) == set(hubbed)
    for split in local:
        a, b = local[split], hubbed[split]
        assert a.features == b.features
        assert a.remove_columns("image").to_list() == b.remove_columns("image").to_list()
    first = local[next(iter(local))][0]["image"]
    assert first.mode == "L"


def test_builder_errors_name_the_problem(built_data, tmp_path):
    with pytest.raises(Exception, match="monoir instruct"):
        MonoIRRS(config_name="vlm_instruct", data_dir=str(built_data / "raw"),
                 cache_dir=str(tmp_path)).download_and_prepare()
    with pytest.raises(Exception, match="records.jsonl"):
        MonoIRRS(config_name="all", data_dir=str(tmp_path), cache_dir=str(tmp_path / "c")).download_and_prepare()
