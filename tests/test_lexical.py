"""Lexical diagnostics (paper eq. 33–37) on the Table 21 answers and on hand-made edge cases."""

from __future__ import annotations

import pytest

from harness.metrics.lexical import (
    aggregate,
    class_tokens,
    class_words,
    is_generic_failure,
    lexical_metrics,
    sample_hits,
)
from monoir_rs.keywords import KEYWORDS_VERSION

# Table 21 (paper): generated answers, with the scene class of the shown image and our expected indicators
# (ir_cue, rgb_color, overclaim, class_hit, words).
TABLE21 = [
    ("A baseball field shows a bright infield, darker outfield, and low-texture surroundings.",
     "baseballfield", (1, 0, 0, 1, 12)),
    ("Industrial area; circular tank structure visible in grayscale.", "storagetanks", (1, 0, 0, 1, 8)),
    ("High-contrast outlines and grayscale intensity variation reveal parked cars against darker pavement.",
     "parking", (1, 0, 0, 0, 12)),  # "parked" is not the class token "parking"
    ("Airport; dense buildings and railway tracks are visible, while runways or terminals are absent.",
     "railwaystation", (0, 0, 0, 1, 14)),
    ("Tennis courts, paved surfaces, nearby buildings, and dark boundary regions are visible.",
     "tennis_court", (1, 0, 0, 1, 12)),
    ("The bright bridge deck, dark water channel, and repeated linear supports indicate a bridge scene.",
     "bridge", (1, 0, 0, 1, 15)),
    ("Airport; the long runway-like strip and open surrounding area are more consistent than a road.",
     "airport", (0, 0, 0, 1, 15)),
    ("A dark reservoir occupies the center, bordered by bright shoreline and smoother surrounding terrain.",
     "pond", (1, 0, 0, 0, 14)),
]


@pytest.mark.parametrize("answer,cls,expected", TABLE21)
def test_table21_answers(answer, cls, expected):
    h = sample_hits(answer, cls)
    assert (h["ir_cue"], h["rgb_color"], h["overclaim"], h["class_hit"], h["words"]) == expected
    assert h["empty"] == 0


def test_table21_aggregate_matches_hand_count():
    m = lexical_metrics([a for a, _, _ in TABLE21], [c for _, c, _ in TABLE21])
    assert m["ir_cue_rate"] == pytest.approx(100 * 6 / 8)
    assert m["rgb_color_rate"] == 0 and m["overclaim_rate"] == 0
    assert m["class_hit_rate"] == pytest.approx(100 * 6 / 8)
    assert m["avg_words"] == pytest.approx((12 + 8 + 12 + 14 + 12 + 15 + 15 + 14) / 8)
    assert m["keywords_version"] == KEYWORDS_VERSION and m["empty_rate"] == 0


@pytest.mark.parametrize("text,key,hit", [
    ("No red or green colours are visible.", "rgb_color", 1),   # negation still counts (lexical proxy)
    ("The roofs are not hot.", "overclaim", 1),
    ("RED roofs.", "rgb_color", 1),                              # case-insensitive
    ("(blue)", "rgb_color", 1),                                   # punctuation around a word
    ("reddish and bluish tones", "rgb_color", 0),                 # whole words only
    ("a hotel near a shotgun range", "overclaim", 0),
    ("a possible heat-source on the roof", "overclaim", 1),      # hyphenated phrase
    ("bright-dark boundaries", "ir_cue", 1),
    ("rich textures and outlines", "ir_cue", 1),                  # "outlines" is listed, "textures" is not
    ("rich textures", "ir_cue", 0),                               # plurals are listed, never inferred
    ("surface temperatures vary", "overclaim", 1),
    ("an infra-red view", "ir_cue", 0),
    ("Thermal.", "ir_cue", 1),
    ("", "ir_cue", 0),
])
def test_keyword_edge_cases(text, key, hit):
    assert sample_hits(text)[key] == hit


@pytest.mark.parametrize("name,words", [
    ("dense_residential", ["dense", "residential"]),
    ("Dense Residential", ["dense", "residential"]),
    ("denseResidential", ["dense", "residential"]),
    ("denseresidential", ["dense", "residential"]),
    ("storagetanks", ["storage", "tanks"]),
    ("storage-tank", ["storage", "tank"]),
    ("commercial_area", ["commercial"]),
    ("area", ["area"]),
    (None, []),
    ("", []),
])
def test_class_words(name, words):
    assert class_words(name) == words


