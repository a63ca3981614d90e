"""`monoir publish model --dry-run`: the repo folder, the card (parsed back) and loading the folder the way the
card says, for a tiny fine-tuned transformers CLIP, a tiny open_clip model and a tiny LoRA adapter."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from monoir_rs.errors import UserError  # noqa: E402
from monoir_rs.publish.model import publish_model  # noqa: E402

REPO = "monoir-test/ir-clip-tiny"
BASE_HUB = "openai/clip-vit-base-patch32"
RETRIEVAL = {"i2t_r1": 8.3, "i2t_r5": 20.125, "i2t_r10": 28.0, "t2i_r1": 9.5, "t2i_r5": 21.0, "t2i_r10": 29.25,
             "mR": 19.3625}
ZERO_SHOT = {"i2t_r1": 1.25, "i2t_r5": 5.0, "i2t_r10": 8.0, "t2i_r1": 1.5, "t2i_r5": 4.0, "t2i_r10": 7.25,
             "mR": 4.5}
CAPTION = {"ir_cue_rate": 100.0, "rgb_color_rate": 0.4, "overclaim_rate": 2.5, "class_hit_rate": 61.0,
           "avg_words": 14.2}


def results_json(path: Path, model: dict, tasks: dict) -> Path:
    """A results.json as SPEC §5 describes it."""
    path.write_text(json.dumps({"schema_version": 1, "model": model,
                                "dataset": {"path": "monoir-test/monoir-rs", "fingerprint": "f00d"},
                                "created": "2026-11-23T10:00:00+00:00", "versions": {}, "args": {},
                                "tasks": tasks}))
    return path


def perturb(model, seed: int = 1) -> None:
    """Stand-in for fine-tuning: move every weight a little, deterministically."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.02)


def training_record(out: Path, recipe: str, name: str, model_id: str) -> None:
    from monoir_rs.train.common import write_training_json

    write_training_json(out, {"recipe": recipe, "model": {"name": name, "id": model_id},
                              "data": {"path": "monoir-test/monoir-rs", "fingerprint": "f00d", "config": "all",
                                       "split": "train"},
                              "hyperparameters": {"epochs": 2, "lr": 1e-6, "batch_size": 4}, "seed": 0,
                              "best": {"best_mR": 12.5, "best_epoch": 1, "best_step": 8}})


