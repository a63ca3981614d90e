"""Scene accuracy, caption reference metrics (checked against nltk / sacrebleu / rouge_score and hand values) and
the image-clustered bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.metrics.resample import clustered_bootstrap, mean_ci
from harness.metrics.semantic import (
    bleu_stats,
    canonical_class,
    caption_metrics,
    cider_d,
    corpus_bleu4,
    label_table,
    parse_scene,
    rouge_l,
    scene_metrics,
)


@pytest.mark.parametrize("name,canon", [
    ("dense_residential", "dense residential"), ("denseresidential", "dense residential"),
    ("storagetanks", "storage tank"), ("storage_tank", "storage tank"), ("parking_lot", "parking"),
    ("parking", "parking"), ("railwaystation", "railway station"), ("baseball_diamond", "baseball field"),
    ("industrial_area", "industrial"), ("Harbour", "port"), ("harbor", "port"), (None, None), ("", None),
])
def test_canonical_class(name, canon):
    assert canonical_class(name) == canon


TABLE = label_table(["denseresidential", "storagetanks", "airport"])


@pytest.mark.parametrize("answer,pred", [
    # Table 21 answers
    ("Industrial area; circular tank structure visible in grayscale.", "industrial"),
    ("Airport; the long runway-like strip and open surrounding area are more consistent than a road.", "airport"),
    ("Airport; dense buildings and railway tracks are visible, while runways or terminals are absent.", "airport"),
    # longest match at the first position, plurals, synonyms, punctuation/hyphens
    ("Dense residential area with bright roofs.", "dense residential"),
    ("Storage-tanks, seen as bright circles.", "storage tank"),
    ("This looks like a train station next to an airport.", "railway station"),
    ("A DENSERESIDENTIAL scene.", "dense residential"),
    ("Bright blobs on a dark background.", None),
    ("Tall buildings in the center of the city; a commercial area.", "commercial"),   # "center of" = position
    ("A shopping center with parking.", "center"),
    ("", None),
])
def test_parse_scene(answer, pred):
    assert parse_scene(answer, TABLE) == pred


def test_scene_metrics_counts():
    answers = ["Airport; long runway.", "Storage tanks, round.", "bright stuff", "Forest.", "Airport."]
    classes = ["airport", "storagetanks", "airport", "denseresidential", None]
    m = scene_metrics(answers, classes)
    assert m["scene_n"] == 4                        # the unlabeled record is left out
    assert m["scene_accuracy"] == pytest.approx(50.0)
    assert m["scene_unparseable_rate"] == pytest.approx(25.0)


CANDS = ["a bright airport runway with dark planes", "two storage tanks near a road",
         "dense houses in grayscale", "a river crossing dark fields and a bridge"]
REFS = ["a bright airport runway and several dark planes", "three round storage tanks beside a road",
        "dense residential houses shown in grayscale infrared", "a dark river crosses fields near a bridge"]


def test_bleu4_matches_nltk_and_sacrebleu():
    from nltk.translate.bleu_score import corpus_bleu
    from sacrebleu.metrics import BLEU

    ours = corpus_bleu4(CANDS, REFS)
    nltk = 100 * corpus_bleu([[r.split()] for r in REFS], [c.split() for c in CANDS])
    sacre = BLEU(tokenize="none", smooth_method="none", effective_order=False).corpus_score(CANDS, [REFS]).score
    assert ours == pytest.approx(nltk, abs=1e-6)
    assert ours == pytest.approx(sacre, abs=1e-6)
    assert 0 < ours < 100


def test_bleu4_edge_cases():
    assert corpus_bleu4(["a b c d"], ["a b c d"]) == pytest.approx(100.0)
    assert corpus_bleu4(["x y z w"], ["a b c d"]) == 0.0
    assert bleu_stats("", "a b")[0] == 0 and corpus_bleu4([""], ["a b"]) == 0.0


def test_rouge_l_matches_rouge_score_f1():
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    for c, r in zip(CANDS, REFS, strict=False):
        assert rouge_l(c, r, beta=1.0) == pytest.approx(100 * scorer.score(r, c)["rougeL"].fmeasure, abs=1e-9)
    # beta = 1.2 by hand: LCS("a b c", "a c") = 2, P = 2/3, R = 1
    p, r = 2 / 3, 1.0
    assert rouge_l("a b c", "a c") == pytest.approx(100 * (1 + 1.44) * p * r / (r + 1.44 * p))


def test_cider_d_hand_value():
    # Two images, one reference each; unigram..4-gram document frequencies over the two references.
    refs, cands = ["a b", "c d"], ["a b", "a d"]
    s = cider_d(cands, refs)
    # image 1: identical to its reference; 1-grams and the 2-gram all have df=1 -> idf log 2, cosine 1 for n=1,2;
    # n=3,4 have no n-grams -> 0. Score = 10 * (1 + 1) / 4 = 5.
    assert s[0] == pytest.approx(5.0)
    # image 2: "a d" vs "c d": unigram vectors {a: l, d: l} . {c: l, d: l} = l^2 / (2 l^2) = 0.5; no shared 2-gram.
    assert s[1] == pytest.approx(10 * 0.5 / 4)
    # length penalty: a longer identical-prefix candidate is penalised by exp(-d^2 / 72)
    s3 = cider_d(["a b", "c d c d"], ["a b", "c d"])
    assert s3[1] < 5.0
    m = caption_metrics(cands, refs)
    assert m["cider"] == pytest.approx((5.0 + 1.25) / 2) and m["bleu4"] == 0.0


def test_clustered_bootstrap_mean_and_clusters():
    values = np.array([1.0, 1.0, 0.0, 0.0])
    # identical clusters: every resample of 1 cluster has the same mean
    assert mean_ci([1.0, 0.0], ["img", "img"], n_resamples=200) == pytest.approx([50.0 / 100, 50.0 / 100])
    lo, hi = mean_ci(values, ["a", "b", "c", "d"], n_resamples=2000, scale=100)
    assert 0 <= lo < 50 < hi <= 100
    # clustering two-and-two widens nothing below the unclustered interval's lower end of 0 .. 100
    lo2, hi2 = mean_ci(values, ["a", "a", "b", "b"], n_resamples=2000, scale=100)
    assert (lo2, hi2) == (0.0, 100.0)
    assert mean_ci([], [], 10) is None and mean_ci([1.0], ["a"], 0) is None


def test_clustered_bootstrap_ratio_stat_matches_bruteforce():
    rng = np.random.default_rng(1)
    vals = rng.random((30, 2))
    clusters = [i // 3 for i in range(30)]
    ci = clustered_bootstrap(vals, clusters, lambda s: s[:, 0] / s[:, 1], n_resamples=500, seed=3)
    # brute force with the same multinomial draws
    rng2 = np.random.default_rng(3)
    sums = np.array([vals[i * 3:(i + 1) * 3].sum(0) for i in range(10)])
    counts = rng2.multinomial(10, np.full(10, 0.1), size=500)
    stats = [(c @ sums)[0] / (c @ sums)[1] for c in counts]
    assert ci[:, 0] == pytest.approx(np.quantile(stats, [0.025, 0.975]))
    assert not math.isnan(ci[0, 0])


def test_real_rgb_captions_baseline():
    """Human RSICD/RSITMD captions (RGB era): colour words in a quarter or more of them, almost no IR cues, and
    the image's class named often — the contrast the paper's IR-aware rewriting is about."""
    from conftest import realdata_or_skip

    from harness.metrics.lexical import lexical_metrics

    root = realdata_or_skip("rs_captions")
    for src in ("rsicd", "rsitmd"):
        caps = (root / f"{src}_test_caps.txt").read_text().splitlines()
        classes = [f.rsplit("_", 1)[0] for f in (root / f"{src}_test_filename.txt").read_text().splitlines()]
        assert len(caps) == len(classes) > 1000
        lex = lexical_metrics(caps, classes)
        assert 15 < lex["rgb_color_rate"] < 45 and lex["ir_cue_rate"] < 10 and lex["class_hit_rate"] > 40
        sm = scene_metrics(caps, classes)
        assert sm["scene_accuracy"] > 40 and sm["scene_unparseable_rate"] < 40
