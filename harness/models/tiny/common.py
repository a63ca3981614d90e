"""Shared pieces of the tiny offline models: caption-like text and a locally trained BPE tokenizer.

Nothing here touches the network: the corpus is generated from a built-in vocabulary of remote-sensing and
infrared words (deterministic for a seed). Tokenizers are `tokenizers` BPE models whose merges are learned here
(`learn_bpe`) with a fixed tie-break, because the `tokenizers` BpeTrainer numbers equally frequent symbols in
hash-map order, so its vocabulary (and every test number that depends on it) changed from run to run.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence

SCENES = ("airport", "harbor", "farmland", "forest", "river", "lake", "beach", "bridge", "stadium", "parking lot",
          "residential area", "industrial area", "railway station", "desert", "mountain", "meadow", "church",
          "storage tanks", "baseball field", "tennis court", "dense residential", "commercial area", "port",
          "wetland", "highway", "intersection", "overpass", "runway", "golf course", "playground", "school",
          "freeway", "island", "viaduct", "pond", "square", "park", "center", "bare land", "sparse residential")
OBJECTS = ("buildings", "roads", "trees", "vehicles", "cars", "ships", "boats", "planes", "aircraft", "houses",
           "fields", "containers", "tanks", "roofs", "lanes", "docks", "piers", "warehouses", "towers", "courts")
IR_WORDS = ("infrared", "thermal", "grayscale", "bright", "dark", "high contrast", "low contrast", "texture",
            "intensity", "outlines", "smooth", "coarse")
LAYOUTS = ("arranged in rows", "scattered around", "next to", "surrounded by", "along", "in the center of",
           "near", "on both sides of", "beside", "crossing")
COUNTS = ("a", "two", "three", "several", "many", "some", "a few", "dozens of")
TEMPLATES = (
    "an {ir} infrared image of {count} {obj} {layout} the {scene}",
    "a thermal view of a {scene} with {count} {obj}",
    "{count} {obj} appear {ir} in this grayscale image of a {scene}",
    "the {scene} shows {ir} {obj} {layout} {count} {obj2}",
    "aerial infrared image : {count} {ir} {obj} {layout} a {scene} .",
    "this is a {scene} . there are {count} {obj} and {obj2} with {ir} texture",
)


def caption_corpus(n: int = 2000, seed: int = 0) -> list[str]:
    """`n` caption-like sentences in the style of infrared remote-sensing captions (no network, deterministic).

    Used to train the tiny models' tokenizers so they cover the words the harness and tests feed them.
    Also includes every scene word, keyword and the VLM prompt vocabulary at least once via the fixed part.
    """
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        tpl = rng.choice(TEMPLATES)
        out.append(tpl.format(ir=rng.choice(IR_WORDS), count=rng.choice(COUNTS), obj=rng.choice(OBJECTS),
                              obj2=rng.choice(OBJECTS), layout=rng.choice(LAYOUTS), scene=rng.choice(SCENES)))
    out.extend(_fixed_vocabulary())
    return out


def _fixed_vocabulary() -> list[str]:
    """Words that must be in every tiny vocabulary: keyword lists, colours, prompt words, punctuation."""
    lines = [" ".join(SCENES), " ".join(OBJECTS), " ".join(IR_WORDS)]
    try:
        from monoir_rs.keywords import K_IR, K_OVER, K_RGB

        lines += [" ".join(K_IR), " ".join(K_RGB), " ".join(K_OVER)]
    except ImportError:  # pragma: no cover - keywords is part of the skeleton
        pass
    lines += ["Describe this infrared remote-sensing image in one concise sentence.",
              "What is the scene class? Answer with one word. Yes or no? Which objects are visible?",
              "USER: ASSISTANT: system user assistant Question: Answer: <image> 0 1 2 3 4 5 6 7 8 9 , . ; : ! ? ( ) ' \""]
    return lines


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int = 1000,
                        special_tokens: Sequence[str] = ("<unk>", "<pad>", "<s>", "</s>"),
                        lowercase: bool = False, byte_level: bool = True, end_of_word_suffix: str | None = None,
                        unk_token: str | None = "<unk>"):
    """Train a BPE `tokenizers.Tokenizer` on `texts` and return it (wrap it in a transformers fast tokenizer).

    `byte_level=True` (GPT-2 / Qwen / CLIP-like) never produces unknowns; `byte_level=False` uses whitespace
    pre-tokenization with `unk_token` (Llama/T5-like vocabularies). `end_of_word_suffix="</w>"` gives the CLIP
    BPE convention. Special tokens get the first ids, in the given order.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    model_kwargs = {"end_of_word_suffix": end_of_word_suffix} if end_of_word_suffix else {}
    if not byte_level and unk_token:
        model_kwargs["unk_token"] = unk_token
    tok = Tokenizer(models.BPE(**model_kwargs))
    norms = [normalizers.NFC()] + ([normalizers.Lowercase()] if lowercase else [])
    tok.normalizer = normalizers.Sequence(norms)
    if byte_level:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    else:
        if end_of_word_suffix:  # CLIP convention: words split on whitespace/punctuation, suffix marks word ends
            tok.pre_tokenizer = pre_tokenizers.Whitespace()
            tok.decoder = decoders.BPEDecoder(suffix=end_of_word_suffix)
        else:  # SentencePiece convention: "▁" marks a space, decoding restores it
            tok.pre_tokenizer = pre_tokenizers.Metaspace()
            tok.decoder = decoders.Metaspace()
        alphabet = []
    words: Counter = Counter()
    for text in texts:
        for word, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(text)):
            symbols = list(word)
            if end_of_word_suffix:
                symbols[-1] += end_of_word_suffix
            words[tuple(symbols)] += 1
    vocab, merges = learn_bpe(words, vocab_size, special_tokens, alphabet)
    bpe = models.BPE(vocab=vocab, merges=merges, **model_kwargs)
    tok.model = bpe
    tok.add_special_tokens(list(special_tokens))
    return tok


def learn_bpe(words: Counter, vocab_size: int, special_tokens: Sequence[str] = (),
              alphabet: Iterable[str] = ()) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """BPE merges over `words` ({tuple of symbols: count}): repeatedly merge the most frequent adjacent pair,
    ties broken by the pair itself (lexicographic), until `vocab_size`. Ids: special tokens, then the sorted
    base symbols, then merges in order. Deterministic for a given input."""
    vocab = {t: i for i, t in enumerate(special_tokens)}
    for sym in sorted(set(alphabet) | {c for w in words for c in w}):
        vocab.setdefault(sym, len(vocab))
    merges: list[tuple[str, str]] = []
    words = dict(words)
    while len(vocab) < vocab_size:
        pairs: Counter = Counter()
        for w, n in words.items():
            for pair in zip(w, w[1:], strict=False):
                pairs[pair] += n
        if not pairs:
            break
        best = min(pairs, key=lambda pr: (-pairs[pr], pr))
        merged = best[0] + best[1]
        merges.append(best)
        vocab.setdefault(merged, len(vocab))
        words = {_merge(w, best, merged): n for w, n in words.items()}
    return vocab, merges


def _merge(word: tuple[str, ...], pair: tuple[str, str], merged: str) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(merged)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)