def card_code(readme: Path) -> str:
    """The first python block of the card's "How to load" section."""
    text = readme.read_text()
    section = text[text.index("## How to load"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run_card_code(code: str, replace: dict[str, str], workdir: Path) -> dict:
    """Execute the card's code with repo ids swapped for local folders, next to an `infrared.jpg`."""
    from PIL import Image

    for old, new in replace.items():
        code = code.replace(f'"{old}"', f'"{new}"')
    workdir.mkdir(exist_ok=True)
    rng = __import__("random").Random(0)
    img = Image.new("L", (48, 40))
    img.putdata([rng.randrange(256) for _ in range(48 * 40)])
    img.save(workdir / "infrared.jpg")
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        ns: dict = {}
        exec(compile(code, "card", "exec"), ns)
    finally:
        os.chdir(cwd)
    return ns


@pytest.fixture(scope="module")
def tuned_clip(tiny_models, tmp_path_factory) -> Path:
    """A tiny transformers CLIP 'fine-tuned' from the tiny base, with its processor and training record."""
    from transformers import CLIPModel

    out = tmp_path_factory.mktemp("runs") / "clip-tuned"
    base = tiny_models("clip")
    model = CLIPModel.from_pretrained(base)
    perturb(model)
    model.save_pretrained(out)
    for f in base.iterdir():
        if f.name not in ("config.json", "model.safetensors"):
            shutil.copy(f, out / f.name)
    training_record(out, "ir-clip", "openai-clip-vit-b-32", BASE_HUB)
    (out / "checkpoint-last").mkdir()  # resume state a training run leaves behind: must not be published
    (out / "checkpoint-last" / "state.json").write_text("{}")
    return out


def test_transformers_clip_folder_card_and_roundtrip(tuned_clip, tmp_path):
    from huggingface_hub import ModelCard
    from safetensors.torch import load_file

    ft = results_json(tmp_path / "ft.json", {"name": str(tuned_clip), "id": str(tuned_clip), "family": "clip"},
                      {"retrieval": {"n": 9720, "metrics": RETRIEVAL, "ci95": {"mR": [18.0, 20.5]},
                                     "per_source": {"rsicd": {"n": 40, "metrics": dict(RETRIEVAL, mR=33.0)}}}})
    zs = results_json(tmp_path / "zs.json", {"name": "openai-clip-vit-b-32", "id": BASE_HUB, "family": "clip"},
                      {"retrieval": {"n": 9720, "metrics": ZERO_SHOT}})
    folder = tmp_path / "repo"
    out = publish_model(tuned_clip, REPO, results=[ft, zs], folder=folder, dry_run=True)

    names = {p for p, _ in out["files"]}
    assert names == {"README.md", "config.json", "model.safetensors", "processor_config.json", "tokenizer.json",
                     "tokenizer_config.json", "monoir_training.json", ".eval_results/monoir-rs.yaml",
                     "eval/finetuned_0_results.json", "eval/zero_shot_1_results.json"}
    assert not any(n.endswith((".bin", ".pt", ".pth")) for n in names)
    assert out["card"] == folder / "README.md" and str(folder / "README.md") in out["listing"]
    assert all(n in out["listing"] for n in names)
    assert "left out (not part of the transformers model repo): checkpoint-last/state.json" in out["listing"]
    assert load_file(folder / "model.safetensors").keys() == load_file(tuned_clip / "model.safetensors").keys()

    card = ModelCard.load(folder / "README.md")
    d = card.data
    assert (d.base_model, d.library_name, d.pipeline_tag) == (BASE_HUB, "transformers", "zero-shot-image-classification")
    assert d.datasets == ["monoir-test/monoir-rs"] and d.license == "other"
    assert {"monoir-rs", "infrared", "remote-sensing", "clip"} <= set(d.tags)
    # model-index: every metric of the fine-tuned results.json, with task, dataset, config and split
    got = {(r.task_name, r.metric_type): r for r in d.eval_results}
    want = {("retrieval", k): v for k, v in RETRIEVAL.items()}
    want.update({("retrieval (rsicd)", k): v for k, v in dict(RETRIEVAL, mR=33.0).items()})
    assert {k: r.metric_value for k, r in got.items()} == want  # zero-shot values are not this model's
    for r in d.eval_results:
        assert (r.dataset_type, r.dataset_config, r.dataset_split) == ("monoir-test/monoir-rs", "clean_test", "test")
        assert r.task_type == "zero-shot-image-classification"
    assert got[("retrieval (rsicd)", "mR")].dataset_args == {"source": "rsicd"}
    # body: training record, Δ table (paper Table 6 style), limitations, citation
    body = card.text
    assert "ir-clip" in body and "f00d" in body and "| best_mR | 12.5 |" in body
    assert "| mR | 4.50 | 19.36 | +14.86 | [18.00, 20.50] |" in body
    assert "| I2T R@1 | 1.25 | 8.30 | +7.05 |" in body
    assert "synthesized" in body and "lexical proxies" in body and "@misc{han2026monoirrs" in body
    # .eval_results/: the headline mR, in huggingface_hub's format
    import yaml
    from huggingface_hub import parse_eval_result_entries

    entries = parse_eval_result_entries(yaml.safe_load((folder / ".eval_results/monoir-rs.yaml").read_text()))
    assert [(e.dataset_id, e.task_id, e.value) for e in entries] == [("monoir-test/monoir-rs", "retrieval", 19.3625)]

    # load the folder the way the card says, and the source the same way: identical outputs
    code = card_code(folder / "README.md")
    assert f'AutoModel.from_pretrained("{REPO}")' in code
    pub = run_card_code(code, {REPO: str(folder)}, tmp_path / "w")
    src = run_card_code(code, {REPO: str(tuned_clip)}, tmp_path / "w")
    assert torch.equal(pub["image_emb"], src["image_emb"]) and torch.equal(pub["text_emb"], src["text_emb"])
    assert torch.equal(pub["similarity"], src["similarity"])


def test_open_clip_layout_and_roundtrip(tiny_models, tmp_path):
    src = tmp_path / "oc-tuned"
    shutil.copytree(tiny_models("open_clip"), src)
    training_record(src, "ir-clip", "openclip-vit-b-32", "hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K")
    repo = "monoir-test/ir-openclip-tiny"
    out = publish_model(src, repo, folder=tmp_path / "repo", dry_run=True)
    folder = out["folder"]
    names = {p for p, _ in out["files"]}
    assert {"open_clip_config.json", "open_clip_model.safetensors", "README.md", "monoir_training.json"} <= names
    cfg = json.loads((folder / "open_clip_config.json").read_text())
    # the tokenizer ships in the repo, so hf-hub: loading must look for it there
    assert cfg["model_cfg"]["text_cfg"]["hf_tokenizer_name"] == repo
    from huggingface_hub import ModelCard

    d = ModelCard.load(folder / "README.md").data
    assert (d.library_name, d.base_model) == ("open_clip", "laion/CLIP-ViT-B-32-laion2B-s34B-b79K")
    assert d.eval_results is None  # no results given: no model-index
    code = card_code(folder / "README.md")
    assert f'create_model_and_transforms("hf-hub:{repo}")' in code
    pub = run_card_code(code, {f"hf-hub:{repo}": f"local-dir:{folder}"}, tmp_path / "w")
    ref = run_card_code(code, {f"hf-hub:{repo}": f"local-dir:{src}"}, tmp_path / "w")
    assert torch.equal(pub["image_emb"], ref["image_emb"]) and torch.equal(pub["text_emb"], ref["text_emb"])


def test_lora_adapter_bin_is_converted_and_loads(tiny_models, tmp_path):
    """A PEFT LoRA adapter on the tiny CLIP, saved as a pickle .bin: published as safetensors, loaded with
    PeftModel the way the card says, outputs identical to the source adapter."""
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import load_file
    from transformers import CLIPModel

    base = tiny_models("clip")
    model = get_peft_model(CLIPModel.from_pretrained(base), LoraConfig(r=4, lora_alpha=8,
                                                                       target_modules=["q_proj", "v_proj"]))
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)  # a non-trivial adapter
    src = tmp_path / "lora"
    model.save_pretrained(src)
    state = load_file(src / "adapter_model.safetensors")
    torch.save(state, src / "adapter_model.bin")
    (src / "adapter_model.safetensors").unlink()
    training_record(src, "ir-clip-lora", "tiny-clip", str(base))

    vlm_results = results_json(tmp_path / "ft.json", {"name": str(base), "id": str(base), "adapter": str(src),
                                                      "family": "clip"},
                               {"retrieval": {"n": 100, "metrics": RETRIEVAL}})
    out = publish_model(src, "monoir-test/ir-clip-lora", results=[vlm_results], folder=tmp_path / "repo",
                        dry_run=True, dataset_id="monoir-test/monoir-rs")
    folder = out["folder"]
    names = {p for p, _ in out["files"]}
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} <= names
    assert "adapter_model.bin" not in names and "eval/finetuned_0_results.json" in names  # adapter run = tuned
    assert load_file(folder / "adapter_model.safetensors").keys() == state.keys()
    from huggingface_hub import ModelCard

    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name == "peft" and "lora" in card.data.tags
    assert card.data.base_model is None  # the base is a local folder: not a Hub id, so not in the metadata
    assert "pass --base-model ORG/NAME" in out["listing"] and "adapter_model.bin" not in out["listing"]
    assert "adapter_model.safetensors" in card.text  # the conversion is stated
    code = card_code(folder / "README.md")
    assert "PeftModel.from_pretrained(base, \"monoir-test/ir-clip-lora\")" in code
    pub = run_card_code(code, {"monoir-test/ir-clip-lora": str(folder)}, tmp_path / "w")
    ref = run_card_code(code, {"monoir-test/ir-clip-lora": str(src)}, tmp_path / "w")
    plain = run_card_code(code.replace("model = PeftModel.from_pretrained(base, \"monoir-test/ir-clip-lora\")"
                                       ".eval()", "model = base.eval()"), {}, tmp_path / "w")
    assert torch.equal(pub["similarity"], ref["similarity"])
    assert not torch.allclose(pub["image_emb"], plain["image_emb"])  # the adapter is really applied


