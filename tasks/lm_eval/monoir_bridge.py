"""lm-eval resolves `!function monoir_bridge.X` to this file; everything lives in harness.lm_eval_bridge."""
from harness.lm_eval_bridge import (  # noqa: F401
    bleu4_aggregation, cider_aggregation, doc_to_image, doc_to_text, load_split, mean_skip_none,
    process_results,
)
