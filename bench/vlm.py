"""VLM generation throughput (samples/s, new tokens/s) vs batch size on the tiny models, through our runner
(`harness.models.vlm`) and through lm-eval `hf-multimodal` on the same images and prompt. Prints JSON.

    python bench/vlm.py [--kinds llava,qwen2_5_vl] [--batch-sizes 1,4,8] [--n 16] [--max-new-tokens 32]
                        [--device cpu] [--threads 2] [--no-lm-eval] [--out bench_vlm.json]

Tiny random-weight models measure the harness overhead (processor, padding, trimming, Python per step), not a
real model's arithmetic; on a GPU, pass a Hub ID with --model to time a real backbone the same way.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def images(n: int):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8)).convert("RGB") for _ in range(n)]


def bench_runner(model_dir: str, device: str, batch_sizes, n: int, max_new_tokens: int, prompt: str) -> list[dict]:
    from harness.models.vlm import load_vlm

    vlm = load_vlm(model_dir, device=device)
    ims = images(n)
    vlm.generate(ims[:1], [prompt], 4)  # warm-up
    rows = []
    for bs in batch_sizes:
        tokens, t0 = 0, time.perf_counter()
        for i in range(0, n, bs):
            chunk = ims[i:i + bs]
            vlm.generate(chunk, [prompt] * len(chunk), max_new_tokens)
            tokens += vlm.last_new_tokens
        dt = time.perf_counter() - t0
        rows.append({"batch_size": bs, "seconds": round(dt, 3), "samples_per_s": round(n / dt, 2),
                     "tokens_per_s": round(tokens / dt, 1), "new_tokens": tokens})
    return rows


def bench_lm_eval(model_dir: str, device: str, batch_sizes, n: int, max_new_tokens: int, task: str) -> list[dict]:
    import datasets
    import lm_eval
    from lm_eval.tasks import TaskManager
    from transformers import AutoProcessor

    from monoir_rs.hub import write_config

    tmp = Path(tempfile.mkdtemp()) / "monoir-rs"
    tmp.mkdir()
    (tmp / "README.md").write_text("---\n---\n# bench\n")
    rows_ds = {"id": [f"b{i:04d}" for i in range(n)], "image": images(n), "caption": ["a bright runway"] * n,
               "scene_class": ["airport"] * n}
    feats = datasets.Features({"id": datasets.Value("string"), "image": datasets.Image(),
                               "caption": datasets.Value("string"), "scene_class": datasets.Value("string")})
    write_config(tmp, "vlm_eval", datasets.DatasetDict({"test": datasets.Dataset.from_dict(rows_ds, features=feats)}))
    tm = TaskManager(include_path=str(ROOT / "tasks" / "lm_eval"), include_defaults=False, metadata={"data": str(tmp)})
    tok = AutoProcessor.from_pretrained(model_dir).tokenizer
    from lm_eval.api.registry import get_model

    lm = get_model("hf-multimodal").create_from_arg_string(f"pretrained={model_dir},dtype=float32",
                                                           {"device": device, "batch_size": 1})
    rows = []
    for bs in batch_sizes:
        lm.batch_size_per_gpu = bs  # `batch_size` is a read-only property over it
        t0 = time.perf_counter()
        res = lm_eval.simple_evaluate(model=lm, tasks=[f"monoir_{task}"], task_manager=tm,
                                      apply_chat_template=True, log_samples=True,
                                      gen_kwargs=f"max_gen_toks={max_new_tokens}")
        dt = time.perf_counter() - t0
        outs = [s["filtered_resps"][0] for s in res["samples"][f"monoir_{task}"]]
        tokens = sum(len(tok(o, add_special_tokens=False)["input_ids"]) for o in outs)  # re-tokenised: approximate
        rows.append({"batch_size": bs, "seconds": round(dt, 3), "samples_per_s": round(n / dt, 2),
                     "tokens_per_s_approx": round(tokens / dt, 1), "includes": "task setup (model loaded once)"})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kinds", default="qwen2_5_vl,llava,llava_next,instructblip")
    ap.add_argument("--model", help="time this Hub ID / folder instead of the tiny models")
    ap.add_argument("--batch-sizes", default="1,4,8")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-lm-eval", action="store_true")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args(argv)

    import torch

    from harness.models.tiny import make_tiny
    from harness.registry import get_task

    torch.set_num_threads(args.threads)
    prompt = get_task("caption").prompt
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    report = {"bench": "vlm_generation", "device": args.device, "threads": args.threads, "n_images": args.n,
              "max_new_tokens": args.max_new_tokens, "prompt": prompt, "python": platform.python_version(),
              "torch": torch.__version__, "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        targets = {args.model: args.model} if args.model else {
            k: str(make_tiny(k, Path(tmp) / k)) for k in args.kinds.split(",")}
        for name, path in targets.items():
            entry = {"runner": bench_runner(path, args.device, batch_sizes, args.n, args.max_new_tokens, prompt)}
            if not args.no_lm_eval:
                if name == "instructblip":
                    entry["lm_eval"] = ("skipped: with lm-eval 0.4.x hf-multimodal the '<image>' placeholder becomes an "
                                        "extra image token on top of the query tokens InstructBLIP's processor "
                                        "inserts (RuntimeError 'Number of elements of source < number of ones in "
                                        "mask'), and generate_until cuts the context length off encoder-decoder "
                                        "outputs; use monoir-eval")
                else:
                    entry["lm_eval"] = bench_lm_eval(path, args.device, batch_sizes, args.n, args.max_new_tokens,
                                                     "caption")
            report["models"][name] = entry
            print(f"{name}: done", file=sys.stderr)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
