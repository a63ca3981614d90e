"""Shared driver of the model rewriters: cache lookup, the prompt card, output clean-up, and one corrective
retry when an answer fails `check_caption` (the build's gate still judges the final text)."""

from __future__ import annotations

from monoir_rs.errors import UserError
from monoir_rs.rewrite.cache import RewriteCache, default_cache_path, input_key
from monoir_rs.rewrite.prompt import PROMPT_VERSION, SYSTEM_PROMPT, build_prompt, clean_output
from monoir_rs.rewrite.quality import check_caption

IMAGE_MODES = ("ir", "rgb", "both", "none")


def _int(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise UserError(f"rewriter option {name}={value!r} must be an integer") from err


class ModelRewriter:
    """Base of `openai:` and `hf:`; subclasses implement `_generate(prompts, images) -> list[str]`."""

    name = "?"

    def __init__(self, temperature: float = 0.2, max_tokens: int = 128, images: str = "ir",
                 gate_retries: int = 1, cache: str | None = None, use_cache: bool | str = True):
        self.temperature, self.max_tokens = float(temperature), _int(max_tokens, "max_tokens")
        if images not in IMAGE_MODES:
            raise UserError(f"rewriter option images={images!r}: use one of {', '.join(IMAGE_MODES)}")
        self.images, self.gate_retries = images, _int(gate_retries, "gate_retries")
        use = str(use_cache).lower() not in ("0", "false", "no", "off")
        self.cache = RewriteCache(cache or default_cache_path()) if use else None
        self.requests = 0  # model calls made (cache hits make none)

    # -- what identifies a rewrite (the cache key) and what the build report records
    def cache_settings(self) -> dict:
        return {"name": self.name, "prompt_version": PROMPT_VERSION, "temperature": self.temperature,
                "max_tokens": self.max_tokens, "images": self.images, "gate_retries": self.gate_retries}

    def settings(self) -> dict:
        return {**self.cache_settings(), "system_prompt": SYSTEM_PROMPT,
                "cache": str(self.cache.path) if self.cache is not None else None}

    def item_images(self, item) -> list:
        """PIL images sent with the prompt: the IR image (falling back to the RGB source), the RGB, both or none."""
        from PIL import Image

        def rgb():
            if item.rgb_path is None:
                return None
            try:
                with Image.open(item.rgb_path) as im:
                    return im.convert("RGB")
            except OSError as err:
                raise UserError(f"rewrite of {item.id}: cannot read image {item.rgb_path}: {err}") from err

        if self.images == "none":
            return []
        ir = item.ir_image.convert("RGB") if item.ir_image is not None else None
        if self.images == "ir":
            return [ir if ir is not None else rgb()] if (ir is not None or item.rgb_path) else []
        if self.images == "rgb":
            return [x for x in (rgb(),) if x is not None]
        return [x for x in (rgb(), ir) if x is not None]

    def rewrite_batch(self, items) -> list[str]:
        cached = self.cache is not None
        keys = [input_key(self.cache_settings(), it) if cached else None for it in items]
        out: list[str | None] = [self.cache.get(k) if cached else None for k in keys]
        todo = [i for i, t in enumerate(out) if t is None]
        computed = list(todo)
        problems: dict[int, list[str]] = {}
        for attempt in range(self.gate_retries + 1):
            if not todo:
                break
            prompts = [build_prompt(items[i].source_caption, items[i].scene_class, problems.get(i)) for i in todo]
            images = [self.item_images(items[i]) for i in todo]
            self.requests += len(todo)
            texts = [clean_output(t) for t in self._generate(prompts, images)]
            retry = []
            for i, text in zip(todo, texts, strict=True):
                out[i] = text
                bad = check_caption(text)
                if bad and attempt < self.gate_retries:
                    problems[i] = bad
                    retry.append(i)
            todo = retry
        if self.cache is not None:
            for i in computed:
                self.cache.put(keys[i], out[i] or "")
        return [t or "" for t in out]

    def _generate(self, prompts: list[str], images: list[list]) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError
