"""IR-VLM LoRA instruction tuning (paper §4.4, Appendix A.6 eq. 28–32, Algorithm 3, §C.4, Tables 5 and 19).

- LoRA (r=32, alpha=64, dropout 0.05, eq. 32) on the **language model only**: PEFT `target_modules` is a regex
  over full module names (`...language_model....q_proj`), because the bare names (q_proj, q, v) also occur in
  the vision tower / Q-Former. Vision tower and base LLM stay frozen.
- The multimodal projector omega (eq. 28) is trained in full via `modules_to_save` where the backbone exposes it
  (`visual.merger`, `multi_modal_projector`, `language_projection`); `--adapter-only` leaves it frozen.
- Loss only on assistant tokens (eq. 30): decoder-only models render the conversation with the same prompt
  rendering the evaluator uses (`HfVlm.render`: chat template, else the family's plain template), then the
  prompt tokens (incl. image tokens and padding) get label -100; everything after the generation prompt (the
  answer and the template's end-of-turn tokens) is supervised. Encoder-decoder InstructBLIP takes the answer
  tokens as decoder labels directly.
- transformers `Trainer`: AdamW lr 2e-4, cosine, warm-up ratio 0.03 (transformers 5 takes a float < 1 in
  `warmup_steps` as a ratio), 1 epoch, per-family batch x accumulation (Table 19), bf16 where supported,
  checkpoints every `save_steps` (save_total_limit 1) so an interrupted run resumes (`Trainer` reloads optimiser,
  scheduler and RNG state with `torch.load(weights_only=True)`).
- Output: a PEFT adapter (adapter_model.safetensors + adapter_config.json whose `base_model_name_or_path` is the
  resolved base id) plus the processor and OUT/monoir_training.json; `monoir-eval --model BASE --adapter OUT`.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from monoir_rs.errors import UserError
from monoir_rs.train import common
from monoir_rs.train.recipes import VlmRecipe, vlm_recipe

CHECKPOINTS = "checkpoints"


@dataclass
class VlmTrainArgs:
    model: str
    data: str
    output: str
    adapter_only: bool = False         # LoRA only, projector frozen
    epochs: float | None = None
    batch_size: int | None = None
    grad_accum: int | None = None
    lr: float | None = None
    max_len: int | None = None
    max_steps: int | None = None       # cap the optimiser steps (smoke runs); schedule follows it
    save_steps: int = 200
    logging_steps: int = 10
    seed: int = 0
    device: str | None = None
    precision: str = "auto"            # auto (bf16 where supported, else fp32) | fp32 | bf16
    limit: int | None = None           # first N conversations only
    resume: bool = True
    stop_after_steps: int | None = None  # leave after N steps in this call (checkpoint saved; re-run resumes)
    gradient_checkpointing: bool = False
    trust_remote_code: bool = False
    progress: bool = True


# ------------------------------------------------------------------------------------------------ LoRA targets

def lora_target_regex(recipe: VlmRecipe) -> str:
    """Full-name regex: a target leaf inside `language_model` (never the vision tower or Q-Former)."""
    leaves = "|".join(re.escape(m) for m in recipe.target_modules)
    return rf"^(?:.*\.)?language_model\.(?:.*\.)?(?:{leaves})$"


def projector_modules(model, recipe: VlmRecipe) -> list[str]:
    """The recipe's projector module names that this model actually has."""
    names = {n for n, _ in model.named_modules()}
    return [p for p in recipe.projector if any(n == p or n.endswith("." + p) for n in names)]


def apply_lora(model, recipe: VlmRecipe, adapter_only: bool = False):
    """Wrap `model` with a PEFT LoRA adapter following the recipe; returns the PeftModel."""
    from peft import LoraConfig, get_peft_model

    target = lora_target_regex(recipe)
    if not any(re.fullmatch(target, n) for n, _ in model.named_modules()):
        raise UserError(f"{type(model).__name__}: no language-model module matches {recipe.target_modules}; "
                        "this family's module names differ from the recipe's")
    config = LoraConfig(r=recipe.lora_r, lora_alpha=recipe.lora_alpha, lora_dropout=recipe.lora_dropout,
                        target_modules=target, bias="none",
                        modules_to_save=None if adapter_only else (projector_modules(model, recipe) or None))
    return get_peft_model(model, config)


# ------------------------------------------------------------------------------------------------ collator

