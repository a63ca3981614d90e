"""Figures: each plot is a real PNG whose content follows its input (and None when there is nothing to draw)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from monoir_rs import plots


def _pixels(path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def test_nothing_to_draw_gives_none(tmp_path):
    assert plots.results_figure({"tasks": {}}, tmp_path / "a.png") is None
    assert plots.comparison_figure({"tasks": {}}, tmp_path / "b.png") is None
    assert plots.training_curves({"history": [{"val_mR": None}]}, tmp_path / "c.png") is None
    assert plots.contact_sheet([], tmp_path / "d.png") is None
    assert not list(tmp_path.iterdir())


def test_histograms_follow_their_data(tmp_path):
    flat = np.full(256, 1 / 256)
    peak = np.zeros(256)
    peak[128] = 1.0
    a = _pixels(plots.histograms({"flat": flat}, tmp_path / "a.png"))
    b = _pixels(plots.histograms({"flat": flat}, tmp_path / "b.png"))
    c = _pixels(plots.histograms({"flat": flat, "peak": peak}, tmp_path / "c.png"))
    assert np.array_equal(a, b)  # deterministic
    assert a.shape == c.shape and np.abs(a - c).sum() > 0  # a second curve changes the picture


def test_results_and_comparison_figures(tmp_path):
    keys = ("i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10")
    res = {"model": {"name": "m"}, "tasks": {
        "retrieval": {"metrics": {**{k: 10.0 for k in keys}, "mR": 10.0},
                      "per_source": {"rsicd": {"metrics": {**{k: 20.0 for k in keys}, "mR": 20.0}}}},
        "caption": {"metrics": {k: 50.0 for k in plots.DIAGNOSTICS}}}}
    two_panels = _pixels(plots.results_figure(res, tmp_path / "r.png"))
    one_panel = _pixels(plots.results_figure({"tasks": {"caption": res["tasks"]["caption"]}}, tmp_path / "s.png"))
    assert two_panels.shape[1] > 1.5 * one_panel.shape[1]
    cmp = {"a": "zs", "b": "ft", "tasks": {"retrieval": {"metrics": {
        "mR": {"a": 1.0, "b": 3.0, "delta": 2.0}, "i2t_r1": {"a": 2.0, "b": 1.0, "delta": -1.0}}}}}

    def colours(lower_is_better=frozenset()):
        img = _pixels(plots.comparison_figure(cmp, tmp_path / "c.png", lower_is_better))
        return (img == (214, 39, 40)).all(-1).sum(), (img == (44, 160, 44)).all(-1).sum()

    red, green = colours()
    assert red > 0 and green > red  # one loss (red), one bigger gain (green)
    red, green = colours({"i2t_r1", "mR"})  # if both were lower-is-better: the gain is bad, the drop good
    assert green > 0 and red > green


def test_training_curves_both_recipes(tmp_path):
    clip = {"history": [{"epoch": 1, "val_mR": 3.0}, {"epoch": 2, "val_mR": 5.0}]}
    vlm = {"log_history": [{"step": 10, "loss": 2.0}, {"step": 20, "loss": 1.0}, {"step": 20, "train_runtime": 1}]}
    assert plots.training_curves(clip, tmp_path / "c.png").is_file()
    assert plots.training_curves(vlm, tmp_path / "v.png").is_file()


def test_build_preview_is_in_the_card(built_data):
    import json

    report = json.loads((built_data / "build_report.json").read_text())
    assert report["preview"] == "preview.png"
    sheet = _pixels(built_data / "preview.png")
    assert sheet.shape[0] > 400 and sheet.std() > 10
    assert "](preview.png)" in (built_data / "README.md").read_text()


@pytest.mark.parametrize("columns", [2, 5])
def test_contact_sheet_grid(tmp_path, columns):
    rows = [{"image": Image.new("L", (32, 32), 40 * i), "caption": f"scene {i}", "title": str(i)} for i in range(6)]
    img = _pixels(plots.contact_sheet(rows, tmp_path / "g.png", columns=columns))
    assert (img.shape[1] > img.shape[0]) == (columns == 5)  # 5 x 2 is wide, 2 x 3 is tall
