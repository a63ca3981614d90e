"""IR-CLIP contrastive fine-tuning (paper §4.3, Appendix A.4 eq. 18–22, Algorithm 2, §C.3, Table 18).

The text tower is frozen, so every caption is encoded once (eq. 18 `v_i`) and the embeddings are reused for all
steps; the visual tower, the visual projection and the logit scale gamma (alpha = exp(gamma), clamped at
ln 100) are trained with the symmetric loss of eq. 20–22 over in-batch negatives. AdamW (weight decay 0.1, none
on norms / biases / logit scale), gradient clipping 1.0, 20 linear warm-up steps then cosine decay, fp16 AMP on
CUDA. Validation mR (eq. 25) after every epoch (and every `eval_steps`); the best checkpoint (eq. 26) is saved in
the model's own loadable format in OUT, so `monoir-eval --model OUT` works.

Resume: OUT/checkpoint-last holds the trainable weights (safetensors), the optimiser state (`torch.save`, read
back with `weights_only=True`) and the step/scheduler/best-so-far state (JSON). Batches are a pure function of
(seed, epoch), so a resumed run replays exactly the batches an uninterrupted run would see and reaches the same
final weights (bit-identical in fp32 on CPU).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from monoir_rs.errors import UserError
from monoir_rs.train import common
from monoir_rs.train.recipes import clip_recipe

LN_100 = math.log(100.0)
CKPT = "checkpoint-last"


@dataclass
class ClipTrainArgs:
    model: str
    data: str
    output: str
    epochs: int | None = None          # None: Table 18 default for the backbone
    batch_size: int | None = None
    lr: float | None = None
    weight_decay: float | None = None
    warmup_steps: int | None = None
    captions: str = "ir"               # "ir" (IR-aware caption) | "source" (Table 8 ablation)
    eval_steps: int | None = None      # also validate every N steps (besides each epoch end)
    save_steps: int | None = None      # checkpoint-last every N steps (default: with eval / epoch end)
    seed: int = 0
    device: str | None = None
    precision: str = "auto"            # auto (fp16 AMP on CUDA, fp32 on CPU) | fp32 | bf16 | fp16
    num_workers: int = 0
    resume: bool = True                # continue from OUT/checkpoint-last when present
    stop_after_steps: int | None = None  # leave after N optimiser steps in this call (a re-run resumes)
    limit: int | None = None           # use only the first N train records (smoke runs)
    stage: int = 1
    progress: bool = True


# ---------------------------------------------------------------- model access (transformers / open_clip)

def freeze_text_tower(net, backend: str) -> None:
    """Freeze the text side: transformers text model + text projection; open_clip `lock_text_tower`."""
    if backend == "open_clip":
        net.lock_text_tower(unlocked_layers=0, freeze_layer_norm=True)
        return
    for mod in (net.text_model, net.text_projection):
        for p in mod.parameters():
            p.requires_grad_(False)


def image_features(net, backend: str, pixels):
    """f_theta(I): unnormalised image embedding with gradients (eq. 18 numerator)."""
    if backend == "open_clip":
        return net.encode_image(pixels)
    return net.visual_projection(net.vision_model(pixel_values=pixels).pooler_output)


def logit_scale_param(net):
    return net.logit_scale


def clip_loss(u, v, logit_scale):
    """Symmetric contrastive loss, eq. 19–22; u, v are L2-normalised (B, D)."""
    import torch
    import torch.nn.functional as F

    logits = logit_scale.exp() * u @ v.t()                    # z_ij = alpha u_i^T v_j
    target = torch.arange(u.shape[0], device=u.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


# ---------------------------------------------------------------- data

PIXEL_CACHE_BYTES = 1 << 30


class _Images:
    """Map-style dataset: index -> (preprocessed image, index).

    There is no augmentation, so with `cache=True` (in-process loading) each image is preprocessed once and
    kept, as long as the whole split fits in `PIXEL_CACHE_BYTES`."""

    def __init__(self, ds, preprocess, cache: bool = False):
        self.ds = ds.select_columns(["image"])
        self.preprocess = preprocess
        self.cache: dict[int, object] | None = {} if cache else None

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        i = int(i)
        if self.cache is not None and i in self.cache:
            return self.cache[i], i
        x = self.preprocess(self.ds[i]["image"].convert("RGB"))
        if self.cache is not None:
            if not self.cache and x.numel() * x.element_size() * len(self) > PIXEL_CACHE_BYTES:
                self.cache = None
            else:
                self.cache[i] = x
        return x, i


def _collate(items):
    import torch

    return torch.stack([x for x, _ in items]), torch.tensor([i for _, i in items])


def _caption_column(ds, which: str, split: str) -> list[str]:
    col = {"ir": "caption", "source": "source_caption"}.get(which)
    if col is None:
        raise UserError(f"--captions {which!r}: use `ir` (IR-aware captions) or `source` (original captions)")
    texts = ds[col]
    missing = [ds[i]["id"] for i, t in enumerate(texts) if not (t or "").strip()]
    if missing:
        raise UserError(f"{split}: {len(missing)} records have no {col} (e.g. {missing[:3]}); "
                        + ("the source caption may be withheld by its licence; train with --captions ir"
                           if col == "source_caption" else "rebuild the dataset"))
    return list(texts)


def encode_texts_cached(adapter, texts: list[str], cache_dir: Path, batch_size: int, progress: bool):
    """Frozen text tower: v_i for every caption, computed once and kept in OUT/.cache (safetensors)."""
    import torch
    from safetensors.torch import load_file, save_file

    key = hashlib.sha256(json.dumps([adapter.info.cache_key(), getattr(adapter, "preprocess_key", ""), texts])
                         .encode()).hexdigest()[:20]
    path = cache_dir / f"text-{key}.safetensors"
    if path.exists():
        return load_file(str(path))["v"]
    from tqdm.auto import tqdm

    chunks = []
    with torch.no_grad():
        for i in tqdm(range(0, len(texts), batch_size), desc="encode captions (frozen text tower)",
                      disable=not progress, leave=False):
            chunks.append(adapter.encode_texts(adapter.tokenize(texts[i:i + batch_size])).float().cpu())
    v = torch.nn.functional.normalize(torch.cat(chunks), dim=-1).contiguous()
    cache_dir.mkdir(parents=True, exist_ok=True)
    save_file({"v": v}, str(path))
    return v


def encode_images(adapter, images: _Images, batch_size: int, num_workers: int, progress: bool, desc: str):
    """u_i for a split with the current weights (eval mode, no gradients)."""
    import torch
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    net = adapter.model
    was_training = net.training
    net.eval()
    loader = DataLoader(images, batch_size=batch_size, shuffle=False, num_workers=num_workers, collate_fn=_collate)
    out = []
    with torch.no_grad():
        for pixels, _ in tqdm(loader, desc=desc, disable=not progress, leave=False):
            out.append(adapter.encode_images(pixels).float().cpu())
    net.train(was_training)
    return torch.nn.functional.normalize(torch.cat(out), dim=-1)


def mean_recall(u, v) -> float:
    """Validation mR (eq. 23–25) of paired embeddings, through the harness's metric."""
    from harness.metrics.retrieval import retrieval_metrics

    return float(retrieval_metrics(u, v, list(range(u.shape[0])))["mR"])


