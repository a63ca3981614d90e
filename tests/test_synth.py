"""IR synthesis plug-ins: gray (BT.601), thermal-proxy (material heuristic), external (command per batch)."""

from __future__ import annotations

import hashlib
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from monoir_rs.errors import UserError
from monoir_rs.synth import SYNTHS, get_synth
from monoir_rs.synth.external import otsu_map, otsu_threshold


def _scene(seed: int = 0, size=(96, 64)) -> Image.Image:
    """A small RGB scene: water (blue), vegetation (green), pavement (gray), red roofs, plus texture noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    arr = np.zeros((h, w, 3), np.float32)
    q = w // 4
    arr[:, :q] = (35, 70, 120)        # water
    arr[:, q:2 * q] = (50, 115, 45)   # vegetation
    arr[:, 2 * q:3 * q] = (135, 135, 130)  # pavement
    arr[:, 3 * q:] = (175, 70, 55)    # red roofs
    arr += rng.normal(0, 6, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def test_registry_and_unknown():
    assert set(SYNTHS) == {"gray", "thermal-proxy", "external"}
    with pytest.raises(UserError, match="unknown IR synthesizer"):
        get_synth("diffusion-magic")


def test_gray_is_bt601_luma():
    img = _scene(1)
    out = get_synth("gray")(img)
    assert out.mode == "L" and out.size == img.size
    rgb = np.asarray(img, np.float64)
    ref = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    assert np.abs(np.asarray(out, np.float64) - ref).max() <= 1.0
    assert "0.299" in get_synth("gray").settings()["formula"]


def test_thermal_proxy_materials_deterministic_and_seeded():
    synth = get_synth("thermal-proxy")
    img = _scene(2)
    a, b = synth(img), synth(img.copy())
    assert a.mode == "L" and a.size == img.size
    assert a.tobytes() == b.tobytes(), "same input must give the same output"
    other = synth(_scene(3))
    assert a.tobytes() != other.tobytes()
    arr = np.asarray(a, np.float64)
    q = img.size[0] // 4
    water, veg, pave, roof = (arr[:, i * q + 4:(i + 1) * q - 4].mean() for i in range(4))
    assert water < veg < pave, (water, veg, pave)
    assert roof > veg and water < 80 and pave > 150
    # noise: flat input regions are not flat in the output, and the noise depends on `seed`
    flat = Image.new("RGB", (64, 64), (135, 135, 130))
    out = np.asarray(synth(flat), np.float64)
    assert 0.5 < out.std() < 10
    assert get_synth("thermal-proxy", seed="1")(flat).tobytes() != synth(flat).tobytes()
    s = synth.settings()
    assert s["name"] == "thermal-proxy" and s["material_intensity"]["water"] < s["material_intensity"]["vegetation"]


def test_run_batch_accepts_paths(tmp_path):
    p = tmp_path / "x.png"
    _scene(4).save(p)
    out = get_synth("gray").run_batch([p, _scene(4)])
    assert out[0].tobytes() == out[1].tobytes()
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(UserError, match="bad.png"):
        get_synth("thermal-proxy").run_batch([bad])


def test_otsu_threshold_matches_brute_force():
    rng = np.random.default_rng(0)
    gray = np.concatenate([rng.normal(60, 10, 500), rng.normal(180, 20, 700)]).clip(0, 255).astype(np.uint8)
    best, best_t = -1.0, None
    for t in range(256):
        lo, hi = gray[gray <= t].astype(float), gray[gray > t].astype(float)
        if len(lo) == 0 or len(hi) == 0:
            continue
        var = len(lo) * len(hi) / len(gray) ** 2 * (lo.mean() - hi.mean()) ** 2
        if var > best:
            best, best_t = var, t
    assert otsu_threshold(gray) == best_t
    seg = np.asarray(otsu_map(_scene(5)))
    assert set(np.unique(seg)) <= {0, 255}


# A stand-in for DiffV2IR's infer.py: same CLI shape (--input DIR --output DIR, reads DIR_seg/ when asked).
SCRIPT = textwrap.dedent("""
    import argparse, os, sys
    from pathlib import Path
    from PIL import Image, ImageOps
    ap = argparse.ArgumentParser()
    ap.add_argument("--input"); ap.add_argument("--output"); ap.add_argument("--mode", default="invert")
    ap.add_argument("--counter", default=None); ap.add_argument("--version", action="store_true")
    a = ap.parse_args()
    if a.version:
        print("fake-v2ir 0.3"); sys.exit(0)
    n = 0
    if a.counter:
        c = Path(a.counter); n = int(c.read_text()) + 1 if c.exists() else 1; c.write_text(str(n))
    if a.mode == "fail-first" and n == 1:
        sys.exit(3)
    if a.mode == "never":
        sys.exit(1)
    for f in sorted(os.listdir(a.input)):
        im = Image.open(os.path.join(a.input, f))
        if a.mode == "seg":
            im = Image.open(os.path.join(a.input + "_seg", f))
        elif a.mode == "skip-odd" and n == 1 and int(Path(f).stem) % 2:
            continue
        out = ImageOps.invert(im.convert("L"))
        out.save(os.path.join(a.output, Path(f).stem + ".png"))