def test_class_tokens_plurals():
    assert {"tank", "tanks", "storage"} <= class_tokens("storagetanks")
    assert {"church", "churches"} <= class_tokens("church")
    assert {"city", "cities"} <= class_tokens("city")
    assert "area" not in class_tokens("industrial_area")
    assert sample_hits("Two churches beside a road.", "church")["class_hit"] == 1
    assert sample_hits("An open area with roads.", "commercial_area")["class_hit"] == 0


def test_unlabeled_records_count_as_misses():
    m = lexical_metrics(["an airport runway", "an airport runway"], ["airport", None])
    assert m["class_hit_rate"] == 50.0
    assert m["class_hit_rate_labeled"] == 100.0


@pytest.mark.parametrize("text,fail", [
    ("", True), ("   ", True), ("...", True), ("I'm sorry, I cannot help with that.", True),
    ("Unable to determine the scene.", True), ("N/A", True), ("the the the the the the", True),
    ("A dark river crosses bright fields.", False), ("Airport.", False),
])
def test_generic_failure(text, fail):
    assert is_generic_failure(text) is fail


def test_empty_inputs():
    assert aggregate([])["ir_cue_rate"] is None
    with pytest.raises(ValueError):
        lexical_metrics(["a"], [None, None])


def _res(name, **tasks):
    return {"model": {"name": name, "adapter": None},
            "tasks": {t: {"n": 2, "metrics": {"ir_cue_rate": v, "rgb_color_rate": 0.0, "overclaim_rate": v / 10,
                                              "class_hit_rate": 1.0, "avg_words": v / 5, "empty_rate": 0.0}}
                      for t, v in tasks.items()}}


def test_task_and_backbone_tables(tmp_path):
    import json

    from harness.tables import backbone_table, load_results, markdown, task_table, vlm_tables_markdown

    a, b = _res("qwen", caption=100.0, scene=50.0), _res("llava", caption=80.0, retrieval=1.0)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    results = load_results([tmp_path / "a", tmp_path / "b.json"])
    t9 = task_table(results)
    assert [r["task"] for r in t9] == ["Infrared image captioning", "Scene question"]   # paper order, no retrieval
    assert t9[0]["ir_cue_rate"] == 90.0 and t9[0]["backbones"] == 2
    assert t9[1]["ir_cue_rate"] == 50.0 and t9[1]["backbones"] == 1
    t16 = backbone_table(results)
    assert [(r["task"], r["backbone"]) for r in t16] == [
        ("Infrared image captioning", "qwen"), ("Infrared image captioning", "llava"), ("Scene question", "qwen")]
    md = markdown(t9)
    assert "| task | backbones | IR-cue rate ↑ |" in md and "| Infrared image captioning | 2 | 90.00 |" in md
    assert "Table 16" in vlm_tables_markdown(results) and "Table 16" not in vlm_tables_markdown(results[:1])


def test_shift_table():
    from harness.tables import shift_table

    zero, ft = _res("qwen", caption=98.6), _res("qwen", caption=100.0)
    ft["model"]["adapter"] = "runs/qwen-lora"
    (row,) = shift_table([(zero, ft)])
    assert row["backbone"] == "qwen" and row["IR-cue (zero→ft)"] == "98.6 → 100.0"
    assert row["Avg. words (zero→ft)"] == "19.7 → 20.0"


def test_tables_command_retrieval_and_vlm(tmp_path, capsys):
    import json

    from harness.tables import retrieval_table
    from monoir_rs.cli import main

    keys = ("i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10", "mR")
    clip = {"model": {"name": "clip-b32", "adapter": None},
            "tasks": {"retrieval": {"n": 9, "metrics": {k: float(i) for i, k in enumerate(keys)}}}}
    vlm = _res("qwen", caption=100.0)
    paths = []
    for name, res in (("clip", clip), ("qwen", vlm)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(res))
        paths.append(str(tmp_path / name))
    assert retrieval_table([clip, vlm]) == [{"backbone": "clip-b32", "n": 9, **{k: float(i) for i, k in enumerate(keys)}}]
    assert main(["tables", *paths, "--output", str(tmp_path / "out")]) == 0
    md = (tmp_path / "out" / "tables.md").read_text()
    assert "| clip-b32 | 9 | 0.00 | 1.00 |" in md and "Table 9" in md and "Table 16" in md
    assert main(["tables", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