# ---------------------------------------------------------------- checkpoint state

def _trainable_state(net) -> dict:
    return {n: p.detach().to("cpu").contiguous().clone() for n, p in net.named_parameters() if p.requires_grad}


def save_checkpoint(out: Path, net, optimizer, state: dict) -> None:
    """Write OUT/checkpoint-last atomically (tmp dir, then rename)."""
    import torch
    from safetensors.torch import save_file

    tmp, final, old = out / (CKPT + ".tmp"), out / CKPT, out / (CKPT + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(_trainable_state(net), str(tmp / "trainable.safetensors"))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps(state, indent=2, default=str))
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(out: Path, net, optimizer) -> dict:
    """Restore trainable weights + optimiser from OUT/checkpoint-last; return the JSON state."""
    import torch
    from safetensors.torch import load_file

    ckpt = out / CKPT
    weights = load_file(str(ckpt / "trainable.safetensors"))
    params = dict(net.named_parameters())
    unknown = sorted(set(weights) - set(params))
    if unknown:
        raise UserError(f"checkpoint {ckpt}: parameters {unknown[:3]} do not belong to this model; "
                        "use another --output or --no-resume")
    with torch.no_grad():
        for name, tensor in weights.items():
            params[name].copy_(tensor)
    optimizer.load_state_dict(torch.load(ckpt / "optimizer.pt", map_location="cpu", weights_only=True))
    return json.loads((ckpt / "state.json").read_text())


# ---------------------------------------------------------------- training

def warmup_cosine(optimizer, warmup: int, total: int):
    """Linear warm-up for `warmup` steps, then cosine decay to 0 at `total` (§C.3; the same curve as
    transformers' `get_cosine_schedule_with_warmup`)."""
    from torch.optim.lr_scheduler import LambdaLR

    def factor(step: int) -> float:
        if step < warmup:
            return step / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))

    return LambdaLR(optimizer, factor)