""")


@pytest.fixture()
def script(tmp_path):
    path = tmp_path / "fake_v2ir.py"
    path.write_text(SCRIPT)
    return path


def _cmd(script, extra=""):
    return f"{sys.executable} {script} --input {{in_dir}} --output {{out_dir}} {extra}"


def test_external_runs_command_and_records_settings(script, tmp_path):
    synth = get_synth("external", cmd=_cmd(script), version_cmd=f"{sys.executable} {script} --version",
                      batch_size="2")
    imgs = [_scene(i) for i in range(5)]
    out = synth.run_batch(imgs)
    assert len(out) == 5 and all(o.mode == "L" for o in out)
    for img, o in zip(imgs, out, strict=True):
        ref = 255 - np.asarray(img.convert("L"), np.int16)
        assert np.array_equal(np.asarray(o, np.int16), ref)
    assert synth(imgs[0]).tobytes() == out[0].tobytes()
    s = synth.settings()
    assert s["cmd"] == _cmd(script) and s["version"] == "fake-v2ir 0.3"
    assert s["files_sha256"][str(script)] == hashlib.sha256(script.read_bytes()).hexdigest()
    assert s["executable_sha256"] == hashlib.sha256(open(sys.executable, "rb").read()).hexdigest()
    assert s["diffv2ir_paper_settings"]["steps"] == 20 and s["diffv2ir_paper_settings"]["seed"] == 1234


def test_external_retries_failed_and_missing(script, tmp_path):
    counter = tmp_path / "count.txt"
    synth = get_synth("external", cmd=_cmd(script, f"--mode fail-first --counter {counter}"), retries=2)
    assert len(synth.run_batch([_scene(0), _scene(1)])) == 2
    assert counter.read_text() == "2"  # one failed run, one retry
    counter2 = tmp_path / "count2.txt"
    synth = get_synth("external", cmd=_cmd(script, f"--mode skip-odd --counter {counter2}"), retries=1)
    out = synth.run_batch([_scene(i) for i in range(4)])
    assert len(out) == 4 and counter2.read_text() == "2"  # the missing odd items were re-run alone
    never = get_synth("external", cmd=_cmd(script, "--mode never"), retries=1)
    with pytest.raises(UserError, match="after 2 attempts"):
        never.run_batch([_scene(0)])


def test_external_otsu_seg_and_bad_commands(script):
    synth = get_synth("external", cmd=_cmd(script, "--mode seg"), otsu_seg="true")
    out = np.asarray(synth(_scene(6)))
    assert set(np.unique(out)) <= {0, 255}
    with pytest.raises(UserError, match="in_dir"):
        get_synth("external", cmd="python infer.py")
    with pytest.raises(UserError, match="not found"):
        get_synth("external", cmd="no-such-program-xyz {in_dir} {out_dir}")


def test_external_default_version_is_the_executables(script):
    s = get_synth("external", cmd=_cmd(script)).settings()
    assert s["version"].startswith("Python 3.")


def test_gray_leaves_real_thermal_frames_unchanged():
    """An already-infrared source (README: build it with --ir-synth gray) passes through unchanged."""
    from conftest import realdata_or_skip

    frames = sorted((realdata_or_skip("hit_uav") / "images").iterdir())[:3]
    gray = get_synth("gray")
    for f in frames:
        with Image.open(f) as im:
            thermal = im.convert("L")
        assert np.array_equal(np.asarray(gray(thermal.convert("RGB"))), np.asarray(thermal)), f.name
