"""Realism metrics: Fréchet distance vs the Gaussian closed form, histogram metrics on hand cases, the FID
feature path with a random-weight Inception-v3 saved to a file, and the real-IR comparison on HIT-UAV."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import realdata_or_skip
from PIL import Image

from monoir_rs.cli import main as cli_main
from monoir_rs.errors import UserError
from monoir_rs.realism import (
    EPS,
    chi2,
    feature_stats,
    fid_from_features,
    frechet_distance,
    gray_histogram,
    hist_intersection,
    histogram_metrics,
    js,
    kl,
    list_images,
    normalize,
    realism,
)

# ---------------------------------------------------------------- Fréchet distance


def _rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


def test_frechet_closed_form_commuting_covariances():
    d = 6
    rng = np.random.default_rng(0)
    q = _rotation(d, 1)
    l1, l2 = rng.uniform(0.2, 3.0, d), rng.uniform(0.2, 3.0, d)
    s1, s2 = q @ np.diag(l1) @ q.T, q @ np.diag(l2) @ q.T
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    # same eigenbasis: Tr((S1 S2)^1/2) = Σ sqrt(l1 l2), so FD = |Δμ|² + Σ (sqrt(l1) − sqrt(l2))²
    expected = float(np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(l1) - np.sqrt(l2)) ** 2))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-8)


def test_frechet_one_dimensional_and_sampled():
    # 1-D: FD = (m1 − m2)² + (σ1 − σ2)²
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4.0 + 1.0)
    rng = np.random.default_rng(2)
    d = 4
    a = rng.normal(size=(d, d))
    s1 = a @ a.T + np.eye(d)
    x = rng.multivariate_normal(np.zeros(d), s1, size=40000)
    y = rng.multivariate_normal(np.full(d, 0.5), s1, size=40000)
    mx, sx = feature_stats(x)
    my, sy = feature_stats(y)
    assert frechet_distance(mx, sx, my, sy) == pytest.approx(d * 0.25, abs=0.08)  # same Σ: only |Δμ|²


def test_fid_in_feature_span_equals_full_space():
    rng = np.random.default_rng(3)
    d = 64
    x = rng.normal(size=(12, d)) @ rng.normal(size=(d, d)) + 1.0
    y = rng.normal(size=(9, d)) * 2.0
    full = frechet_distance(*feature_stats(x), *feature_stats(y))
    assert fid_from_features(x, y) == pytest.approx(full, rel=1e-6)
    big = rng.normal(size=(80, 8))  # N > D: the plain path
    assert fid_from_features(big, big + 1) == pytest.approx(8.0, rel=1e-6)


# ---------------------------------------------------------------- histogram metrics


def test_histogram_metrics_hand_cases():
    p = np.array([0.5, 0.5])
    assert kl(p, p) == pytest.approx(0.0) and js(p, p) == pytest.approx(0.0)
    assert chi2(p, p) == 0.0 and hist_intersection(p, p) == pytest.approx(1.0)
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])  # disjoint
    assert kl(a, b) == pytest.approx(math.log((1 + EPS) / EPS))
    assert js(a, b) == pytest.approx(math.log(2), rel=1e-9)
    assert chi2(a, b) == pytest.approx(1.0, rel=1e-9) and hist_intersection(a, b) == 0.0
    q = np.array([0.25, 0.75])
    assert kl(p, q) == pytest.approx(0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75))
    m = (p + q) / 2
    assert js(p, q) == pytest.approx(0.5 * sum(p * np.log(p / m)) + 0.5 * sum(q * np.log(q / m)))
    assert chi2(p, q) == pytest.approx(0.5 * (0.0625 / 0.75 + 0.0625 / 1.25))
    assert hist_intersection(p, q) == pytest.approx(0.75)
    assert set(histogram_metrics(p, q)) == {"kl", "js", "chi2", "hi"}


def test_gray_histogram_pools_pixels(tmp_path):
    Image.new("L", (4, 2), 10).save(tmp_path / "a.png")
    Image.new("L", (2, 2), 200).save(tmp_path / "b.png")
    Image.new("RGB", (1, 4), (255, 0, 0)).save(tmp_path / "c.png")  # BT.601: 0.299*255 -> 76
    counts = gray_histogram(list_images(tmp_path))
    assert counts.sum() == 16 and counts[10] == 8 and counts[200] == 4 and counts[76] == 4
    assert normalize(counts)[10] == pytest.approx(0.5)


# ---------------------------------------------------------------- FID path with random Inception weights


def _write_set(folder, seed, n=5, size=(96, 80)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        base = rng.integers(40, 200)
        arr = np.clip(base + rng.normal(0, 30, size[::-1]), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(folder / f"{i:03d}.png")
    return folder


@pytest.fixture(scope="module")
def random_inception(tmp_path_factory):
    import torch
    from torchvision.models import inception_v3

    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = inception_v3(weights=None, aux_logits=True, init_weights=True)
    # give the random network sane BatchNorm statistics (one pass in train mode), so features stay O(1)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, 299, 299))
    path = tmp_path_factory.mktemp("inc") / "inception_random.pt"
    torch.save(model.state_dict(), path)
    return path


def test_fid_with_weights_file(tmp_path, random_inception):
    import torch

    torch.set_num_threads(2)
    real = _write_set(tmp_path / "real", 0)
    syn = _write_set(tmp_path / "syn", 1)
    out = tmp_path / "r.json"
    rc = cli_main(["realism", "--real", str(real), "--synthetic", str(syn), "--baseline", str(real),
                   "--inception-weights", str(random_inception), "--json", str(out), "--no-progress",
                   "--batch-size", "4", "--plot", str(tmp_path / "hist.png")])
    assert rc == 0
    res = json.loads(out.read_text())
    assert (tmp_path / "hist.png").stat().st_size > 0
    assert res["baseline"]["histogram"] == res["real"]["histogram"] and sum(res["synthetic"]["histogram"]) == \
        pytest.approx(1.0)
    for key in ("fid", "kl", "js", "chi2", "hi"):
        assert key in res["synthetic"] and key in res["baseline"]
    assert abs(res["baseline"]["fid"]) < 1e-6 * res["synthetic"]["fid"]  # the baseline here *is* the real set
    assert res["baseline"]["kl"] == pytest.approx(0.0, abs=1e-12) and res["synthetic"]["fid"] > 0
    assert res["settings"]["eps"] == EPS and res["settings"]["bins"] == 256


def test_missing_weights_is_a_clear_error(tmp_path):
    real = _write_set(tmp_path / "real", 0, n=1)
    with pytest.raises(UserError, match="--no-fid"):
        realism(real, real, inception_weights=tmp_path / "nope.pth")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no images"):
        realism(real, tmp_path / "empty", fid=False)


# ---------------------------------------------------------------- real thermal vs renders of the sample pool


def test_real_hit_uav_vs_gray_and_thermal_proxy(sample_pool, tmp_path, capsys):
    real = realdata_or_skip("hit_uav") / "images"
    from monoir_rs.synth import get_synth

    rgb = sorted(p for p in sample_pool.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif"))
    rgb = rgb[::2][:120]
    assert len(rgb) >= 60
    gray, proxy = get_synth("gray"), get_synth("thermal-proxy")
    for d in ("gray", "proxy"):
        (tmp_path / d).mkdir()
    for i, f in enumerate(rgb):
        im = Image.open(f).convert("RGB")
        gray(im).save(tmp_path / "gray" / f"{i:04d}.png")
        proxy(im).save(tmp_path / "proxy" / f"{i:04d}.png")
    res = realism(real, tmp_path / "proxy", tmp_path / "gray", fid=False)
    syn, base = res["synthetic"], res["baseline"]
    print(json.dumps({"thermal-proxy": syn, "gray": base}, indent=1))
    # the proxy (AGC-stretched material map) is closer to real thermal than plain luma on the histogram metrics
    assert syn["js"] < base["js"] and syn["chi2"] < base["chi2"] and syn["hi"] > base["hi"]
