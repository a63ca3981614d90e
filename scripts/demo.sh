#!/usr/bin/env bash
# The paper in miniature on the embedded sample, on CPU:
# sample -> build -> audit -> realism -> zero-shot CLIP + VLM eval -> fine-tune tiny CLIP + tiny VLM -> eval again
# -> delta tables -> dry-run publish. Tiny random-weight models stand in for the paper's backbones (no Hub needed).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export MONOIR_CACHE="$PWD/demo_out/cache"
OUT=demo_out
REAL=../shared/realdata/hit_uav/images
rm -rf "$OUT" monoir-rs monoir-rs.hub
mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
t0=$(date +%s)

step "1. sample RGB source pool (five native release layouts)"
monoir sample --out "$OUT/pool"

step "2. build the infrared corpus into ./monoir-rs (Algorithm 1: thermal-proxy synthesis + rules rewriter)"
monoir build --pool "$OUT/pool" --out monoir-rs --no-progress

step "3. audit (split hygiene, near-duplicates, colour leakage, clean_test rule)"
monoir audit monoir-rs --json "$OUT/audit.json" --no-progress

step "4. the dataset through plain datasets.load_dataset"
python - <<'EOF'
from datasets import load_dataset
ds = load_dataset("monoir-rs", "clean_test", split="test")
print(ds)
r = ds[0]
print(f"{r['id']} [{r['source']}/{r['scene_class']}] {r['caption']}")
print(f"   source caption: {r['source_caption']}")
EOF

if [ -d "$REAL" ]; then
  step "5. realism vs real HIT-UAV thermal images (histogram metrics, Table 2 layout)"
  monoir realism --real "$REAL" --synthetic monoir-rs/raw/images --no-fid --no-progress --json "$OUT/realism.json"
else
  step "5. realism skipped: $REAL not present (real thermal images are not shipped)"
fi

step "6. tiny random-weight models (same from_pretrained path as a Hub ID)"
monoir tiny-model --kind clip --out "$OUT/models/tiny-clip"
monoir tiny-model --kind llava --out "$OUT/models/tiny-llava"

step "7. zero-shot evaluation: CLIP retrieval and VLM caption,scene"
monoir-eval --model "$OUT/models/tiny-clip" --tasks retrieval --output "$OUT/eval/clip-zero-shot" --no-progress
monoir-eval --model "$OUT/models/tiny-llava" --tasks caption,scene --limit 64 --batch-size 16 \
  --output "$OUT/eval/vlm-zero-shot" --no-progress

step "8. IR-CLIP fine-tuning (frozen text tower, Table 18 recipe scaled to the tiny model)"
monoir train clip --model "$OUT/models/tiny-clip" --output "$OUT/runs/clip" --no-progress

step "9. instruction data (train split only) and IR-VLM LoRA fine-tuning (Table 19)"
monoir instruct --data monoir-rs --size 2000 --no-progress
monoir train vlm --model "$OUT/models/tiny-llava" --output "$OUT/runs/vlm-lora" --no-progress

step "10. fine-tuned evaluation, side by side with zero-shot (Tables 6 and 11)"
monoir-eval --model "$OUT/runs/clip" --tasks retrieval --output "$OUT/eval/clip-finetuned" --no-progress --quiet \
  --compare-to "$OUT/eval/clip-zero-shot/results.json"
cat "$OUT/eval/clip-finetuned/comparison.md"
monoir-eval --model "$OUT/models/tiny-llava" --adapter "$OUT/runs/vlm-lora" --tasks caption,scene --limit 64 \
  --batch-size 16 --output "$OUT/eval/vlm-finetuned" --no-progress --quiet \
  --compare-to "$OUT/eval/vlm-zero-shot/results.json"
cat "$OUT/eval/vlm-finetuned/comparison.md"

step "11. publish (dry run): model repo with card + model-index, dataset repo with card + checksums"
monoir publish model --path "$OUT/runs/clip" --repo-id demo-user/monoir-rs-tiny-clip \
  --results "$OUT/eval/clip-finetuned/results.json" --zero-shot "$OUT/eval/clip-zero-shot/results.json" \
  --folder "$OUT/hub/model" --dry-run
monoir publish dataset --data monoir-rs --repo-id demo-user/monoir-rs-sample --folder "$OUT/hub/dataset" --dry-run
echo
echo "model card:   $OUT/hub/model/README.md"
echo "dataset card: $OUT/hub/dataset/README.md"
echo "demo finished in $(( $(date +%s) - t0 )) s"