def _batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The epoch's batches: a permutation fixed by (seed, epoch); the last partial batch is dropped when
    there is at least one full batch (contrastive loss needs in-batch negatives)."""
    import torch

    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1000 + epoch)).tolist()
    full = n // batch_size
    if full == 0:
        return [perm]
    return [perm[i * batch_size:(i + 1) * batch_size] for i in range(full)]


def _precision(precision: str, device: str):
    import torch

    if precision == "auto":
        precision = "fp16" if device.startswith("cuda") else "fp32"
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, "bad")
    if dtype == "bad":
        raise UserError(f"--precision {precision!r}: use auto, fp32, bf16 or fp16")
    if precision == "fp16" and not device.startswith("cuda"):
        raise UserError("--precision fp16 needs a CUDA device; use bf16 or fp32 on CPU")
    return precision, dtype


def train_clip(args: ClipTrainArgs) -> dict:
    """Run the IR-CLIP recipe; returns the summary written to OUT/monoir_training.json."""
    import torch
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    from harness.registry import load_model

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    device = common.resolve_device(args.device)
    precision, amp_dtype = _precision(args.precision, device)
    common.set_seed(args.seed)

    adapter = load_model(args.model, device=device)
    if adapter.info.family != "clip":
        raise UserError(f"model {args.model}: `train clip` needs a CLIP dual encoder, this is a "
                        f"{adapter.info.family} model; use `monoir train vlm`")
    net, backend = adapter.model, adapter.info.backend
    net.float()
    recipe = clip_recipe(args.model, adapter.info.id, common.count_params(net), stage=args.stage)
    epochs = args.epochs or recipe.epochs
    batch_size = args.batch_size or recipe.batch_size
    lr = args.lr if args.lr is not None else recipe.lr
    wd = args.weight_decay if args.weight_decay is not None else recipe.weight_decay
    warmup = args.warmup_steps if args.warmup_steps is not None else recipe.warmup_steps

    train_ds = common.load_split(args.data, "all", "train")
    if args.limit:
        train_ds = train_ds.select(range(min(args.limit, len(train_ds))))
    val_ds = common.load_split(args.data, "all", "validation")
    if len(train_ds) < 2:
        raise UserError(f"dataset {args.data}: the train split has {len(train_ds)} records; contrastive "
                        "training needs at least 2")
    batch_size = min(batch_size, len(train_ds))

    freeze_text_tower(net, backend)
    net.to(device).train()
    cache = out / ".cache"
    v_train = encode_texts_cached(adapter, _caption_column(train_ds, args.captions, "train"), cache, 256,
                                  args.progress)
    # Validation always scores against the IR-aware captions (the evaluation target, Table 8 "IR-aware mR").
    v_val = encode_texts_cached(adapter, _caption_column(val_ds, "ir", "validation"), cache, 256,
                                args.progress) if len(val_ds) else None

    in_process = args.num_workers == 0
    train_images = _Images(train_ds, adapter.preprocess_image, cache=in_process)
    val_images = _Images(val_ds, adapter.preprocess_image, cache=in_process)
    steps_per_epoch = len(_batches(len(train_ds), batch_size, args.seed, 0))
    total_steps = epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(common.decay_groups(net, wd), lr=lr)
    scheduler = warmup_cosine(optimizer, min(warmup, total_steps), total_steps)
    scaler = torch.amp.GradScaler("cuda", enabled=(precision == "fp16"))

    hparams = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "weight_decay": wd, "warmup_steps": warmup,
               "grad_clip": recipe.grad_clip, "logit_scale_max": LN_100, "captions": args.captions,
               "precision": precision, "device": device, "total_steps": total_steps,
               "steps_per_epoch": steps_per_epoch, "eval_steps": args.eval_steps, "train_records": len(train_ds),
               "validation_records": len(val_ds), "stage": args.stage}
    identity = {"model": adapter.info.id, "data": common.data_fingerprint(args.data), "seed": args.seed,
                **{k: hparams[k] for k in ("epochs", "batch_size", "lr", "weight_decay", "warmup_steps",
                                           "captions", "train_records")}}
    state = {"step": 0, "epoch": 0, "step_in_epoch": 0, "best_mR": None, "best_epoch": None, "best_step": None,
             "history": [], "done": False, "identity": identity}
    if args.resume and (out / CKPT / "state.json").exists():
        saved = json.loads((out / CKPT / "state.json").read_text())
        if saved.get("identity") != identity:
            raise UserError(f"{out}/{CKPT} was written by a different run ({saved.get('identity')}); "
                            "use another --output, or --no-resume to start over in this folder")
        state = load_checkpoint(out, net, optimizer)
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        print(f"resuming from {out / CKPT} at step {state['step']}/{total_steps}")

    def record(path_info: dict) -> dict:
        return common.write_training_json(out, {
            "recipe": "ir-clip", "recipe_row": recipe.to_dict(),
            "model": {"name": args.model, "id": adapter.info.id, "revision": adapter.info.revision,
                      "backend": backend},
            "data": {"path": str(Path(args.data).resolve()) if Path(args.data).exists() else args.data,
                     "fingerprint": identity["data"], "config": "all", "split": "train"},
            "hyperparameters": hparams, "seed": args.seed, **path_info})

    def validate() -> float | None:
        if v_val is None:
            return None
        u = encode_images(adapter, val_images, batch_size=max(32, min(256, batch_size)), num_workers=args.num_workers,
                          progress=args.progress, desc="validation mR")
        return mean_recall(u, v_val)

    def checkpoint_and_select(kind: str) -> None:
        """Validate, keep the best weights in OUT (eq. 26), then save checkpoint-last for resume."""
        mr = validate()
        entry = {"epoch": state["epoch"] + (state["step_in_epoch"] / steps_per_epoch), "step": state["step"],
                 "val_mR": mr, "at": kind}
        state["history"].append(entry)
        better = mr is None or state["best_mR"] is None or mr > state["best_mR"]
        if better:
            state.update(best_mR=mr, best_epoch=entry["epoch"], best_step=state["step"])
            adapter.save_pretrained(out)
        msg = f"step {state['step']}/{total_steps} val mR {mr if mr is None else round(mr, 2)}"
        print(msg + (" (best so far, saved)" if better else ""))
        _save_state()

    def _save_state() -> None:
        state["scheduler"] = scheduler.state_dict()
        state["scaler"] = scaler.state_dict()
        save_checkpoint(out, net, optimizer, state)
        record({"best": {k: state[k] for k in ("best_mR", "best_epoch", "best_step")},
                "history": state["history"], "completed": state["done"]})

    if state["done"]:
        print(f"{out} already holds a finished run (best val mR {state['best_mR']}); nothing to do")
        return json.loads((out / common.TRAINING_JSON).read_text())

    scale = logit_scale_param(net)
    trainable = [p for p in net.parameters() if p.requires_grad]
    steps_this_call = 0
    t0 = time.time()
    bar = tqdm(total=total_steps, initial=state["step"], desc="train clip", disable=not args.progress)
    while state["epoch"] < epochs:
        batches = _batches(len(train_ds), batch_size, args.seed, state["epoch"])[state["step_in_epoch"]:]
        loader = DataLoader(train_images, batch_sampler=batches,
                            num_workers=args.num_workers, collate_fn=_collate)
        for pixels, idx in loader:
            pixels = pixels.to(device, non_blocking=True)
            v = v_train[idx].to(device)
            with torch.autocast(device_type=device.split(":")[0], dtype=amp_dtype, enabled=amp_dtype is not None):
                feats = image_features(net, backend, pixels)
            u = torch.nn.functional.normalize(feats.float(), dim=-1)
            loss = clip_loss(u, v, scale.float())
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(trainable, recipe.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            with torch.no_grad():
                scale.clamp_(0, LN_100)
            state["step"] += 1
            state["step_in_epoch"] += 1
            steps_this_call += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}", epoch=state["epoch"] + 1)
            epoch_end = state["step_in_epoch"] == steps_per_epoch
            if epoch_end:
                state["epoch"] += 1
                state["step_in_epoch"] = 0
                state["done"] = state["epoch"] >= epochs
                checkpoint_and_select("epoch")
            elif args.eval_steps and state["step"] % args.eval_steps == 0:
                checkpoint_and_select("steps")
            elif args.save_steps and state["step"] % args.save_steps == 0:
                _save_state()
            if args.stop_after_steps and steps_this_call >= args.stop_after_steps and not state["done"]:
                if not (epoch_end or (args.eval_steps and state["step"] % args.eval_steps == 0)):
                    _save_state()
                bar.close()
                print(f"stopped after {steps_this_call} steps at step {state['step']}; re-run to resume")
                return json.loads((out / common.TRAINING_JSON).read_text())
            if epoch_end:
                break
    bar.close()
    summary = json.loads((out / common.TRAINING_JSON).read_text())
    summary["train_seconds_this_call"] = round(time.time() - t0, 1)
    common.write_json_atomic(out / common.TRAINING_JSON, summary)
    return summary