class VlmCollator:
    """Rows of `vlm_instruct` (image, messages) -> a training batch with assistant-only labels."""

    def __init__(self, vlm, max_len: int | None):
        self.vlm, self.processor, self.max_len = vlm, vlm.processor, max_len
        self.tok = getattr(self.processor, "tokenizer", None)
        if self.tok is None:
            raise UserError(f"{vlm.info.name}: its processor has no tokenizer")
        self.tok.padding_side = "right"
        if self.tok.pad_token is None:
            self.tok.pad_token = self.tok.eos_token

    @staticmethod
    def turns(messages) -> tuple[str, str]:
        user = [m["content"] for m in messages if m["role"] == "user"]
        bot = [m["content"] for m in messages if m["role"] == "assistant"]
        if len(user) != 1 or len(bot) != 1:
            raise UserError(f"conversation {messages!r:.120}: expected one user and one assistant turn")
        return user[0], bot[0]

    def full_text(self, prompt: str, answer: str) -> tuple[str, str]:
        """(generation prompt, prompt + answer) in the evaluator's rendering."""
        head = self.vlm.render(prompt)
        if self.vlm.use_chat:
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]},
                        {"role": "assistant", "content": [{"type": "text", "text": answer}]}]
            full = self.processor.apply_chat_template(messages, add_generation_prompt=False, tokenize=False)
            if not full.startswith(head):
                raise UserError(f"{self.vlm.info.name}: the chat template does not render the conversation as "
                                "generation prompt + answer, so prompt tokens cannot be masked")
            return head, full
        sep = "" if head.endswith((" ", "\n")) else " "
        return head, head + sep + answer + (self.tok.eos_token or "")

    def _process(self, images, texts):
        return self.processor(images=images, text=texts, padding=True, return_tensors="pt")

    def __call__(self, rows: list[dict]):
        import torch

        images = [r["image"].convert("RGB") for r in rows]
        pairs = [self.turns(r["messages"]) for r in rows]
        if self.vlm.encoder_decoder:
            batch = self._process(images, [self.vlm.render(p) for p, _ in pairs])
            lab = self.tok([a for _, a in pairs], padding=True, truncation=bool(self.max_len),
                           max_length=self.max_len, return_tensors="pt")
            labels = lab["input_ids"].masked_fill(lab["attention_mask"] == 0, -100)
            batch["labels"] = labels
            return batch
        heads, fulls = zip(*(self.full_text(p, a) for p, a in pairs), strict=True)
        batch = self._process(images, list(fulls))
        labels = batch["input_ids"].clone()
        labels[batch["attention_mask"] == 0] = -100
        for i, (img, head) in enumerate(zip(images, heads, strict=True)):
            head_ids = self._process([img], [head])["input_ids"][0]
            n = len(head_ids)
            if not torch.equal(batch["input_ids"][i, :n], head_ids):
                # BPE merged across the prompt/answer boundary: mask the longest common prefix.
                same = (batch["input_ids"][i, :n] == head_ids).long().cumprod(0)
                n = int(same.sum())
            labels[i, :n] = -100
        batch["labels"] = labels
        if self.max_len and batch["input_ids"].shape[1] > self.max_len:
            length = batch["input_ids"].shape[1]
            for k, v in list(batch.items()):
                if torch.is_tensor(v) and v.dim() == 2 and v.shape[1] == length:
                    batch[k] = v[:, :self.max_len]
        return batch


# ------------------------------------------------------------------------------------------------ training

def _step_callback(stop_after: int | None):
    """Counts the optimiser steps of this call; with `stop_after`, saves a checkpoint and leaves after that
    many (what an interruption leaves behind)."""
    from transformers import TrainerCallback

    class Steps(TrainerCallback):
        def __init__(self):
            self.done = 0

        def on_step_end(self, args, state, control, **kw):
            self.done += 1
            if stop_after and self.done >= stop_after and state.global_step < state.max_steps:
                control.should_save = True
                control.should_training_stop = True
            return control

    return Steps()


def _precision(precision: str, device: str) -> dict:
    import torch

    if precision == "auto":
        bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
        return {"bf16": bf16}
    if precision == "bf16":
        return {"bf16": True}
    if precision == "fp32":
        return {"bf16": False}
    raise UserError(f"--precision {precision!r}: use auto, bf16 or fp32 (fp16 overflows in several VLM families)")


def trainable_summary(model) -> dict:
    total = sum(p.numel() for p in model.parameters())
    train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"trainable_params": train, "total_params": total}


