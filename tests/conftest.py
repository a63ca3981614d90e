"""Shared, session-scoped fixtures: a small sample pool, a dataset built from it, tiny models.

Everything is generated locally; no test touches the network (HF_HUB_OFFLINE is forced on)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
REALDATA = (ROOT.parent / "shared" / "realdata").resolve()
TEST_SCENES = 240  # small enough to build in seconds, big enough for every class and split


def realdata_or_skip(sub: str) -> Path:
    path = REALDATA / sub
    if not path.exists():
        pytest.skip(f"real data folder {path} is absent (it lives in ../shared/realdata beside the project)")
    return path


@pytest.fixture(scope="session")
def sample_pool(tmp_path_factory) -> Path:
    from monoir_rs.sample import write_pool

    out = tmp_path_factory.mktemp("pool")
    write_pool(out, scenes=TEST_SCENES, seed=0)
    return out


@pytest.fixture(scope="session")
def built_data(sample_pool, tmp_path_factory) -> Path:
    from monoir_rs.build import build

    out = tmp_path_factory.mktemp("data") / "monoir-rs"
    build(pool=sample_pool, out=out, ir_synth="thermal-proxy", rewriter="rules", workers=1, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """tiny_models(kind) -> Path of a tiny model written by `make_tiny` (cached per session)."""
    from harness.models.tiny import make_tiny

    root = tmp_path_factory.mktemp("tiny")
    made: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in made:
            made[kind] = make_tiny(kind, root / kind)
        return made[kind]

    return get


@pytest.fixture(autouse=True)
def one_torch_thread(request):
    """Tests marked `one_thread` (tiny models on a shared 2-core box) run with one torch thread: several times
    faster than oversubscribing the cores."""
    if request.node.get_closest_marker("one_thread") is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_configure(config):
    config.addinivalue_line("markers", "one_thread: run with torch.set_num_threads(1)")
