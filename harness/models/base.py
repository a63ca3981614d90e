"""The adapter contracts: one per model family. Evaluators and trainers talk to models only through these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class ModelInfo:
    """What results.json records about a model (SPEC §5 `model`)."""

    name: str                      # what the user typed (alias, Hub ID or local dir)
    id: str                        # resolved Hub ID or absolute local path
    family: str                    # "clip" | "vlm"
    backend: str                   # "transformers" | "open_clip"
    revision: str | None = None    # commit hash when known
    adapter: str | None = None     # PEFT adapter path/ID, if any
    extra: dict[str, Any] = field(default_factory=dict)

    def cache_key(self) -> str:
        """Stable identity of the weights that produce embeddings/generations."""
        return "|".join(str(x) for x in (self.id, self.revision, self.backend, self.adapter))


@runtime_checkable
class ClipAdapter(Protocol):
    """Dual encoder. Embeddings are returned L2-normalised, float32, on CPU."""

    info: ModelInfo
    preprocess_key: str            # identifies image transform + tokenizer settings (for the cache key)

    def preprocess_image(self, image) -> Any:            # PIL.Image -> tensor (C, H, W); picklable, runs in workers
        ...

    def tokenize(self, texts: list[str]) -> Any:         # -> model inputs for encode_texts
        ...

    def encode_images(self, pixel_values) -> Any:        # (B, C, H, W) -> (B, D) torch.FloatTensor
        ...

    def encode_texts(self, tokens) -> Any:               # tokenize() output -> (B, D) torch.FloatTensor
        ...


@runtime_checkable
class VlmAdapter(Protocol):
    """Generative model: images + prompts -> answers (prompt text trimmed off)."""

    info: ModelInfo

    def generate(self, images: list, prompts: list[str], max_new_tokens: int, **gen_kwargs) -> list[str]:
        ...