def test_bad_inputs_are_user_errors(tuned_clip, tmp_path):
    with pytest.raises(UserError, match="adapter_config.json, open_clip_config.json or config.json"):
        publish_model(tmp_path, REPO, dry_run=True, folder=tmp_path / "x")
    with pytest.raises(UserError, match="ORG/NAME"):
        publish_model(tuned_clip, "no-slash", dry_run=True, folder=tmp_path / "x")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("user data")
    with pytest.raises(UserError, match="not written by `monoir publish`"):
        publish_model(tuned_clip, REPO, dry_run=True, folder=busy)
    assert (busy / "keep.txt").exists()
    bad = tmp_path / "bad.json"
    bad.write_text("{\"tasks\": {\"retrieval\": {}}}")
    with pytest.raises(UserError, match="no `metrics`"):
        publish_model(tuned_clip, REPO, results=[bad], dry_run=True, folder=tmp_path / "y")
    evil = tmp_path / "evil"
    shutil.copytree(tuned_clip, evil)
    (evil / "model.safetensors").unlink()
    torch.save({"weights": {"a": torch.zeros(2)}, "note": Path("x")}, evil / "pytorch_model.bin")
    with pytest.raises(UserError, match="cannot be read safely|plain state dict"):
        publish_model(evil, REPO, dry_run=True, folder=tmp_path / "z")


