"""`openai:BASE_URL`: IR-aware rewriting through an OpenAI-compatible chat-completions server, e.g. vLLM serving
Qwen2.5-VL-72B-Instruct as in the paper (`vllm serve Qwen/Qwen2.5-VL-72B-Instruct` then
`--rewriter openai:http://HOST:8000/v1`).

Options (`--rewriter-opt k=v`): `model` (default `$MONOIR_RS_REWRITE_MODEL`, else
`Qwen/Qwen2.5-VL-72B-Instruct`), `api_key` (default `$OPENAI_API_KEY`, else "EMPTY"; never recorded),
`temperature` 0.2, `max_tokens` 128, `seed` 0, `workers` 8 (concurrent requests), `retries` 4 (connection
errors, timeouts, HTTP 408/409/429/5xx; exponential back-off from 1 s), `timeout` 120 s, `images`
ir|rgb|both|none, `gate_retries` 1, `cache` PATH (SQLite, see `rewrite.cache`), `use_cache` true.
Images go as base64 PNG data URLs. Plain `urllib`: no client library needed.
"""

from __future__ import annotations

import base64
import io
import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from monoir_rs.errors import UserError
from monoir_rs.rewrite.base import ModelRewriter, _int
from monoir_rs.rewrite.prompt import SYSTEM_PROMPT

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-72B-Instruct"
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def data_url(image) -> str:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class OpenAIRewriter(ModelRewriter):
    def __init__(self, base_url: str, model: str | None = None, api_key: str | None = None, seed: int = 0,
                 workers: int = 8, retries: int = 4, timeout: float = 120, **opts):
        if not base_url.startswith(("http://", "https://")):
            raise UserError(f"rewriter openai:{base_url}: give the server's base URL, e.g. "
                            "openai:http://localhost:8000/v1")
        super().__init__(**opts)
        self.base_url = base_url.rstrip("/")
        self.model = model or os.environ.get("MONOIR_RS_REWRITE_MODEL") or DEFAULT_MODEL
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.seed, self.workers = _int(seed, "seed"), max(1, _int(workers, "workers"))
        self.retries, self.timeout = _int(retries, "retries"), float(timeout)
        self.name = f"openai:{self.base_url}"

    def cache_settings(self) -> dict:
        # the server address is not part of a rewrite's identity; the model and sampling settings are
        return {**super().cache_settings(), "name": "openai", "model": self.model, "seed": self.seed}

    def settings(self) -> dict:
        return {**super().settings(), "name": self.name, "base_url": self.base_url, "workers": self.workers,
                "retries": self.retries, "timeout_s": self.timeout}

    def _generate(self, prompts: list[str], images: list[list]) -> list[str]:
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(self._one, prompts, images))

    def _one(self, prompt: str, images: list) -> str:
        content = ([{"type": "image_url", "image_url": {"url": data_url(im)}} for im in images]
                   + [{"type": "text", "text": prompt}]) if images else prompt
        body = {"model": self.model, "temperature": self.temperature, "max_tokens": self.max_tokens,
                "seed": self.seed, "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                                                {"role": "user", "content": content}]}
        data = json.dumps(body).encode("utf-8")
        last = ""
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(f"{self.base_url}/chat/completions", data=data, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {self.api_key}"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    reply = json.loads(resp.read().decode("utf-8"))
                return reply["choices"][0]["message"]["content"] or ""
            except urllib.error.HTTPError as err:
                last = f"HTTP {err.code}: {err.read()[:300]!r}"
                if err.code not in RETRY_STATUS:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                last = str(getattr(err, "reason", err))
            except (KeyError, IndexError, TypeError, ValueError) as err:
                last = f"malformed reply ({err})"
            if attempt < self.retries:
                time.sleep(min(30.0, 1.0 * 2 ** attempt))
        raise UserError(f"rewriter {self.name} (model {self.model}) failed after {self.retries + 1} attempts: "
                        f"{last}. Check that the server is up and serves this model; finished rewrites are "
                        "cached, so re-running the build resumes.")
