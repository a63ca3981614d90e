"""Tiny CLIP models (`monoir tiny-model --kind clip|open_clip`): small, offline, loadable like real ones."""

from __future__ import annotations

import pytest

from harness.models.tiny.common import caption_corpus, train_bpe_tokenizer
from harness.registry import load_model
from monoir_rs.cli import main as monoir_main
from monoir_rs.errors import UserError


def test_caption_corpus_and_tokenizer():
    corpus = caption_corpus(200, seed=1)
    assert corpus == caption_corpus(200, seed=1) and len(corpus) > 200
    tok = train_bpe_tokenizer(corpus, 300, special_tokens=("<unk>", "<pad>"), byte_level=False)
    enc = tok.encode("an infrared image of a harbor")
    assert tok.token_to_id("<unk>") == 0 and 0 not in enc.ids
    assert tok.decode(enc.ids) == "an infrared image of a harbor"
    byte_tok = train_bpe_tokenizer(corpus, 300)
    assert byte_tok.decode(byte_tok.encode("Zürich: 42 €").ids) == "Zürich: 42 €"  # byte level: nothing unknown


@pytest.mark.parametrize("kind,marker", [("clip", "config.json"), ("open_clip", "open_clip_config.json")])
def test_cli_writes_small_loadable_model(tmp_path, kind, marker):
    out = tmp_path / kind
    assert monoir_main(["tiny-model", "--kind", kind, "--out", str(out)]) == 0
    assert (out / marker).is_file()
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    assert size < 5 * 2**20, f"{kind} tiny model is {size} bytes"
    clip = load_model(str(out))
    assert clip.info.backend == ("transformers" if kind == "clip" else "open_clip")
    toks = clip.tokenize(["thermal image of storage tanks"])
    ids = toks["input_ids"] if isinstance(toks, dict) else toks
    unk = getattr(getattr(clip.tokenizer, "tokenizer", clip.tokenizer), "unk_token_id", None)
    assert unk is None or unk not in ids[0].tolist()


def test_unknown_kind():
    from harness.models.tiny import make_tiny

    with pytest.raises(UserError, match="open_clip"):
        make_tiny("bert", "/nonexistent")


def test_learn_bpe_merges_most_frequent_then_lexicographic():
    from collections import Counter

    from harness.models.tiny.common import learn_bpe

    vocab, merges = learn_bpe(Counter({("a", "b", "c"): 2, ("b", "c"): 2, ("a", "b"): 1}), 6, ["<pad>"])
    assert merges == [("b", "c"), ("a", "bc")] and vocab == {"<pad>": 0, "a": 1, "b": 2, "c": 3, "bc": 4, "abc": 5}
    _, merges = learn_bpe(Counter({("x", "y"): 1, ("u", "v"): 1}), 10)
    assert merges == [("u", "v"), ("x", "y")]  # a tie goes to the smaller pair


def test_tiny_tokenizer_is_the_same_in_every_process(tmp_path):
    import subprocess
    import sys

    code = "import sys; from harness.models.tiny import make_tiny; make_tiny('llava', sys.argv[1])"
    for name in ("a", "b"):
        subprocess.run([sys.executable, "-c", code, str(tmp_path / name)], check=True, capture_output=True)
    assert (tmp_path / "a" / "tokenizer.json").read_bytes() == (tmp_path / "b" / "tokenizer.json").read_bytes()
