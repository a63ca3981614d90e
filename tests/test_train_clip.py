"""IR-CLIP recipe (paper eq. 18–22, Algorithm 2, Table 18) on tiny models and the sample dataset."""

from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from monoir_rs.errors import UserError
from monoir_rs.train.clip import ClipTrainArgs, clip_loss, train_clip, warmup_cosine
from monoir_rs.train.recipes import CLIP_RECIPES, TINY_CLIP, clip_recipe

torch.set_num_threads(2)


def _clean_test_mr(model_dir, data) -> float:
    """clean_test mR of a model folder through the harness adapter and retrieval metric (eq. 23–25)."""
    from harness.metrics.retrieval import retrieval_metrics
    from harness.registry import load_model
    from monoir_rs import hub

    adapter, ds = load_model(str(model_dir)), hub.load("clean_test", "test", data)
    u = adapter.encode_images(torch.stack([adapter.preprocess_image(im) for im in ds["image"]]))
    v = adapter.encode_texts(adapter.tokenize(ds["caption"]))
    return retrieval_metrics(u, v, list(range(len(ds))))["mR"]


@pytest.fixture(scope="module")
def trained(built_data, tiny_models, tmp_path_factory):
    """The tiny transformers CLIP fine-tuned with its documented tiny recipe (seed 0)."""
    out = tmp_path_factory.mktemp("clip_run") / "out"
    base = tiny_models("clip")
    summary = train_clip(ClipTrainArgs(model=str(base), data=str(built_data), output=str(out), seed=0,
                                       progress=False))
    return base, out, summary


def test_loss_matches_reference_equations():
    """eq. 19–22 against a per-row loop."""
    g = torch.Generator().manual_seed(0)
    u = torch.nn.functional.normalize(torch.randn(5, 8, generator=g), dim=-1)
    v = torch.nn.functional.normalize(torch.randn(5, 8, generator=g), dim=-1)
    gamma = torch.tensor(math.log(1 / 0.07))
    z = gamma.exp() * u @ v.t()
    l_it = -sum(torch.log(torch.exp(z[i, i]) / torch.exp(z[i]).sum()) for i in range(5)) / 5
    l_ti = -sum(torch.log(torch.exp(z[i, i]) / torch.exp(z[:, i]).sum()) for i in range(5)) / 5
    assert torch.allclose(clip_loss(u, v, gamma), 0.5 * (l_it + l_ti), atol=1e-5)


def test_schedule_matches_transformers_cosine():
    from transformers.optimization import get_cosine_schedule_with_warmup

    def lrs(make):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.AdamW([p], lr=1.0)
        sched = make(opt)
        out = []
        for _ in range(50):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    ours = lrs(lambda o: warmup_cosine(o, 20, 50))
    ref = lrs(lambda o: get_cosine_schedule_with_warmup(o, 20, 50))
    assert ours == pytest.approx(ref, abs=1e-12)


def test_table18_defaults():
    assert clip_recipe("openai-clip-vit-b-32") == CLIP_RECIPES["openai-clip-vit-b-32"]
    r = clip_recipe("whatever", "openai/clip-vit-large-patch14")
    assert (r.epochs, r.batch_size, r.lr) == (2, 256, 1e-6)
    s2 = clip_recipe("openai-clip-vit-l-14", stage=2)
    assert (s2.epochs, s2.batch_size, s2.lr) == (6, 128, 5e-7)
    for name in ("openclip-vit-b-32", "georsclip-vit-b-32", "remoteclip-vit-b-32"):
        r = clip_recipe(name)
        assert (r.epochs, r.batch_size, r.lr, r.weight_decay, r.grad_clip, r.warmup_steps) == (2, 1024, 2e-6, 0.1,
                                                                                                 1.0, 20)
    assert clip_recipe("my/unknown-clip", n_params=150_000_000).lr == 2e-6
    assert clip_recipe("tiny", n_params=100_000) == TINY_CLIP
    with pytest.raises(UserError):
        clip_recipe("openai-clip-vit-b-32", stage=2)


