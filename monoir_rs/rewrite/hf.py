"""`hf:MODEL`: IR-aware rewriting with any VLM the harness can load (Hub ID, alias or local directory), batched
through `harness.registry.load_model(MODEL).generate(images, prompts, max_new_tokens)`.

Options: `device` (cpu), `dtype`, `batch_size` 8, `trust_remote_code` false, and the common ones of
`rewrite.base.ModelRewriter` (temperature 0.2 — 0 means greedy — max_tokens 128, images, gate_retries, cache).
`harness` is imported only when the rewriter is built (the corpus layer does not depend on it).
"""

from __future__ import annotations

from monoir_rs.errors import UserError
from monoir_rs.rewrite.base import ModelRewriter, _int
from monoir_rs.rewrite.prompt import SYSTEM_PROMPT


class HFRewriter(ModelRewriter):
    def __init__(self, model: str, device: str = "cpu", dtype: str | None = None, batch_size: int = 8,
                 trust_remote_code: bool | str = False, **opts):
        super().__init__(**opts)
        if self.images == "none":
            raise UserError(f"rewriter hf:{model}: a VLM needs an image; use images=ir, rgb or both")
        from harness.registry import load_model

        self.model_name, self.device, self.dtype = model, device, dtype
        self.batch_size = max(1, _int(batch_size, "batch_size"))
        trust = str(trust_remote_code).lower() in ("1", "true", "yes")
        self.adapter = load_model(model, device=device, dtype=dtype, trust_remote_code=trust)
        if not hasattr(self.adapter, "generate"):
            raise UserError(f"rewriter hf:{model}: {model} is not a vision-language model (it has no generate); "
                            "give a VLM such as qwen2.5-vl-7b")
        self.name = f"hf:{model}"

    def cache_settings(self) -> dict:
        info = getattr(self.adapter, "info", None)
        return {**super().cache_settings(), "name": "hf", "model": self.model_name,
                "resolved": getattr(info, "id", None), "revision": getattr(info, "revision", None)}

    def settings(self) -> dict:
        return {**super().settings(), "name": self.name, "device": self.device, "dtype": self.dtype,
                "batch_size": self.batch_size}

    def _generate(self, prompts: list[str], images: list[list]) -> list[str]:
        gen = {"do_sample": True, "temperature": self.temperature} if self.temperature > 0 else {"do_sample": False}
        out: list[str] = []
        for s in range(0, len(prompts), self.batch_size):
            ps = [f"{SYSTEM_PROMPT}\n\n{p}" for p in prompts[s:s + self.batch_size]]
            ims = []
            for k, im in enumerate(images[s:s + self.batch_size]):
                if not im:
                    raise UserError(f"rewriter {self.name}: item {s + k} of the batch has neither an IR image "
                                    "nor a readable RGB path")
                ims.append(im[-1])  # the IR image when both are sent (single-image prompt)
            out.extend(self.adapter.generate(ims, ps, self.max_tokens, **gen))
        return out
