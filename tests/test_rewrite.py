"""IR-aware rewriters: `rules` (contextual colour → intensity), `openai:` against a loopback server, the cache,
and `check_caption`."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import realdata_or_skip
from PIL import Image

from monoir_rs.errors import UserError
from monoir_rs.keywords import K_IR, K_RGB, has_keyword, tokens
from monoir_rs.rewrite import RewriteInput, check_caption, get_rewriter
from monoir_rs.rewrite.rules import ACHROMATIC, EXTRA_COLOURS, rewrite_caption

# ---------------------------------------------------------------- check_caption


def test_check_caption_reasons():
    assert check_caption("") == ["empty"]
    assert check_caption("   ") == ["empty"]
    assert check_caption("bright roofs") == ["too_short"]
    assert check_caption("Green trees surround a bright stadium with strong contrast.") == ["rgb_color"]
    assert check_caption("Hot metallic roofs appear bright beside the dark river.") == ["overclaim"]
    assert check_caption("A stadium surrounded by many trees and a road.") == ["weak_ir"]
    assert check_caption("Bright roofs and dark water give strong intensity contrast.") == []


# ---------------------------------------------------------------- rules

CASES = {
    "white storage tanks stand near the port .": "bright storage tanks stand near the port .",
    "many green trees are planted around the building .":
        "many trees with mid-gray texture are planted around the building .",
    "A dark blue sea with white waves.": "A dark sea with bright waves.",
    "the sea is blue .": "the sea is dark .",
    "there are some red-roofed houses and an orange building .":
        "there are some bright-roofed houses and a bright building .",
    "the water with green color lies beside the beach .": "the water with dark intensity lies beside the beach .",
    "a yellow beach is next to the green ocean .": "a bright beach is next to the dark ocean .",
    "some buildings with blue and white roofs are near a road .":
        "some buildings with bright roofs are near a road .",
    "a black car is parked on the road .": "a dark car is parked on the road .",
    "the roof is silver and metallic .": "the roof is bright .",
}


@pytest.mark.parametrize("src", sorted(CASES))
def test_rules_cases(src):
    assert rewrite_caption(src) == CASES[src]


def test_rules_framing_and_determinism():
    out = rewrite_caption("the airport is very large .")
    assert has_keyword(out, K_IR) and "the airport is very large ." in out
    assert rewrite_caption("the airport is very large .") == out
    rw = get_rewriter("rules")
    items = [RewriteInput(id=str(i), source_caption=c) for i, c in enumerate(CASES)]
    assert rw.rewrite_batch(items) == [rewrite_caption(c) for c in CASES]
    assert rw.settings()["name"] == "rules"
    with pytest.raises(UserError):
        get_rewriter("rules", foo="1")
    with pytest.raises(UserError, match="unknown rewriter"):
        get_rewriter("gpt")


CLASS_WORDS = {"storagetanks": "storage tanks", "baseballfield": "baseball field",
               "railwaystation": "railway station", "denseresidential": "dense residential",
               "mediumresidential": "medium residential", "sparseresidential": "sparse residential"}


def _real_rows():
    root = realdata_or_skip("rs_captions")
    rows = []
    for ds in ("rsicd", "rsitmd"):
        caps = (root / f"{ds}_test_caps.txt").read_text().splitlines()
        names = (root / f"{ds}_test_filename.txt").read_text().splitlines()
        rows += list(zip(caps, names, strict=True))
    return rows


def test_rules_on_real_captions():
    rows = _real_rows()
    outs = [rewrite_caption(c) for c, _ in rows]
    n = len(rows)
    before = sum(has_keyword(c, K_RGB) for c, _ in rows) / n
    after = sum(has_keyword(o, K_RGB) for o in outs) / n
    achro = tuple(ACHROMATIC | EXTRA_COLOURS)
    achro_after = sum(has_keyword(re.sub("mid-gray", "", o, flags=re.I), achro) for o in outs) / n
    assert before > 0.2 and after == 0.0 and achro_after == 0.0
    assert sum(has_keyword(o, K_IR) for o in outs) == n
    kept = total = 0
    for (src, name), out in zip(rows, outs, strict=True):
        cls = name.rsplit("_", 1)[0] if "_" in name else None
        for w in CLASS_WORDS.get(cls, cls or "").split():
            if w in tokens(src):
                total += 1
                kept += w in tokens(out)
    assert total > 1000 and kept / total >= 0.95
    passing = sum(not check_caption(o) for o in outs) / n
    assert passing >= 0.99


# ---------------------------------------------------------------- openai: loopback server

GOOD = "Bright rooftops and dark water give strong intensity contrast around the harbor."


class _Server:
    """A chat-completions server on 127.0.0.1 that records requests and answers by rule."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body, "auth": self.headers["Authorization"]})
                if server.fail_next > 0:
                    server.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                user = body["messages"][-1]["content"]
                text = user if isinstance(user, str) else user[-1]["text"]
                if "BADFIRST" in text and "rejected because" not in text:
                    answer = "Green trees."
                else:
                    answer = f'Caption: "{GOOD}"'
                reply = {"id": "x", "object": "chat.completion", "model": body["model"],
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": answer}}]}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    s = _Server()
    yield s
    s.close()


def _items(tmp_path: Path):
    rgb = tmp_path / "a.png"
    Image.new("RGB", (16, 16), (20, 120, 30)).save(rgb)
    return [RewriteInput(id="a", source_caption="green trees near a white building", scene_class="forest",
                         rgb_path=rgb, ir_image=Image.new("L", (16, 16), 90)),
            RewriteInput(id="b", source_caption="a blue lake", scene_class="lake", rgb_path=rgb),
            RewriteInput(id="c", source_caption="BADFIRST red roofs", scene_class=None)]


def test_openai_loopback_cache_and_gate_retry(server, tmp_path):
    cache = tmp_path / "cache.sqlite"
    opts = dict(model="tiny-vl", cache=str(cache), temperature="0.3", max_tokens="77", workers="3",
                api_key="k123")
    rw = get_rewriter(f"openai:{server.url}", **opts)
    items = _items(tmp_path)
    out = rw.rewrite_batch(items)
    assert out == [GOOD, GOOD, GOOD]
    assert len(server.requests) == 4  # three items + one corrective retry for the caption that failed the gate
    first = server.requests[0]
    assert first["path"] == "/v1/chat/completions" and first["auth"] == "Bearer k123"
    bodies = {json.dumps(r["body"]) for r in server.requests}
    assert all('"model": "tiny-vl"' in b and '"temperature": 0.3' in b and '"max_tokens": 77' in b for b in bodies)
    assert any("data:image/png;base64," in b for b in bodies)
    assert any("green trees near a white building" in b for b in bodies)
    retry = [r for r in server.requests if "rejected because" in json.dumps(r["body"])]
    assert len(retry) == 1 and "colour word" in json.dumps(retry[0]["body"])
    # a restarted build (a new rewriter on the same cache) pays nothing
    n = len(server.requests)
    rw2 = get_rewriter(f"openai:{server.url}", **opts)
    assert rw2.rewrite_batch(items) == out
    assert len(server.requests) == n and rw2.requests == 0
    # different sampling settings are a different cache entry
    rw3 = get_rewriter(f"openai:{server.url}", **{**opts, "temperature": "0.9"})
    rw3.rewrite_batch(items[:1])
    assert len(server.requests) == n + 1
    s = rw.settings()
    assert s["base_url"] == server.url and s["model"] == "tiny-vl" and "k123" not in json.dumps(s)


def test_openai_retries_then_fails_clearly(server, tmp_path):
    server.fail_next = 1
    rw = get_rewriter(f"openai:{server.url}", cache=str(tmp_path / "c.sqlite"), retries="2")
    assert rw.rewrite_batch(_items(tmp_path)[:1]) == [GOOD]
    server.fail_next = 10
    rw = get_rewriter(f"openai:{server.url}", cache=str(tmp_path / "c2.sqlite"), retries="0")
    with pytest.raises(UserError, match="HTTP 503"):
        rw.rewrite_batch(_items(tmp_path)[:1])
    with pytest.raises(UserError, match="base URL"):
        get_rewriter("openai:localhost:8000")


# ---------------------------------------------------------------- hf: a tiny local VLM through the harness


def test_hf_rewriter_tiny_vlm_and_cache(tiny_models, tmp_path):
    path = tiny_models("llava")
    opts = dict(cache=str(tmp_path / "hf.sqlite"), max_tokens="8", temperature="0", batch_size="2")
    rw = get_rewriter(f"hf:{path}", **opts)
    items = [RewriteInput(id=str(i), source_caption="green trees near a white building", scene_class="forest",
                          ir_image=Image.new("L", (32, 32), 40 * i)) for i in range(3)]
    out = rw.rewrite_batch(items)
    assert len(out) == 3 and all(isinstance(t, str) for t in out)
    # random weights write gibberish: answers failing the gate are asked once more (3 first calls + ≤ 3 retries)
    assert 3 <= rw.requests <= 6
    again = get_rewriter(f"hf:{path}", **opts)
    assert again.rewrite_batch(items) == out and again.requests == 0
    s = rw.settings()
    assert s["name"] == f"hf:{path}" and s["revision"] and s["batch_size"] == 2
    with pytest.raises(UserError, match="needs an image"):
        get_rewriter(f"hf:{path}", images="none", cache=str(tmp_path / "x.sqlite"))