def test_vlm_lora_adapter_card_generates_like_the_source(tiny_models, tmp_path):
    """A LoRA adapter on the tiny Qwen2.5-VL, saved with its processor the way `monoir train vlm` does:
    the card's generation code, run on the published folder, produces the source adapter's tokens."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText, AutoProcessor

    base = tiny_models("qwen2_5_vl")
    model = get_peft_model(AutoModelForImageTextToText.from_pretrained(base),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    src = tmp_path / "qwen-lora"
    model.save_pretrained(src)
    AutoProcessor.from_pretrained(base).save_pretrained(src)
    training_record(src, "ir-vlm-lora", "qwen2.5-vl-7b", str(base))
    repo = "monoir-test/ir-qwen-lora"
    scene = {"accuracy": 41.5, "ir_cue_rate": 12.0}
    ft = results_json(tmp_path / "ft.json", {"name": str(base), "id": str(base), "adapter": repo, "family": "vlm"},
                      {"caption": {"n": 500, "metrics": CAPTION, "samples": "samples_caption.jsonl"},
                       "scene": {"n": 500, "metrics": scene}})
    zs = results_json(tmp_path / "zs.json", {"name": str(base), "id": str(base), "family": "vlm"},
                      {"caption": {"n": 500, "metrics": dict(CAPTION, ir_cue_rate=20.0)}})
    out = publish_model(src, repo, results=[ft, zs], folder=tmp_path / "repo", dry_run=True)
    from huggingface_hub import ModelCard

    card = ModelCard.load(out["card"])
    assert (card.data.library_name, card.data.pipeline_tag) == ("peft", "image-text-to-text")
    # two VLM tasks on the same config/split stay two model-index groups, each with its own values
    got = {(r.task_name, r.metric_type): (r.metric_value, r.dataset_config, r.dataset_split)
           for r in card.data.eval_results}
    want = {("caption", k): v for k, v in CAPTION.items()} | {("scene", k): v for k, v in scene.items()}
    assert {k: v[0] for k, v in got.items()} == want
    assert {v[1:] for v in got.values()} == {("vlm_eval", "test")}
    assert "| IR-cue rate | 20.00 | 100.00 | +80.00 |" in card.text
    assert not (out["folder"] / ".eval_results").exists()  # no single headline for VLM tasks
    code = card_code(out["card"])
    assert f'AutoProcessor.from_pretrained("{repo}")' in code  # the adapter ships its processor
    assert "AutoModelForImageTextToText.from_pretrained" in code and "--adapter " + repo in card.text
    pub = run_card_code(code, {repo: str(out["folder"])}, tmp_path / "w")
    ref = run_card_code(code, {repo: str(src)}, tmp_path / "w")
    assert torch.equal(pub["out"], ref["out"]) and pub["out"].shape[1] > pub["inputs"]["input_ids"].shape[1]


def test_pickle_checkpoints_are_converted_to_safetensors(tuned_clip, tiny_models, tmp_path):
    """pytorch_model.bin (transformers) and a DDP-style open_clip .pt ({"state_dict": {"module.…"}}) become
    safetensors that load to the same weights."""
    from safetensors.torch import load_file
    from transformers import CLIPModel

    hf = tmp_path / "hf-bin"
    shutil.copytree(tuned_clip, hf, ignore=shutil.ignore_patterns("checkpoint-last"))
    state = load_file(hf / "model.safetensors")
    torch.save(state, hf / "pytorch_model.bin")
    (hf / "model.safetensors").unlink()
    out = publish_model(hf, REPO, folder=tmp_path / "repo-hf", dry_run=True)
    names = {p for p, _ in out["files"]}
    assert "model.safetensors" in names and "pytorch_model.bin" not in names
    a, b = CLIPModel.from_pretrained(tuned_clip), CLIPModel.from_pretrained(out["folder"])
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))

    oc = tmp_path / "oc-pt"
    oc.mkdir()
    src = tiny_models("open_clip")
    for f in src.iterdir():
        if f.suffix != ".safetensors":
            shutil.copy(f, oc / f.name)
    weights = load_file(src / "open_clip_model.safetensors")
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in weights.items()}},
               oc / "open_clip_pytorch_model.bin")
    out = publish_model(oc, "monoir-test/oc", folder=tmp_path / "repo-oc", dry_run=True)
    got = load_file(out["folder"] / "open_clip_model.safetensors")
    assert got.keys() == weights.keys() and all(torch.equal(got[k], weights[k]) for k in weights)
    assert "converted from pickle checkpoints" in out["card"].read_text()