def test_text_tower_frozen_and_only_visual_side_changes(trained):
    base, out, _ = trained
    before, after = load_file(str(base / "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert before.keys() == after.keys()
    text = [k for k in before if k.startswith(("text_model.", "text_projection."))]
    visual = [k for k in before if k.startswith(("vision_model.", "visual_projection."))]
    assert text and visual and set(text) | set(visual) | {"logit_scale"} == set(before)
    for k in text:
        assert torch.equal(before[k], after[k]), f"frozen text tower changed: {k}"
    changed = [k for k in visual if not torch.equal(before[k], after[k])]
    assert len(changed) >= 0.8 * len(visual), "the visual tower was not trained"
    assert not torch.equal(before["logit_scale"], after["logit_scale"])
    assert after["logit_scale"].item() <= math.log(100) + 1e-6


def test_finetuned_beats_zero_shot_on_clean_test(trained):
    base, out, summary = trained
    data = json.loads((out / "monoir_training.json").read_text())["data"]["path"]
    zero_shot, tuned = _clean_test_mr(base, data), _clean_test_mr(out, data)
    assert tuned >= zero_shot + 4.0, (zero_shot, tuned, summary["history"], str(base))
    best = summary["best"]
    assert best["best_mR"] == max(h["val_mR"] for h in summary["history"])  # eq. 26: best val mR kept


def test_training_record(trained):
    _, out, _ = trained
    rec = json.loads((out / "monoir_training.json").read_text())
    assert rec["recipe"] == "ir-clip" and rec["seed"] == 0
    assert rec["hyperparameters"]["captions"] == "ir" and rec["hyperparameters"]["weight_decay"] == 0.1
    assert rec["data"]["fingerprint"] and rec["versions"]["torch"]
    assert len(rec["history"]) == rec["hyperparameters"]["epochs"]  # one validation per epoch
    assert (out / "training_curves.png").stat().st_size > 0


def test_open_clip_lock_text_tower_and_format(built_data, tiny_models, tmp_path):
    from harness.registry import load_model

    base = tiny_models("open_clip")
    out = tmp_path / "oc"
    train_clip(ClipTrainArgs(model=str(base), data=str(built_data), output=str(out), epochs=1, batch_size=32,
                             limit=64, progress=False))
    assert (out / "open_clip_config.json").is_file() and (out / "open_clip_model.safetensors").is_file()
    before = load_file(str(next(base.glob("*.safetensors"))))
    after = load_file(str(out / "open_clip_model.safetensors"))
    text_keys = [k for k in before if not k.startswith("visual.") and k != "logit_scale"]
    assert text_keys and all(torch.equal(before[k], after[k]) for k in text_keys)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("visual."))
    assert load_model(str(out)).info.backend == "open_clip"


def test_resume_reaches_the_same_weights(built_data, tiny_models, tmp_path):
    """Interrupted after 3 steps, re-run: identical final weights to an uninterrupted run (fp32 CPU)."""
    kw = dict(model=str(tiny_models("clip")), data=str(built_data), epochs=2, batch_size=16, limit=64,
              progress=False, seed=3)
    train_clip(ClipTrainArgs(output=str(tmp_path / "full"), **kw))
    part = train_clip(ClipTrainArgs(output=str(tmp_path / "resumed"), stop_after_steps=3, **kw))
    assert part["completed"] is False
    state = json.loads((tmp_path / "resumed" / "checkpoint-last" / "state.json").read_text())
    assert state["step"] == 3
    final = train_clip(ClipTrainArgs(output=str(tmp_path / "resumed"), **kw))
    assert final["completed"] is True
    a = load_file(str(tmp_path / "full" / "checkpoint-last" / "trainable.safetensors"))
    b = load_file(str(tmp_path / "resumed" / "checkpoint-last" / "trainable.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(UserError, match="different run"):
        train_clip(ClipTrainArgs(output=str(tmp_path / "resumed"), **{**kw, "seed": 4}))


def test_source_captions_need_them(built_data, tiny_models, tmp_path):
    """Table 8 ablation: --captions source trains on source_caption (a clear error where it is withheld)."""
    from monoir_rs import hub

    train = hub.load("all", "train", built_data)
    args = ClipTrainArgs(model=str(tiny_models("clip")), data=str(built_data), output=str(tmp_path / "src"),
                         captions="source", epochs=1, batch_size=16, limit=16, progress=False)
    if all(train[:16]["source_caption"]):
        summary = train_clip(args)
        assert summary["hyperparameters"]["captions"] == "source"
    else:
        with pytest.raises(UserError, match="source_caption"):
            train_clip(args)


def test_cli_help():
    from monoir_rs.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["train", "clip", "--help"])
    assert exc.value.code == 0
