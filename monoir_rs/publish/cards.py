"""Render the Jinja templates in `model_cards/` (strict: a missing variable is an error, not a blank)."""

from __future__ import annotations

import os
from pathlib import Path

TEMPLATES = Path(os.environ.get("MONOIR_CARDS_PATH") or Path(__file__).resolve().parents[2] / "model_cards")

CITATION = """@misc{han2026monoirrs,
  title  = {MonoIR-RS: Infrared Remote Sensing Vision-Language Learning with CLIP and VLM Adaptation},
  author = {Han, Jiaju and Ma, Yaqi and Chai, Yahui and Sun, Xuemeng and Li, Xin and Zhang, Qike and
            Zhao, Yingying and Chen, Xiang and Yang, Luwei and Hu, Chengyin and Long, Jiahuan},
  year   = {2026}
}"""


def render(template: str, **context) -> str:
    """Render `model_cards/<template>` with `context`."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template(template).render(**context)


def model_card(card_data, **context) -> str:
    """The text of README.md from `model_card.md.j2`; its YAML header is `card_data.to_yaml()`.

    The text is written as rendered: `ModelCard.save` would re-serialise the header through the stock
    `ModelCardData` and merge `model-index` groups (see `monoir_rs.publish.results.model_index`)."""
    return render("model_card.md.j2", card_data=card_data.to_yaml(), citation=CITATION, **context)
