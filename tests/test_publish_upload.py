"""The real upload path against a loopback HTTP server that speaks the part of the Hub API the installed
huggingface_hub calls (create repo, validate README YAML, preupload, LFS batch + PUT, commit): `monoir publish`
runs as a subprocess with HF_ENDPOINT pointing at it and a fake token, and the test checks one commit with
exactly the staged files, byte for byte, and that the token is in no written file and no output."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_FAKEtokenForLoopbackTests0123456789"
LFS_MIN = 4096  # files at least this big are sent through LFS, like the Hub does for binaries


class FakeHub:
    """Records every request; stores LFS uploads and commits."""

    def __init__(self):
        self.requests: list[tuple[str, str]] = []
        self.auth: set[str] = set()
        self.created: list[dict] = []
        self.commits: list[dict] = []
        self.lfs: dict[str, bytes] = {}
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _json(self, obj, status=200):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                hub.requests.append(("POST", self.path))
                hub.auth.add(self.headers.get("Authorization", ""))
                body = self._body()
                path = self.path.split("?")[0]
                if path == "/api/repos/create":
                    payload = json.loads(body)
                    hub.created.append(payload)
                    prefix = "datasets/" if payload.get("type") == "dataset" else ""
                    return self._json({"url": f"{hub.url}/{prefix}{payload['organization']}/{payload['name']}"})
                if path == "/api/validate-yaml":
                    return self._json({"errors": [], "warnings": []})
                if "/preupload/" in path:
                    files = json.loads(body)["files"]
                    return self._json({"files": [
                        {"path": f["path"], "uploadMode": "lfs" if f["size"] >= LFS_MIN else "regular",
                         "shouldIgnore": False} for f in files]})
                if path.endswith(".git/info/lfs/objects/batch"):
                    objs = json.loads(body)["objects"]
                    return self._json({"transfer": "basic", "objects": [
                        {"oid": o["oid"], "size": o["size"],
                         "actions": {"upload": {"href": f"{hub.url}/lfs-upload/{o['oid']}"}}} for o in objs]})
                if "/commit/" in path:  # /api/{type}s/{org}/{name}/commit/{revision}
                    lines = [json.loads(x) for x in body.decode().splitlines() if x.strip()]
                    hub.commits.append({"path": path, "lines": lines})
                    kind, org, name = path.split("/")[2:5]
                    oid = f"{len(hub.commits):040x}"
                    prefix = "" if kind == "models" else f"{kind}/"
                    return self._json({"commitUrl": f"{hub.url}/{prefix}{org}/{name}/commit/{oid}",
                                       "commitOid": oid, "pullRequestUrl": None})
                return self._json({"error": f"not implemented: POST {path}"}, 404)

            def do_PUT(self):
                hub.requests.append(("PUT", self.path))
                body = self._body()
                if self.path.startswith("/lfs-upload/"):
                    hub.lfs[self.path.rsplit("/", 1)[1]] = body
                    return self._json({})
                return self._json({"error": "not implemented"}, 404)

            def do_GET(self):
                hub.requests.append(("GET", self.path))
                return self._json({"error": f"not implemented: GET {self.path}"}, 404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def committed_files(self, commit: dict) -> dict[str, bytes]:
        """{path: content} of one commit, LFS pointers resolved to the uploaded bytes."""
        assert commit["lines"][0]["key"] == "header"
        out = {}
        for line in commit["lines"][1:]:
            v = line["value"]
            if line["key"] == "file":
                out[v["path"]] = base64.b64decode(v["content"])
            elif line["key"] == "lfsFile":
                data = self.lfs[v["oid"]]
                assert hashlib.sha256(data).hexdigest() == v["oid"] and len(data) == v["size"]
                out[v["path"]] = data
            else:
                raise AssertionError(f"unexpected commit operation {line['key']}")
        return out


@pytest.fixture
def hub():
    h = FakeHub()
    yield h
    h.server.shutdown()


def run_publish(args: list[str], hub: FakeHub, tmp_path: Path, token: str | None = TOKEN, token_file: bool = False):
    """Run `monoir publish ARGS` with the token in HF_TOKEN, or in the `hf auth login` file (HF_HOME/token)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="0", HF_HUB_DISABLE_XET="1", HF_HOME=str(tmp_path / "hf_home"),
               HF_HUB_DISABLE_TELEMETRY="1", PYTHONPATH=str(ROOT), TOKENIZERS_PARALLELISM="false",
               OMP_NUM_THREADS="1")
    if token and token_file:
        (tmp_path / "hf_home").mkdir(exist_ok=True)
        (tmp_path / "hf_home" / "token").write_text(token)
    elif token:
        env["HF_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "monoir_rs.cli", "publish", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def assert_token_nowhere(tmp_path: Path, *outputs: str) -> None:
    for text in outputs:
        assert TOKEN not in text
    for p in tmp_path.rglob("*"):
        if p.is_file() and "hf_home" not in p.parts:  # the login file itself holds it, by design
            assert TOKEN.encode() not in p.read_bytes(), p


def _expected(folder: Path) -> dict[str, bytes]:
    from monoir_rs.publish.files import repo_files

    return {p: (folder / p).read_bytes() for p, _ in repo_files(folder)}


def test_model_upload_is_one_commit_with_exactly_the_staged_files(hub, tmp_path, tiny_models):
    src = tmp_path / "run"
    import shutil

    shutil.copytree(tiny_models("open_clip"), src)
    folder = tmp_path / "repo"
    proc = run_publish(["model", "--path", str(src), "--repo-id", "monoir-test/ir-openclip", "--folder",
                        str(folder), "--private"], hub, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert hub.created == [{"name": "ir-openclip", "organization": "monoir-test", "visibility": "private",
                            "type": "model"}]
    assert len(hub.commits) == 1
    commit = hub.commits[0]
    assert commit["path"] == "/api/models/monoir-test/ir-openclip/commit/main"
    files = hub.committed_files(commit)
    assert files == _expected(folder)  # exactly the staged files, byte for byte
    assert {"open_clip_config.json", "open_clip_model.safetensors", "README.md"} <= set(files)
    assert hub.lfs  # the weights went through LFS
    assert f"Bearer {TOKEN}" in hub.auth  # the token from HF_TOKEN reached the Hub...
    assert "uploaded in one commit" in proc.stdout
    assert_token_nowhere(tmp_path, proc.stdout, proc.stderr)  # ...and nowhere else


def test_dataset_upload_and_refusals(hub, tmp_path, built_data):
    folder = tmp_path / "repo"
    proc = run_publish(["dataset", "--data", str(built_data), "--repo-id", "monoir-test/monoir-rs", "--folder",
                        str(folder)], hub, tmp_path, token_file=True)
    assert proc.returncode == 0, proc.stderr
    assert f"Bearer {TOKEN}" in hub.auth  # read from the login file
    assert [c["type"] for c in hub.created] == ["dataset"] and len(hub.commits) == 1
    assert hub.commits[0]["path"] == "/api/datasets/monoir-test/monoir-rs/commit/main"
    files = hub.committed_files(hub.commits[0])
    assert files == _expected(folder)
    assert "SHA256SUMS" in files and any(p.endswith(".parquet") for p in files)
    assert_token_nowhere(tmp_path, proc.stdout, proc.stderr)

    # no token anywhere: a clear error, nothing sent
    (tmp_path / "hf_home" / "token").unlink()
    n = len(hub.requests)
    proc = run_publish(["dataset", "--data", str(built_data), "--repo-id", "monoir-test/monoir-rs", "--folder",
                        str(folder)], hub, tmp_path, token=None)
    assert proc.returncode == 2 and "no Hugging Face token" in proc.stderr
    assert len(hub.requests) == n