def train_vlm(args: VlmTrainArgs) -> dict:
    """Run the IR-VLM recipe; returns the summary written to OUT/monoir_training.json."""
    from transformers import Trainer, TrainingArguments

    from harness.registry import load_model

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    device = common.resolve_device(args.device)
    prec = _precision(args.precision, device)
    common.set_seed(args.seed)
    vlm = load_model(args.model, device=device, dtype="fp32" if device == "cpu" else None,
                     trust_remote_code=args.trust_remote_code)
    if vlm.info.family != "vlm":
        raise UserError(f"model {args.model}: `train vlm` needs an image-text-to-text model; this is a "
                        f"{vlm.info.family} model, use `monoir train clip`")
    model = vlm.model
    model_type = model.config.model_type
    recipe = vlm_recipe(model_type, common.count_params(model))
    hp = {"epochs": args.epochs or recipe.epochs, "batch_size": args.batch_size or recipe.batch_size,
          "grad_accum": args.grad_accum or recipe.grad_accum, "lr": args.lr if args.lr is not None else recipe.lr,
          "max_len": args.max_len or recipe.max_len, "warmup_ratio": recipe.warmup_ratio,
          "scheduler": recipe.scheduler, "lora_r": recipe.lora_r, "lora_alpha": recipe.lora_alpha,
          "lora_dropout": recipe.lora_dropout, "lora_target_regex": lora_target_regex(recipe),
          "projector": [] if args.adapter_only else projector_modules(model, recipe),
          "adapter_only": args.adapter_only, "max_steps": args.max_steps, "device": device,
          "bf16": prec["bf16"]}

    data = common.load_split(args.data, "vlm_instruct", "train")
    if args.limit:
        data = data.select(range(min(args.limit, len(data))))
    for p in model.parameters():
        p.requires_grad_(False)
    model = apply_lora(model, recipe, adapter_only=args.adapter_only)
    if args.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    vlm.model = model
    hp.update(trainable_summary(model), conversations=len(data))

    ckpt_dir = out / CHECKPOINTS
    targs = TrainingArguments(
        output_dir=str(ckpt_dir), num_train_epochs=hp["epochs"], per_device_train_batch_size=hp["batch_size"],
        gradient_accumulation_steps=hp["grad_accum"], learning_rate=hp["lr"], lr_scheduler_type="cosine",
        warmup_steps=recipe.warmup_ratio, weight_decay=0.0, max_steps=args.max_steps or -1,
        logging_steps=args.logging_steps, save_strategy="steps", save_steps=args.save_steps, save_total_limit=1,
        seed=args.seed, data_seed=args.seed, remove_unused_columns=False, report_to=[],
        dataloader_num_workers=0, disable_tqdm=not args.progress, use_cpu=(device == "cpu"), **prec)
    steps = _step_callback(args.stop_after_steps)
    trainer = Trainer(model=model, args=targs, train_dataset=data, data_collator=VlmCollator(vlm, hp["max_len"]),
                      callbacks=[steps])
    resume = None
    if args.resume and ckpt_dir.is_dir():
        from transformers.trainer_utils import get_last_checkpoint

        resume = get_last_checkpoint(str(ckpt_dir))
        if resume:
            print(f"resuming from {resume}")
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=resume)
    state = trainer.state
    finished = state.global_step >= state.max_steps
    record = {
        "recipe": "ir-vlm-lora", "recipe_row": recipe.to_dict(),
        "model": {"name": args.model, "id": vlm.info.id, "revision": vlm.info.revision, "model_type": model_type},
        "data": {"path": str(Path(args.data).resolve()) if Path(args.data).exists() else args.data,
                 "fingerprint": common.data_fingerprint(args.data), "config": "vlm_instruct", "split": "train"},
        "hyperparameters": hp, "seed": args.seed,
        "best": {"selection": "final-epoch adapter (Table 5)", "step": state.global_step,
                 "epoch": state.epoch, "train_loss": getattr(result, "training_loss", None)},
        "log_history": state.log_history, "completed": finished, "resumed_from": resume,
        "steps_this_call": steps.done,
        "train_seconds_this_call": round(time.time() - t0, 1)}
    if not finished:
        print(f"stopped at step {state.global_step}/{state.max_steps}; re-run the same command to resume")
        common.write_training_json(out, record)
        return record
    save_adapter(model, vlm, out)
    common.write_training_json(out, record)
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    return record


def save_adapter(model, vlm, out: Path) -> None:
    """PEFT adapter (safetensors) whose config names the real base model, plus the processor."""
    for cfg in model.peft_config.values():
        cfg.base_model_name_or_path = vlm.info.id
        cfg.revision = vlm.info.revision if vlm.info.revision and not str(vlm.info.revision).startswith(
            "local") else None
    model.save_pretrained(str(out), safe_serialization=True)
    vlm.processor.tokenizer.padding_side = "left"
    vlm.processor.save_pretrained(str(out))
    cfg_path = out / "adapter_config.json"
    saved = json.loads(cfg_path.read_text())
    if saved.get("base_model_name_or_path") != vlm.info.id:
        raise RuntimeError(f"{cfg_path}: base_model_name_or_path is {saved.get('base_model_name_or_path')!r}")
